"""A write runs once: a repeat (the client's retry with its Idempotency-Key, or the broker
redelivering a request) answers the first result, and a request whose caller stopped waiting
is not run later. Real gateway, services, RabbitMQ and PostgreSQL."""
import time
import uuid

import sqlalchemy as sa

from common.actor import Actor
from common.db import sqlalchemy_url
from common.service import REQUEST_KEY
from tests.support.http import ok, refused
from tests.support.rpc import actor_of, rpc_as
from tests.support.stack import wait_until


def named(client, name) -> list[dict]:
    return ok(client.get("/customers", params={"q": name, "per_page": 50}))["items"]


def test_a_retry_with_the_same_key_answers_the_first_result_once(users):
    sam = users["sam"]
    name = f"Retried {uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())
    first = sam.post("/customers", json={"name": name}, headers={"Idempotency-Key": key})
    again = sam.post("/customers", json={"name": name}, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotency-Key"] == key
    assert again.headers["Location"] == first.headers["Location"]
    assert [c["id"] for c in named(sam, name)] == [first.json()["id"]]
    other = refused(sam.post("/customers", json={"name": name + " else"},
                             headers={"Idempotency-Key": key}), 409)
    assert "another request" in other["detail"]
    assert named(sam, name + " else") == []


def test_keys_belong_to_their_caller_and_a_write_without_one_gets_one(users):
    sam, sara = users["sam"], users["sara"]
    key, name = str(uuid.uuid4()), f"Mine {uuid.uuid4().hex[:8]}"
    ok(sam.post("/customers", json={"name": name}, headers={"Idempotency-Key": key}), 201)
    theirs = ok(sara.post("/customers", json={"name": name}, headers={"Idempotency-Key": key}),
                201)
    assert theirs["owner_id"] == sara.me["id"]  # the same key is another caller's own
    made = sam.post("/customers", json={"name": f"Keyless {uuid.uuid4().hex[:8]}"})
    ok(made, 201)
    assert uuid.UUID(made.headers["Idempotency-Key"])
    refused(sam.post("/customers", json={"name": "x"}, headers={"Idempotency-Key": "a b"}),
            400, "Idempotency-Key")


def test_a_redelivered_request_runs_once(stack, users):
    """What the broker does when a service dies after its commit and before its ack: the same
    request, headers and all, delivered again."""
    sam = users["sam"]
    name = f"Redelivered {uuid.uuid4().hex[:8]}"
    actor = actor_of(sam.me)
    key = f"user:{actor.user_id}:{uuid.uuid4()}"
    with rpc_as(stack.amqp_uri, actor, **{REQUEST_KEY: key}) as cluster:
        first = cluster.customers.create_customer({"name": name})
        again = cluster.customers.create_customer({"name": name})
    assert again == first
    assert [c["id"] for c in named(sam, name)] == [first["id"]]


def test_a_write_to_a_stopped_service_expires_and_its_retry_runs_once_KILLS_CUSTOMERS(
        stack, users):
    sam = users["sam"]
    name = f"While down {uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())
    stack.kill("customers")
    try:
        started = time.monotonic()
        unknown = sam.post("/customers", json={"name": name}, headers={"Idempotency-Key": key})
        waited = time.monotonic() - started
        assert refused(unknown, 504)["code"] == "outcome_unknown"
        assert unknown.headers["Idempotency-Key"] == key
    finally:
        stack.start_service("customers")
    stack.wait_ready()
    # The request expired with the gateway's deadline: the service, back, does not run it.
    with rpc_as(stack.amqp_uri, Actor.system("test")) as cluster:
        wait_until(lambda: cluster.customers.ping()["status"] == "ok", timeout=30)
    assert named(sam, name) == []
    made = ok(sam.post("/customers", json={"name": name}, headers={"Idempotency-Key": key}), 201)
    assert [c["id"] for c in named(sam, name)] == [made["id"]]
    print(f"a write to a stopped service answered 504 outcome_unknown after {waited:.1f} s")


def test_a_request_key_stays_with_its_service(stack, users):
    """Creating a deal asks the customers service about its customer: that nested call is a
    request of its own, so the deal's key is stored by sales only (carried on, it would make
    customers answer a later, different call of the same request with this one's result)."""
    sam = users["sam"]
    customer = ok(sam.post("/customers", json={"name": f"Keyed {uuid.uuid4().hex[:8]}"}), 201)
    key = str(uuid.uuid4())
    ok(sam.post("/deals", json={"customer_id": customer["id"], "title": "Keyed deal"},
                headers={"Idempotency-Key": key}), 201)

    def stored(component):
        engine = sa.create_engine(sqlalchemy_url(stack.database_url(component)))
        try:
            with engine.connect() as conn:
                return conn.scalar(sa.text("SELECT count(*) FROM idempotent_requests "
                                           "WHERE key LIKE :key"), {"key": f"%{key}%"})
        finally:
            engine.dispose()

    assert (stored("sales"), stored("customers")) == (1, 0)


def test_a_retried_write_that_calls_another_service_answers_its_first_result(users):
    """Creating a deal passes the worker's proxy to the customers service to the use case:
    a retry with the same key is the same request (before, the proxy's address made every
    retry a 'key used for another request' conflict)."""
    sam = users["sam"]
    customer = ok(sam.post("/customers", json={"name": f"Dealt {uuid.uuid4().hex[:8]}"}), 201)
    body, key = {"customer_id": customer["id"], "title": "Retried deal"}, str(uuid.uuid4())
    first = ok(sam.post("/deals", json=body, headers={"Idempotency-Key": key}), 201)
    again = ok(sam.post("/deals", json=body, headers={"Idempotency-Key": key}), 201)
    assert again == first
