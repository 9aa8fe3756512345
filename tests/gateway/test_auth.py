"""Login, access tokens, refresh rotation and revocation, and the login rate limit."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt
import pytest
import sqlalchemy as sa

from common.db import utcnow

from tests.gateway.conftest import SECRET
from tests.gateway.helpers import PASSWORD, assert_problem, bearer, login

ME = "/api/v1/me"


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_login_returns_a_token_pair(client, make_user):
    user = make_user("maria", "manager")
    response = login(client, "MARIA")
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["refresh_token"] and body["access_token"]
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], audience="crm-api")
    assert claims["sub"] == str(user.id) and claims["role"] == "manager"
    assert claims["iss"] == "crm-gateway" and claims["exp"] - claims["iat"] == 900
    assert claims["jti"] and claims["sid"] and "team_id" in claims
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["username"] == "maria" and "password_hash" not in me.get_json()
    assert me.get_json()["last_login_at"] is not None


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    make_user("sam")
    started = time.perf_counter()
    wrong = login(client, "sam", "wrong-password")
    wrong_seconds = time.perf_counter() - started
    started = time.perf_counter()
    unknown = login(client, "nobody", "wrong-password")
    unknown_seconds = time.perf_counter() - started
    wrong_body = assert_problem(wrong, 401, "unauthorized")
    unknown_body = assert_problem(unknown, 401, "unauthorized")
    assert {**wrong_body, "request_id": None} == {**unknown_body, "request_id": None}
    # Both verify an argon2 hash (a dummy one for the unknown user): same order of time.
    assert unknown_seconds > wrong_seconds / 4


def test_inactive_user_cannot_log_in(client, make_user):
    make_user("gone", active=False)
    assert_problem(login(client, "gone"), 401, "unauthorized")


def test_no_token_is_401(client):
    body = assert_problem(client.get(ME), 401, "unauthorized")
    assert body["detail"] == "Authentication required."


def _token(user, sid, key=SECRET, algorithm="HS256", **changes):
    """An access token like the gateway's, with ``changes`` (None drops a claim)."""
    now = dt.datetime.now(dt.timezone.utc)
    claims = {
        "sub": str(user.id), "role": user.role, "team_id": None, "iat": now,
        "exp": now + dt.timedelta(minutes=15), "aud": "crm-api", "iss": "crm-gateway",
        "jti": uuid.uuid4().hex, "sid": sid, **changes,
    }
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)}, id="expired"),
        pytest.param({"key": "another-secret-of-32-bytes-or-more!!"}, id="tampered-signature"),
        pytest.param({"algorithm": "none", "key": None}, id="alg-none"),
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"iss": "evil"}, id="wrong-issuer"),
        pytest.param({"jti": None}, id="missing-jti"),
        pytest.param({"sid": None}, id="missing-sid"),
        pytest.param({"sub": "not-a-uuid"}, id="bad-subject"),
    ],
)
def test_bad_access_tokens_are_refused(client, make_user, changes):
    user = make_user("sam")
    family = jwt.decode(login(client, "sam").get_json()["access_token"],
                        options={"verify_signature": False})["sid"]
    assert client.get(ME, headers=bearer(_token(user, sid=family))).status_code == 200
    token = _token(user, **{"sid": family, **changes})
    body = assert_problem(client.get(ME, headers=bearer(token)), 401, "unauthorized")
    assert body["detail"] == "Invalid or expired token."


def test_tampered_payload_is_refused(client, make_user):
    make_user("sam", "sales")
    header, payload, signature = login(client, "sam").get_json()["access_token"].split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"sales"', b'"admin"')
    ).decode()
    response = client.get(ME, headers=bearer(f"{header}.{forged_payload}.{signature}"))
    assert_problem(response, 401, "unauthorized")


def test_refresh_rotates(client, make_user):
    make_user("sam")
    first = login(client, "sam").get_json()
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200


def test_reused_refresh_token_revokes_its_family(client, make_user):
    make_user("sam")
    first = login(client, "sam").get_json()
    second = refresh(client, first["refresh_token"]).get_json()
    assert_problem(refresh(client, first["refresh_token"]), 401, "unauthorized")
    assert_problem(refresh(client, second["refresh_token"]), 401, "unauthorized")
    assert_problem(client.get(ME, headers=bearer(second["access_token"])), 401, "unauthorized")
    # Another login is another family, untouched.
    other = login(client, "sam").get_json()
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200


def test_a_refresh_token_of_a_revoked_or_too_old_session_is_refused(client, make_user, db):
    """The family decides, not only the token: one issued in the same moment its session
    was revoked is refused, and so is any after the session's absolute lifetime."""
    from gateway.auth import tokens
    from gateway.models import RefreshToken

    make_user("sam")
    pair = login(client, "sam").get_json()
    first = db.scalars(sa.select(RefreshToken)).one()
    first.revoked_at = utcnow()  # revoked; the token the client holds is the family's first
    db.commit()
    assert_problem(refresh(client, pair["refresh_token"]), 401, "unauthorized")

    pair = login(client, "sam").get_json()
    newest = db.scalars(sa.select(RefreshToken).where(RefreshToken.revoked_at.is_(None))).one()
    newest.issued_at = utcnow() - tokens.SESSION_LIFETIME - dt.timedelta(minutes=1)
    db.commit()
    assert_problem(refresh(client, pair["refresh_token"]), 401, "unauthorized")


def test_an_access_token_allows_a_little_clock_skew(client, make_user, app):
    """Issued by a pod whose clock runs a few seconds ahead: still valid here."""
    from gateway.auth import tokens

    user = make_user("sam")
    ahead = utcnow() + dt.timedelta(seconds=10)
    claims = {"sub": str(user.id), "role": "sales", "team_id": None, "iat": ahead,
              "nbf": ahead, "exp": ahead + tokens.ACCESS_TTL, "aud": tokens.AUDIENCE,
              "iss": tokens.ISSUER, "jti": "j", "sid": str(uuid.uuid4())}
    with app.app_context():
        token = jwt.encode(claims, SECRET, algorithm=tokens.ALGORITHM)
        assert tokens.decode_access_token(token)["sub"] == str(user.id)


def test_unknown_refresh_token_is_401(client):
    assert_problem(refresh(client, "not-a-token"), 401, "unauthorized")


def test_logout_revokes_the_session(client, make_user):
    make_user("sam")
    tokens = login(client, "sam").get_json()
    response = client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "unauthorized")
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "unauthorized")


def test_deactivated_user_is_refused_at_once(client, make_user, admin_headers):
    sam = make_user("sam")
    tokens = login(client, "sam").get_json()
    response = client.patch(f"/api/v1/users/{sam.id}", json={"active": False, "version": 1},
                            headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "unauthorized")
    assert_problem(refresh(client, tokens["refresh_token"]), 401, "unauthorized")


def test_failed_logins_per_username_are_rate_limited(client, make_user):
    make_user("sam")
    for _ in range(10):
        assert login(client, "sam", "wrong-password").status_code == 401
    response = login(client, "sam", PASSWORD)
    body = assert_problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert body["detail"].startswith("Too many failed login attempts")
    chinese = login(client, "sam", PASSWORD, headers={"Accept-Language": "zh-CN"})
    assert "登录失败次数过多" in chinese.get_json()["detail"]


def test_failed_logins_per_client_address_meet_a_ceiling(client, make_user, monkeypatch):
    """Many usernames tried from one address: its ceiling (100 per 5 minutes, 3 here)."""
    from gateway.auth import ratelimit

    monkeypatch.setitem(ratelimit.LOGIN_LIMITS, "address", ratelimit.Limit(3, 300))
    make_user("sam")
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(3):
        assert login(client, f"guess{n}", "wrong-password", environ_base=attacker).status_code == 401
    assert_problem(login(client, "sam", environ_base=attacker), 429, "rate_limited")
    assert login(client, "sam").status_code == 200  # from another address


def test_an_attempt_counts_before_its_password_is_hashed(client, make_user, monkeypatch, db):
    """While hashes run, a burst of attempts cannot outrun the limit: each is counted first
    (and a right one is taken back, its username-and-address count cleared)."""
    from gateway.auth import passwords
    from gateway.blueprints import auth
    from gateway.models import RateLimitCounter

    def login_counts():
        db.rollback()  # a new transaction: what the gateway committed since
        rows = db.scalars(sa.select(RateLimitCounter).where(RateLimitCounter.key.like("login:%")))
        return {row.key: row.count for row in rows}

    make_user("sam")
    counted = []
    real_verify = auth.verify_password

    def verify(stored, password):
        counted.append(login_counts().get("login:user:sam"))
        return real_verify(stored, password)

    monkeypatch.setattr(auth, "verify_password", verify)
    assert login(client, "sam", "wrong-password").status_code == 401
    assert login(client, "sam").status_code == 200
    assert counted == [1, 2]  # each attempt was counted before its hash
    assert login_counts() == {"login:user:sam": 1, "login:address:127.0.0.1": 1}
    assert passwords._slots._value == passwords.config.password_hash_slots()  # all given back


def test_sign_ins_beyond_the_hashing_slots_are_told_to_retry(client, make_user, monkeypatch):
    from gateway.auth import passwords

    make_user("sam")
    monkeypatch.setattr(passwords, "SLOT_WAIT", 0.05)
    held = 0
    while passwords._slots.acquire(blocking=False):  # every slot busy hashing elsewhere
        held += 1
    try:
        for _ in range(12):  # more than the failed sign-ins a client may make
            response = login(client, "sam")
            assert_problem(response, 503, "service_unavailable")
            assert response.headers["Retry-After"] == "1"
    finally:
        for _ in range(held):
            passwords._slots.release()
    # Told to retry, never checked: none of them counts as a failed sign-in.
    assert login(client, "sam").status_code == 200


def test_weaker_hash_is_upgraded_at_login(client, make_user, db):
    from argon2 import PasswordHasher

    from gateway.auth.passwords import _hasher

    old_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    sam = make_user("sam")
    sam.password_hash = old_hash
    db.commit()
    version = sam.version
    assert login(client, "sam").status_code == 200
    db.refresh(sam)
    assert sam.password_hash != old_hash and not _hasher.check_needs_rehash(sam.password_hash)
    assert sam.version == version  # logging in is not an edit
    assert login(client, "sam").status_code == 200


def test_behind_a_trusted_proxy_the_rate_limit_keys_on_the_client(make_app, monkeypatch):
    """Each client behind the proxy has its own login budget."""
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "1")
    client = make_app().test_client()
    for _ in range(10):
        client.post("/api/v1/auth/login", json={"username": "other", "password": "x" * 10},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    limited = client.post("/api/v1/auth/login", json={"username": "other", "password": "x" * 10},
                          headers={"X-Forwarded-For": "203.0.113.7"})
    assert limited.status_code == 429
    other_client = client.post("/api/v1/auth/login", json={"username": "other", "password": "x" * 10},
                               headers={"X-Forwarded-For": "198.51.100.9"})
    assert other_client.status_code == 401


def test_a_verified_token_is_remembered_but_refused_once_it_expires(client, make_user,
                                                                   monkeypatch):
    """A token verified once is taken from the worker's memory on the next request, only
    until its expiry."""
    from gateway.auth import tokens

    user = make_user("sam")
    family = jwt.decode(login(client, "sam").get_json()["access_token"],
                        options={"verify_signature": False})["sid"]
    # Expired a moment ago: valid only through the leeway, for CLOCK_LEEWAY from now.
    token = _token(user, sid=family, exp=dt.datetime.now(dt.timezone.utc))
    verified = []
    real_decode = tokens.jwt.decode
    monkeypatch.setattr(tokens.jwt, "decode",
                        lambda *args, **kwargs: verified.append(1) or real_decode(*args, **kwargs))
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert len(verified) == 1  # the second time from memory
    monkeypatch.setattr(tokens, "CLOCK_LEEWAY", dt.timedelta(0))  # its expiry now passed
    body = assert_problem(client.get(ME, headers=bearer(token)), 401, "unauthorized")
    assert body["detail"] == "Invalid or expired token."


def test_a_remembered_token_is_refused_after_logout(client, make_user):
    make_user("sam")
    tokens = login(client, "sam").get_json()
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
    response = client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "unauthorized")
