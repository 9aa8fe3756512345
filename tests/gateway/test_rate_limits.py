"""Rate limits counted in a store every gateway process shares (the database, or Redis):
failed sign-ins per username and address with ceilings per username and per address,
requests per caller, 429 with Retry-After, and the RateLimit-* headers."""
from __future__ import annotations

import datetime as dt
import secrets

import pytest
import redis
import sqlalchemy as sa

from common import config, retention
from common.db import utcnow
from gateway import database
from gateway.auth import ratelimit
from gateway.auth.api_keys import key_hash, new_key
from gateway.models import ApiKey, RateLimitCounter, platform
from tests.gateway.helpers import assert_problem, bearer, login
from tests.support.stack import free_port

REDIS_URL = config.env("CRM_TEST_REDIS", "redis://127.0.0.1:6379/15")
ME = "/api/v1/me"
ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
COLLEAGUE = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(params=["database", "redis"])
def gateway(request, make_app, monkeypatch):
    """``gateway(**config)``: a gateway app counting in the test's store: the test database,
    or Redis under a key prefix of this test's own, deleted after it."""
    store = {}
    if request.param == "redis":
        prefix = f"crm-test-{secrets.token_hex(6)}:"
        monkeypatch.setattr(ratelimit, "REDIS_PREFIX", prefix)
        store["REDIS_URL"] = REDIS_URL
    yield lambda **overrides: make_app({**store, **overrides})
    if store:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def limit_logins(monkeypatch, **limits: int) -> None:
    """Lower sign-in limits (``user_address=3``...) so a test needs few password hashes."""
    for name, count in limits.items():
        monkeypatch.setitem(ratelimit.LOGIN_LIMITS, name.replace("_", "-"),
                            ratelimit.Limit(count, ratelimit.LOGIN_WINDOW))


def test_failed_sign_ins_lock_out_one_client_not_everyone(gateway, make_user):
    client = gateway().test_client()
    make_user("sam")
    for remaining in range(9, -1, -1):
        failed = login(client, "sam", "wrong-password", environ_base=ATTACKER)
        assert failed.status_code == 401
        assert failed.headers["RateLimit-Remaining"] == str(remaining)
    locked = login(client, "sam", environ_base=ATTACKER)  # even with the right password
    body = assert_problem(locked, 429, "rate_limited")
    assert body["detail"].startswith("Too many failed login attempts")
    assert 0 < int(locked.headers["Retry-After"]) <= 300
    assert (locked.headers["RateLimit-Limit"], locked.headers["RateLimit-Remaining"]) == ("10", "0")
    assert login(client, "sam", environ_base=COLLEAGUE).status_code == 200


def test_an_ipv6_client_is_one_client_across_its_64_network(gateway, make_user, monkeypatch):
    """A host is given a /64: counted per address, each of its 2**64 addresses would be a new
    client with a fresh count."""
    limit_logins(monkeypatch, user_address=3)
    client = gateway().test_client()
    make_user("sam")
    for n in range(3):
        address = {"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"}
        assert login(client, "sam", "wrong-password", environ_base=address).status_code == 401
    assert_problem(login(client, "sam", environ_base={"REMOTE_ADDR": "2001:db8:1:2::ff"}),
                   429, "rate_limited")
    assert login(client, "sam", environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 200


def test_one_username_guessed_from_many_addresses_meets_its_ceiling(gateway, make_user,
                                                                      monkeypatch):
    limit_logins(monkeypatch, user=4)
    client = gateway().test_client()
    make_user("sam")
    for n in range(4):
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        assert login(client, "sam", "wrong-password", environ_base=address).status_code == 401
    assert_problem(login(client, "sam", environ_base=COLLEAGUE), 429, "rate_limited")
    make_user("sara")
    assert login(client, "sara", environ_base=COLLEAGUE).status_code == 200


def test_a_right_password_forgives_its_clients_failures(gateway, make_user, monkeypatch):
    limit_logins(monkeypatch, user_address=3)
    client = gateway().test_client()
    make_user("sam")
    for _ in range(2):
        for remaining in ("2", "1"):
            failed = login(client, "sam", "wrong-password", environ_base=ATTACKER)
            assert failed.headers["RateLimit-Remaining"] == remaining
        right = login(client, "sam", environ_base=ATTACKER)
        assert right.status_code == 200
        assert right.headers["RateLimit-Limit"] == right.headers["RateLimit-Remaining"] == "3"


def test_counts_are_shared_by_every_gateway_process(gateway, make_user):
    """Two apps on one store stand for two gunicorn workers or two pods: a count kept in
    each process's memory would let each of them allow the whole limit."""
    clients = [gateway().test_client(), gateway().test_client()]
    make_user("sam")
    for attempt in range(10):
        failed = login(clients[attempt % 2], "sam", "wrong-password", environ_base=ATTACKER)
        assert failed.status_code == 401
    assert_problem(login(clients[0], "sam", environ_base=ATTACKER), 429, "rate_limited")
    assert_problem(login(clients[1], "sam", environ_base=ATTACKER), 429, "rate_limited")

    token = bearer(login(clients[0], "sam").get_json()["access_token"])
    limited = [gateway(RATE_LIMIT=(4, 3600)).test_client() for _ in range(2)]
    for attempt in range(4):
        assert limited[attempt % 2].get(ME, headers=token).status_code == 200
    assert_problem(limited[0].get(ME, headers=token), 429, "rate_limited")
    assert_problem(limited[1].get(ME, headers=token), 429, "rate_limited")


def test_requests_beyond_a_callers_limit_are_429_and_the_headers_count_down(gateway,
                                                                          make_user):
    client = gateway(RATE_LIMIT=(3, 3600)).test_client()
    make_user("sam")
    make_user("sara")
    sam = bearer(login(client, "sam").get_json()["access_token"])
    answers = [client.get(ME, headers=sam) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    assert {answer.headers["RateLimit-Limit"] for answer in answers} == {"3"}
    assert all(0 < int(answer.headers["RateLimit-Reset"]) <= 3600 for answer in answers)

    refused = client.get(ME, headers=sam)
    body = assert_problem(refused, 429, "rate_limited")
    wait = refused.headers["Retry-After"]
    assert body["detail"] == f"Too many requests; try again in {wait} seconds."
    assert 0 < int(wait) <= 3600
    assert refused.headers["RateLimit-Remaining"] == "0"
    chinese = client.get(ME, headers={**sam, "Accept-Language": "zh-CN"})
    assert "请求过于频繁" in chinese.get_json()["detail"]

    sara = bearer(login(client, "sara").get_json()["access_token"])
    assert client.get(ME, headers=sara).headers["RateLimit-Remaining"] == "2"  # her own count
    for _ in range(5):  # probes and metrics are never counted
        probe = client.get("/healthz")
        assert probe.status_code == 200 and "RateLimit-Limit" not in probe.headers


def test_a_busy_caller_costs_the_store_one_round_trip_per_lease(app, db, make_user):
    """The default 600 a minute is leased 12 at a time: 30 requests are three counts in the
    store, and the headers still count down one by one."""
    client = app.test_client()
    sam = make_user("sam")
    token = bearer(login(client, "sam").get_json()["access_token"])
    answers = [client.get(ME, headers=token) for _ in range(30)]
    assert {answer.status_code for answer in answers} == {200}
    assert [int(answer.headers["RateLimit-Remaining"]) for answer in answers] == list(
        range(599, 569, -1))
    counted = db.scalar(sa.select(RateLimitCounter.count).where(
        RateLimitCounter.key == f"requests:user:{sam.id}"))
    assert counted == 36


def test_leases_let_no_more_than_the_limit_through_many_processes(gateway, make_user):
    """A limit of 100 is leased 2 at a time. Two processes taking turns use every request
    of it; one that took a lease and went quiet costs the other at most that lease."""
    make_user("sam")
    token = bearer(login(gateway().test_client(), "sam").get_json()["access_token"])
    turns = [gateway(RATE_LIMIT=(100, 3600)).test_client() for _ in range(2)]
    let_through = 0
    for attempt in range(110):
        let_through += turns[attempt % 2].get(ME, headers=token).status_code == 200
    assert let_through == 100
    for client in turns:
        assert_problem(client.get(ME, headers=token), 429, "rate_limited")

    make_user("sara")
    sara = bearer(login(gateway().test_client(), "sara").get_json()["access_token"])
    quiet, busy = (gateway(RATE_LIMIT=(100, 3600)).test_client() for _ in range(2))
    assert quiet.get(ME, headers=sara).status_code == 200  # and holds one request unused
    busy_through = sum(busy.get(ME, headers=sara).status_code == 200 for _ in range(110))
    assert busy_through == 98  # 100, less the quiet one's request and its unused one


def test_an_authenticated_request_counts_against_its_caller_only(gateway, make_user):
    """Not against its address too: colleagues behind one address share no allowance."""
    client = gateway(RATE_LIMIT=(3, 3600)).test_client()
    make_user("admin", "admin")
    admin = bearer(login(client, "admin").get_json()["access_token"])  # the address's first
    answers = [client.get("/api/v1/users", headers=admin) for _ in range(3)]  # a MethodView
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    anonymous = client.get(ME)  # the address's second
    assert anonymous.status_code == 401 and anonymous.headers["RateLimit-Remaining"] == "1"


def test_an_api_key_and_an_anonymous_client_have_limits_of_their_own(gateway, db):
    client = gateway(RATE_LIMIT=(2, 3600)).test_client()
    key = new_key()
    db.add(ApiKey(name="ERP", prefix=key[:8], key_hash=key_hash(key), scopes=["webhooks:write"]))
    db.commit()
    headers = {"X-API-Key": key}
    # Counted once the key is known, before its scope is checked.
    assert [client.get("/api/v1/customers", headers=headers).status_code
            for _ in range(3)] == [403, 403, 429]
    # Without valid credentials a request counts against its address.
    nobody = [client.get(ME, environ_base=ATTACKER) for _ in range(3)]
    assert [answer.status_code for answer in nobody] == [401, 401, 429]
    assert nobody[0].headers["RateLimit-Remaining"] == "1"
    assert client.get(ME, environ_base=COLLEAGUE).status_code == 401


def test_off_counts_nothing(gateway, make_user):
    client = gateway(RATE_LIMIT=None).test_client()
    make_user("sam")
    sam = bearer(login(client, "sam").get_json()["access_token"])
    answer = client.get(ME, headers=sam)
    assert answer.status_code == 200 and "RateLimit-Limit" not in answer.headers


def test_an_unreachable_store_lets_requests_through_and_refuses_sign_ins(make_app, make_user):
    client = make_app({"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    make_user("sam")
    assert_problem(login(client, "sam"), 503, "service_unavailable")
    answer = client.get(ME)
    assert_problem(answer, 401, "unauthorized")
    assert "RateLimit-Limit" not in answer.headers


def test_an_ended_window_counts_from_one_and_is_pruned(app, db, make_user):
    now = utcnow()
    db.add_all([RateLimitCounter(key="requests:address:127.0.0.1", count=10**6,
                                 resets_at=now - dt.timedelta(seconds=1)),
                RateLimitCounter(key="requests:address:203.0.113.1", count=1,
                                 resets_at=now - dt.timedelta(seconds=1)),
                RateLimitCounter(key="requests:address:203.0.113.2", count=1,
                                 resets_at=now + dt.timedelta(hours=1))])
    db.commit()
    answer = app.test_client().get(ME)
    assert answer.headers["RateLimit-Remaining"] == str(config.rate_limit()[0] - 1)
    deleted = retention.prune(database.session_factory(app), platform, also=ratelimit.prune)
    assert deleted["rate_limit_counters"] == 1
    db.rollback()
    assert set(db.scalars(sa.select(RateLimitCounter.key))) == {
        "requests:address:127.0.0.1", "requests:address:203.0.113.2"}


def test_the_openapi_document_describes_the_429(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    reference = {"$ref": f"#/components/responses/{ratelimit.RESPONSE}"}
    assert spec["paths"]["/api/v1/me"]["get"]["responses"]["429"] == reference
    assert spec["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"] == reference
    response = spec["components"]["responses"][ratelimit.RESPONSE]
    assert set(response["headers"]) == {
        "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    assert list(response["content"]) == ["application/problem+json"]


@pytest.mark.parametrize("text, limit", [
    ("600/60", (600, 60)), (" 5/1 ", (5, 1)), ("0", None), ("off", None), ("OFF", None)])
def test_the_request_limit_is_configured_by_crm_rate_limit(monkeypatch, text, limit):
    monkeypatch.setenv("CRM_RATE_LIMIT", text)
    assert config.rate_limit() == limit


@pytest.mark.parametrize("text", ["600", "600/0", "-1/60", "many/60"])
def test_a_bad_crm_rate_limit_is_refused(monkeypatch, text):
    monkeypatch.setenv("CRM_RATE_LIMIT", text)
    with pytest.raises(ValueError, match="CRM_RATE_LIMIT"):
        config.rate_limit()
