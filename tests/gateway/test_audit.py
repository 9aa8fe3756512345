"""The audit trail: security events recorded with who, what, when and from where, committed
with what they record, readable by admins only, filtered, and never changed through the API."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import jwt
import pytest
import sqlalchemy as sa

from common import retention
from common.actor import Actor
from gateway import database
from gateway.audit import ACTIONS
from gateway.identity import users
from gateway.identity.schemas import AUDIT_TIME_HELP
from gateway.models import AuditEntry, platform
from tests.gateway.helpers import PASSWORD, assert_problem, bearer, login

AUDIT = "/api/v1/audit"
CLIENT = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "AuditTest/1.0 (" + "x" * 300 + ")"}


def entries(client, headers, **filters) -> list[dict]:
    response = client.get(AUDIT, query_string={"per_page": 200, **filters}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def the_entry(client, headers, **filters) -> dict:
    found = entries(client, headers, **filters)
    assert len(found) == 1, found
    return found[0]


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


@pytest.fixture
def admin_id(client, admin_headers) -> str:
    return client.get("/api/v1/me", headers=admin_headers).get_json()["id"]


def test_logins_are_recorded_with_the_username_and_where_they_came_from(
        client, admin_headers, make_user):
    sam = make_user("sam")
    client.environ_base.update(CLIENT)
    succeeded = login(client, "Sam", headers={"X-Request-Id": "audit-login-1"})
    assert succeeded.status_code == 200
    assert login(client, "sam", "wrong-password").status_code == 401
    assert login(client, "nobody", "wrong-password").status_code == 401

    unknown, wrong, right, admins = entries(client, admin_headers, action="login.")
    assert [unknown["action"], wrong["action"], right["action"], admins["action"]] == [
        "login.failed", "login.failed", "login.succeeded", "login.succeeded"]
    assert right["actor_id"] == str(sam.id) and right["actor_name"] == "sam"
    assert right["actor_role"] == "sales"
    assert (right["target_type"], right["target_id"]) == ("user", str(sam.id))
    assert right["address"] == "203.0.113.7" and right["request_id"] == "audit-login-1"
    assert right["user_agent"] == CLIENT["HTTP_USER_AGENT"][:200]
    # A failed login: nobody known, the username attempted, the account aimed at (if any).
    assert (wrong["actor_id"], wrong["actor_role"], wrong["actor_name"]) == (None, None, "sam")
    assert wrong["target_id"] == str(sam.id) and wrong["address"] == "203.0.113.7"
    # No account of that name: the name is not kept (people type passwords into it).
    assert (unknown["actor_name"], unknown["target_id"]) == (None, None)
    assert admins["actor_name"] == "admin" and admins["address"] == "127.0.0.1"


def test_behind_a_trusted_proxy_the_address_is_the_client(make_app, monkeypatch, make_user):
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "1")
    client = make_app().test_client()
    make_user("admin", "admin")
    headers = bearer(login(client, "admin").get_json()["access_token"])
    login(client, "sam", "wrong-password", headers={"X-Forwarded-For": "198.51.100.20"})
    assert the_entry(client, headers, action="login.failed")["address"] == "198.51.100.20"


def test_a_throttled_client_is_recorded_once_per_window(client, admin_headers, make_user):
    """One row for a guesser's lockout, not one per try: the trail is never pruned."""
    make_user("sam")
    for _ in range(10):
        assert login(client, "sam", "wrong-password").status_code == 401
    for _ in range(5):
        assert_problem(login(client, "sam"), 429, "rate_limited")

    assert len(entries(client, admin_headers, action="login.failed")) == 10
    throttled = entries(client, admin_headers, action="login.throttled")
    assert len(throttled) == 1
    assert throttled[0]["actor_name"] == "sam" and throttled[0]["actor_id"] is None
    assert 0 < throttled[0]["details"]["retry_after"] <= 300


def test_a_logout_and_a_reused_refresh_token_are_recorded(client, admin_headers, make_user):
    sam = make_user("sam")
    first = login(client, "sam").get_json()
    session_id = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    assert refresh(client, first["refresh_token"]).status_code == 200
    assert_problem(refresh(client, first["refresh_token"]), 401, "unauthorized")
    reused = the_entry(client, admin_headers, action="refresh.reused")
    assert reused["actor_id"] == str(sam.id) and reused["target_id"] == str(sam.id)
    assert reused["details"] == {"session_id": session_id}

    second = login(client, "sam").get_json()
    assert client.post("/api/v1/auth/logout", json={"refresh_token": second["refresh_token"]}
                       ).status_code == 204
    logout = the_entry(client, admin_headers, action="logout")
    assert logout["actor_id"] == str(sam.id) and logout["actor_name"] == "sam"
    assert logout["details"]["session_id"] != session_id


def test_user_changes_are_recorded_with_what_changed(client, admin_headers, admin_id):
    created = client.post("/api/v1/users", headers=admin_headers, json={
        "username": "wang.wei", "password": "a-long-password", "role": "sales"}).get_json()
    path = f"/api/v1/users/{created['id']}"
    changes = ({"role": "manager", "display_name": "Wang Wei"}, {"password": "another-long-one"},
               {"active": False}, {"active": True}, {"display_name": "Wang Wei"})
    version = created["version"]
    for change in changes:
        response = client.patch(path, json={**change, "version": version}, headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        version = response.get_json()["version"]

    trail = entries(client, admin_headers, target_id=created["id"])
    assert [e["action"] for e in reversed(trail)] == [
        "user.created", "user.updated", "user.password_changed", "user.deactivated",
        "user.reactivated"]  # the last PATCH changed nothing: nothing recorded
    made, updated = trail[-1], trail[-2]
    assert made["details"]["username"] == "wang.wei" and made["details"]["role"] == "sales"
    assert updated["details"] == {"changes": {
        "display_name": {"from": "wang.wei", "to": "Wang Wei"},
        "role": {"from": "sales", "to": "manager"}}}
    assert all(e["actor_id"] == admin_id and e["actor_role"] == "admin" for e in trail)
    assert all(e["target_type"] == "user" and e["request_id"] for e in trail)


def test_team_changes_are_recorded(client, admin_headers, make_user):
    maria = make_user("maria", "manager")
    team = client.post("/api/v1/teams", json={"name": "North"}, headers=admin_headers).get_json()
    renamed = client.patch(f"/api/v1/teams/{team['id']}", headers=admin_headers,
                           json={"name": "North-East", "manager_id": str(maria.id), "version": 1})
    assert renamed.status_code == 200
    updated, created = entries(client, admin_headers, target_type="team")
    assert created["action"] == "team.created" and created["details"]["name"] == "North"
    assert updated["action"] == "team.updated" and updated["details"] == {"changes": {
        "manager_id": {"from": None, "to": str(maria.id)},
        "name": {"from": "North", "to": "North-East"}}}


def test_api_keys_made_and_revoked_are_recorded_without_the_key(client, admin_headers, admin_id):
    made = client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["customers:read"]},
                       headers=admin_headers).get_json()
    assert client.delete(f"/api/v1/api-keys/{made['id']}", headers=admin_headers).status_code == 204
    revoked, created = entries(client, admin_headers, target_id=made["id"])
    assert created["action"] == "api_key.created" and revoked["action"] == "api_key.revoked"
    assert created["details"] == {"name": "ERP", "scopes": ["customers:read"]}
    assert created["actor_id"] == admin_id and created["target_type"] == "api_key"
    assert made["key"] not in json.dumps(created)


def test_a_change_that_does_not_commit_records_nothing(client, admin_headers):
    body = {"username": "wang.wei", "password": "a-long-password", "role": "sales"}
    repeat = {**admin_headers, "Idempotency-Key": "make-wang-once"}
    first = client.post("/api/v1/users", json=body, headers=repeat)
    assert client.post("/api/v1/users", json=body, headers=repeat).get_json() == first.get_json()
    assert_problem(client.post("/api/v1/users", json=body, headers=admin_headers), 409, "conflict")
    stale = client.patch(f"/api/v1/users/{first.get_json()['id']}", headers=admin_headers,
                         json={"role": "manager", "version": 7})
    assert_problem(stale, 409, "conflict")
    made = the_entry(client, admin_headers, action="user.")
    assert made["action"] == "user.created" and made["target_id"] == first.get_json()["id"]


def test_a_command_is_recorded_as_the_system(unit_of_work, client, admin_headers):
    with unit_of_work(Actor.system("seed")) as uow:
        users.create_user(uow, {"username": "seeded", "password": PASSWORD, "role": "analyst"})
    seeded = the_entry(client, admin_headers, action="user.created")
    assert (seeded["actor_id"], seeded["actor_role"], seeded["actor_name"]) == (None, "system", "seed")
    assert (seeded["address"], seeded["user_agent"], seeded["request_id"]) == (None, None, None)


def test_no_secret_is_ever_recorded(client, admin_headers, make_user, db):
    sam = make_user("sam")
    pair = login(client, "sam").get_json()
    rotated = refresh(client, pair["refresh_token"]).get_json()
    refresh(client, pair["refresh_token"])  # reused
    client.patch(f"/api/v1/users/{sam.id}", json={"password": "a-new-secret-1", "version": 1},
                 headers=admin_headers)
    key = client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["leads:write"]},
                      headers=admin_headers).get_json()["key"]
    db.rollback()
    stored = db.execute(sa.text("SELECT password_hash FROM users UNION ALL "
                                "SELECT token_hash FROM refresh_tokens UNION ALL "
                                "SELECT key_hash FROM api_keys")).scalars().all()

    trail = entries(client, admin_headers)
    text = json.dumps(trail)
    for secret in (PASSWORD, "a-new-secret-1", pair["access_token"], pair["refresh_token"],
                   rotated["access_token"], rotated["refresh_token"], key, *stored):
        assert secret not in text
    assert "password" not in json.dumps([e["details"] for e in trail])
    assert {e["action"] for e in trail} <= set(ACTIONS)


def test_filters(client, admin_headers, make_user):
    sam = make_user("sam")
    login(client, "sam")
    login(client, "sam", "wrong-password", environ_base={"REMOTE_ADDR": "198.51.100.3"})
    newest, middle, oldest = entries(client, admin_headers)

    assert [e["action"] for e in entries(client, admin_headers, action="login.succeeded")] == [
        "login.succeeded", "login.succeeded"]
    assert entries(client, admin_headers, action="login.") == [newest, middle, oldest]
    assert entries(client, admin_headers, action="login") == []  # an action, or a prefix with "."
    assert entries(client, admin_headers, actor_id=str(sam.id)) == [middle]
    assert entries(client, admin_headers, target_type="user", target_id=str(sam.id)) == [
        newest, middle]
    assert entries(client, admin_headers, address="198.51.100.3") == [newest]
    assert entries(client, admin_headers, since=middle["occurred_at"]) == [newest, middle]
    assert entries(client, admin_headers, until=middle["occurred_at"]) == [oldest]
    assert entries(client, admin_headers, sort="occurred_at") == [oldest, middle, newest]
    page = client.get(AUDIT, query_string={"per_page": 1, "page": 2}, headers=admin_headers)
    assert page.get_json() == {"items": [middle], "page": 2, "per_page": 1, "total": 3}


@pytest.mark.parametrize("query, field", [
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-13-01T00:00:00Z"}, "until"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ({"target_type": "customer"}, "target_type"),
    ({"actor_id": "sam"}, "actor_id"),
    ({"sort": "action"}, "sort"),
])
def test_bad_filters_are_400_naming_the_field(client, admin_headers, query, field):
    problem = assert_problem(client.get(AUDIT, query_string=query, headers=admin_headers),
                             400, "validation_failed")
    assert list(problem["errors"]) == [field]


def test_a_bad_time_says_how_to_write_one_in_both_languages(client, admin_headers):
    english = client.get(AUDIT, query_string={"since": "yesterday"}, headers=admin_headers)
    assert assert_problem(english, 400, "validation_failed")["errors"] == {
        "since": [AUDIT_TIME_HELP]}
    chinese = client.get(AUDIT, query_string={"since": "yesterday"},
                         headers={**admin_headers, "Accept-Language": "zh-CN"})
    assert chinese.get_json()["errors"]["since"] == [
        "不是有效的日期时间：请使用 ISO 8601 格式，例如 2026-01-31T09:00:00Z。"]


def test_only_admins_read_the_trail(client, admin_headers, make_user, make_team):
    east = make_team("East")
    make_user("sam", "sales", team_id=east.id)
    make_user("maria", "manager", team_id=east.id)
    assert_problem(client.get(AUDIT), 401, "unauthorized")
    for name in ("sam", "maria"):
        headers = bearer(login(client, name).get_json()["access_token"])
        assert_problem(client.get(AUDIT, headers=headers), 403, "forbidden")
    key = client.post("/api/v1/api-keys", json={"name": "ERP", "scopes": ["customers:read"]},
                      headers=admin_headers).get_json()["key"]
    problem = assert_problem(client.get(AUDIT, headers={"X-API-Key": key}), 403, "forbidden")
    assert "audit:read" in problem["detail"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nothing_changes_the_trail_through_the_api(client, admin_headers, method):
    assert_problem(getattr(client, method)(AUDIT, json={}, headers=admin_headers),
                   405, "method_not_allowed")
    entry = entries(client, admin_headers)[0]
    assert_problem(getattr(client, method)(f"{AUDIT}/{entry['id']}", headers=admin_headers),
                   404, "not_found")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert list(spec["paths"][AUDIT]) == ["get"]


def test_the_retention_never_prunes_the_trail(app, client, admin_headers, db):
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3650)
    db.add(AuditEntry(id=uuid.uuid4(), occurred_at=long_ago, action="login.failed",
                      actor_name="someone", details={}))
    db.commit()
    retention.prune(database.session_factory(app), platform)
    old = entries(client, admin_headers, until=(long_ago + dt.timedelta(days=1)).isoformat())
    assert [e["actor_name"] for e in old] == ["someone"]
