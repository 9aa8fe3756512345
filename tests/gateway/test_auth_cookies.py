"""A browser's session kept in cookies: the refresh token where no script reads it, and the
CSRF header the routes that spend it want."""
from __future__ import annotations

import pytest

from gateway.auth.cookies import CSRF_COOKIE, REFRESH_COOKIE
from tests.gateway.helpers import PASSWORD, assert_problem, bearer

AUTH = "/api/v1/auth"


def cookie_login(client, username="sam", **kwargs):
    return client.post(f"{AUTH}/login", json={"username": username, "password": PASSWORD,
                                              "session": "cookie"}, **kwargs)


def set_cookies(response) -> dict[str, str]:
    """name -> the Set-Cookie header that sets it."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def refresh_cookie(client):
    return client.get_cookie(REFRESH_COOKIE, path="/api/v1/auth")


def csrf(client) -> dict:
    return {"X-CSRF-Token": client.get_cookie(CSRF_COOKIE).value}


@pytest.fixture
def sam(make_user):
    return make_user("sam", "sales")


def test_a_cookie_login_keeps_the_refresh_token_out_of_scripts_reach(client, sam):
    answer = cookie_login(client)
    assert answer.status_code == 200
    body = answer.get_json()
    assert "refresh_token" not in body and body["access_token"] and body["expires_in"] == 900
    cookies = set_cookies(answer)
    refresh = cookies[REFRESH_COOKIE]
    assert "HttpOnly" in refresh and "SameSite=Strict" in refresh
    assert "Path=/api/v1/auth" in refresh and "Max-Age=1209600" in refresh
    csrf_cookie = cookies[CSRF_COOKIE]
    assert "HttpOnly" not in csrf_cookie and "SameSite=Strict" in csrf_cookie
    assert "Path=/" in csrf_cookie
    # Always Secure: browsers keep it over plain HTTP to localhost alone (development).
    assert "; Secure" in refresh and "; Secure" in csrf_cookie
    assert client.get("/api/v1/me", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_by_cookie_wants_the_csrf_header_and_replaces_both_cookies(client, sam):
    cookie_login(client)
    before = refresh_cookie(client).value
    body = assert_problem(client.post(f"{AUTH}/refresh"), 403, "forbidden")
    assert "X-CSRF-Token" in body["detail"]
    assert_problem(client.post(f"{AUTH}/refresh", headers={"X-CSRF-Token": "forged"}),
                   403, "forbidden")
    assert refresh_cookie(client).value == before  # nothing was spent

    answer = client.post(f"{AUTH}/refresh", headers=csrf(client))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "refresh_token" not in answer.get_json() and answer.get_json()["access_token"]
    after = refresh_cookie(client).value
    assert after != before
    # The old token is spent: sending it again (a stolen copy) ends the session.
    assert client.post(f"{AUTH}/refresh", json={"refresh_token": before}).status_code == 401
    assert client.post(f"{AUTH}/refresh", headers=csrf(client)).status_code == 401
    assert refresh_cookie(client) is None  # removed with the 401


def test_a_csrf_cookie_of_another_session_does_not_pass(client, sam, make_user):
    make_user("sara", "sales")
    other = client.application.test_client()
    cookie_login(other, "sara")
    cookie_login(client)
    assert_problem(client.post(f"{AUTH}/refresh", headers=csrf(other)), 403, "forbidden")


def test_logout_by_cookie_revokes_the_session_and_removes_the_cookies(client, sam):
    access = cookie_login(client).get_json()["access_token"]
    assert_problem(client.post(f"{AUTH}/logout"), 403, "forbidden")
    assert client.post(f"{AUTH}/logout", headers=csrf(client)).status_code == 204
    assert refresh_cookie(client) is None and client.get_cookie(CSRF_COOKIE) is None
    assert client.get("/api/v1/me", headers=bearer(access)).status_code == 401


def test_refresh_without_a_token_or_a_cookie_names_the_field_in_both_languages(client):
    body = assert_problem(client.post(f"{AUTH}/refresh", json={}), 400, "validation_failed")
    assert "crm_refresh cookie" in body["errors"]["refresh_token"][0]
    body = client.post(f"{AUTH}/refresh", json={},
                       headers={"Accept-Language": "zh-CN"}).get_json()
    assert "必填" in body["errors"]["refresh_token"][0]


def test_the_body_session_is_unchanged(client, sam):
    answer = client.post(f"{AUTH}/login", json={"username": "sam", "password": PASSWORD})
    assert answer.get_json()["refresh_token"] and not answer.headers.getlist("Set-Cookie")
    bad = client.post(f"{AUTH}/login", json={"username": "sam", "password": PASSWORD,
                                             "session": "jar"})
    assert "session" in assert_problem(bad, 400, "validation_failed")["errors"]
