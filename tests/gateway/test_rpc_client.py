"""The gateway's RPC client on the real broker, against a queue read as a service would read it:
what a request carries, an absent service, a timed-out call and its late reply, a broken
connection."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import secrets
import threading
import time
import uuid
from types import SimpleNamespace

import amqp
import pytest
from flask import g
from kombu import Connection, serialization

from common import config
from common.actor import Actor
from common.topology import RPC_EXCHANGE
from gateway import rpc
from gateway.errors import GatewayTimeout, OutcomeUnknown, ServiceUnavailable
from gateway.rpc import decoded, rpc_call
from tests.support.stack import close_from_broker

WAIT = 0.5  # the gateway's wait in these tests (CRM_RPC_TIMEOUT)


@pytest.fixture
def short_wait(monkeypatch):
    monkeypatch.setenv("CRM_RPC_TIMEOUT", str(WAIT))


@pytest.fixture
def probe():
    """A service that is only a queue: the requests sent to it, taken as they come (a request
    expires with the gateway's wait), and replies sent by hand."""
    name = f"probe_{secrets.token_hex(4)}"
    queue = f"rpc-{name}"
    arrived: list[amqp.Message] = []
    stop = threading.Event()
    with Connection(config.amqp_uri()) as taking, Connection(config.amqp_uri()) as replying:
        channel = taking.channel()
        channel.exchange_declare(RPC_EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
        channel.queue_bind(queue, RPC_EXCHANGE, f"{name}.*")

        def take():
            while not stop.is_set():
                message = channel.basic_get(queue, no_ack=True)
                if message is None:
                    time.sleep(0.01)
                else:
                    arrived.append(message)

        def received(deadline: float = 5) -> amqp.Message:
            until = time.monotonic() + deadline
            while not arrived:
                assert time.monotonic() < until, "no request arrived"
                time.sleep(0.01)
            return arrived.pop(0)

        reply_channel = replying.channel()

        def reply(request: amqp.Message, result) -> None:
            reply_channel.basic_publish(
                amqp.Message(json.dumps({"result": result, "error": None}),
                             content_type="application/json",
                             correlation_id=request.properties["correlation_id"]),
                exchange=RPC_EXCHANGE, routing_key=request.properties["reply_to"])

        taker = threading.Thread(target=take)
        taker.start()
        try:
            yield SimpleNamespace(name=name, received=received, reply=reply)
        finally:
            stop.set()
            taker.join()


def test_a_request_carries_the_caller_and_its_deadline(app, short_wait, probe):
    with app.test_request_context():
        g.actor = Actor(user_id=None, role="admin", request_id="rpc-test")
        before = time.time()
        with pytest.raises(GatewayTimeout):
            rpc_call(probe.name, "list_things", {"q": "x"})
        after = time.time()
    request = probe.received()
    assert json.loads(request.body) == {"args": [{"q": "x"}], "kwargs": {}}
    assert request.properties["expiration"] == str(int(WAIT * 1000))  # gone with the wait
    # The caller as nameko context headers, without None values (a read has no key).
    sent = {key.removeprefix("nameko."): value for key, value in request.headers.items()}
    assert before + WAIT <= sent.pop("deadline") <= after + WAIT
    assert len(sent.pop("call_id_stack")) == 1
    assert sent == {"role": "admin", "scopes": [], "language": "en", "request_id": "rpc-test"}


def test_a_missing_service_is_503_at_once(app):
    with app.test_request_context():
        g.actor = Actor(user_id=None, role="admin")
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="no_such_service"):
            rpc_call("no_such_service", "list")
        # The broker returned the request: no waiting for the deadline (10 s).
        assert time.monotonic() - started < config.rpc_timeout() / 2


def test_a_late_reply_never_reaches_a_later_call(app, short_wait, probe, monkeypatch):
    with app.test_request_context():
        g.actor = Actor(user_id=None, role="admin")
        with pytest.raises(GatewayTimeout):
            rpc_call(probe.name, "get_thing", "late")
        late = probe.received()
        client = rpc._local.client

        def answer_both():
            second = probe.received()
            probe.reply(late, "the first call's answer")  # comes first, to the same queue
            probe.reply(second, "the second call's answer")

        answering = threading.Thread(target=answer_both)
        answering.start()
        monkeypatch.setenv("CRM_RPC_TIMEOUT", "5")
        assert rpc_call(probe.name, "get_thing", "now") == "the second call's answer"
        answering.join()
        assert rpc._local.client is client  # a timeout keeps the connection


def test_a_write_that_timed_out_says_its_outcome_is_unknown(app, short_wait, probe):
    with app.test_request_context(method="POST", headers={"Idempotency-Key": "k-1"}):
        g.actor = Actor(user_id=None, role="admin")
        g.api_key_id = "a-key"
        with pytest.raises(OutcomeUnknown) as unknown:
            rpc_call(probe.name, "create_thing")
    assert unknown.value.status == 504 and "same Idempotency-Key" in unknown.value.message
    sent = probe.received().headers
    assert sent["nameko.idempotency_key"] == "api-key:a-key:k-1"


def test_a_broken_connection_is_replaced(app, monkeypatch):
    with app.test_request_context():
        g.actor = Actor(user_id=None, role="admin")
        with pytest.raises(ServiceUnavailable):
            rpc_call("no_such_service", "list")
        broken = rpc._local.client
        monkeypatch.setattr(broken, "call",
                            lambda *args: (_ for _ in ()).throw(ConnectionResetError()))
        with pytest.raises(ServiceUnavailable, match="broker"):
            rpc_call("no_such_service", "list")
        assert rpc._local.client is None
        with pytest.raises(ServiceUnavailable, match="no_such_service"):
            rpc_call("no_such_service", "list")
        assert rpc._local.client not in (None, broken)


def test_a_connection_the_broker_closed_while_idle_is_replaced_before_the_next_call(app):
    """After a broker restart (or an operator closing it), the next request goes out on a new
    connection rather than failing on the dead one."""
    with app.test_request_context():
        g.actor = Actor(user_id=None, role="admin")
        with pytest.raises(ServiceUnavailable, match="no_such_service"):
            rpc_call("no_such_service", "list")
        closed = rpc._local.client
        close_from_broker(closed.connection.connection.sock, "closed by test_rpc_client")
        with pytest.raises(ServiceUnavailable, match="no_such_service"):  # not "the broker"
            rpc_call("no_such_service", "list")
        assert rpc._local.client not in (None, closed)


@pytest.mark.parametrize("answer", [
    {"result": {"id": "c1", "name": '杭州 "Acme"', "tags": ["a"], "amount": 12.5, "n": None},
     "error": None},
    {"result": {"at": dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.timezone.utc),
                "id": uuid.UUID(int=7), "price": decimal.Decimal("9.90")},
     "error": None},  # kombu's type markers
    {"result": {"big": 2 ** 70, "ratio": float("nan")}, "error": None},  # beyond orjson
])
def test_a_reply_is_decoded_as_kombu_decodes_it(answer):
    content_type, encoding, body = serialization.dumps(answer, "json")
    for sent in (body, body.encode()):
        message = amqp.Message(sent, content_type=content_type, content_encoding=encoding)
        ours = decoded(message)
        kombus = serialization.loads(sent, content_type, encoding, accept={"application/json"})
        if "ratio" in answer["result"]:
            assert math.isnan(ours["result"].pop("ratio"))
            kombus["result"].pop("ratio")
        assert ours == kombus
