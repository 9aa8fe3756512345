"""``common.queues.ReplyChannel``, how a service answers an RPC request, on the real broker:
a result and a typed error reach the caller's reply queue with the request's correlation id,
encoded as the request was; a result that cannot be encoded answers why; a connection that
broke under it raises (so the request goes back to its queue) and the next reply opens a
new one; one the broker closed (a restart, an operator) is replaced before a reply is lost
on it."""
from __future__ import annotations

import json
import secrets
import sys
import time
from types import SimpleNamespace

import pytest
from kombu import Connection
from nameko.exceptions import deserialize

from common import config
from common.errors import NotFound
from common.outbox import CONNECTION_ERRORS
from common.queues import ReplyChannel
from common.topology import RPC_EXCHANGE
from tests.support.stack import close_from_broker


@pytest.fixture
def caller():
    """A caller's reply queue, bound as the gateway binds its own, and what came on it."""
    reply_to = f"test-replies-{secrets.token_hex(4)}"
    with Connection(config.amqp_uri()) as conn:
        channel = conn.channel()
        channel.exchange_declare(RPC_EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.queue_declare(reply_to, exclusive=True, auto_delete=True)
        channel.queue_bind(reply_to, RPC_EXCHANGE, reply_to)

        def reply(deadline: float = 5):
            until = time.monotonic() + deadline
            while (message := channel.basic_get(reply_to, no_ack=True)) is None:
                assert time.monotonic() < until, "no reply came"
                time.sleep(0.01)
            return message

        yield SimpleNamespace(reply_to=reply_to, reply=reply)


@pytest.fixture
def replies():
    channel = ReplyChannel(config.amqp_uri(), RPC_EXCHANGE)
    yield channel
    channel.close()


def request(reply_to: str, correlation_id: str = "call-1"):
    """What the consumer hands over of a request: its properties."""
    return SimpleNamespace(properties={"content_type": "application/json",
                                       "reply_to": reply_to, "correlation_id": correlation_id})


def test_a_result_and_an_error_reach_the_caller(replies, caller):
    assert replies.send(request(caller.reply_to), {"name": "杭州"}, None) == ({"name": "杭州"}, None)
    message = caller.reply()
    assert message.properties["correlation_id"] == "call-1"
    assert message.properties["content_type"] == "application/json"
    assert json.loads(message.body) == {"result": {"name": "杭州"}, "error": None}

    try:
        raise NotFound("No customer with id 7.")
    except NotFound:
        exc_info = sys.exc_info()
    replies.send(request(caller.reply_to, "call-2"), None, exc_info)
    message = caller.reply()
    assert message.properties["correlation_id"] == "call-2"
    error = deserialize(json.loads(message.body)["error"])
    assert isinstance(error, NotFound) and error.message == "No customer with id 7."


def test_a_result_that_cannot_be_encoded_answers_why(replies, caller):
    result, exc_info = replies.send(request(caller.reply_to), {"when": object()}, None)
    assert result is None and exc_info is not None
    body = json.loads(caller.reply().body)
    assert body["result"] is None
    assert body["error"]["exc_type"] == "UnserializableValueError"


def test_a_connection_broken_in_the_publish_raises_and_the_next_reply_opens_a_new_one(
        replies, caller, monkeypatch):
    replies.send(request(caller.reply_to, "before"), 1, None)
    assert caller.reply().properties["correlation_id"] == "before"
    broken = replies._conn

    def reset(*args, **kwargs):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(broken.default_channel, "basic_publish", reset)
    with pytest.raises(CONNECTION_ERRORS):
        replies.send(request(caller.reply_to, "lost"), 2, None)
    assert replies._conn is None
    replies.send(request(caller.reply_to, "after"), 3, None)
    assert replies._conn is not broken
    message = caller.reply()
    assert message.properties["correlation_id"] == "after"
    assert json.loads(message.body)["result"] == 3


def test_a_connection_the_broker_closed_is_replaced_before_the_next_reply(replies, caller):
    replies.send(request(caller.reply_to, "before"), 1, None)
    assert caller.reply().properties["correlation_id"] == "before"
    close_from_broker(replies._conn.connection.sock, "closed by test_reply_channel")
    replies.send(request(caller.reply_to, "after"), 2, None)  # not lost on the closed one
    message = caller.reply()
    assert message.properties["correlation_id"] == "after"
