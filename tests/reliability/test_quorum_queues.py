"""Every durable queue is a quorum queue with a delivery limit, and an upgrade from classic
queues is a step that keeps their messages (``common.queues``, ``common.topology``)."""
from __future__ import annotations

import json
import secrets
import subprocess
from urllib.parse import quote

import pytest
from kombu import Connection, Exchange, Queue

from common import components
from common.actor import Actor
from common.topology import DEAD_LETTER_QUEUE, ClassicQueueFound, declare, handler_queues, rpc_queue
from tests.support.rpc import rpc_as
from tests.support.stack import RABBIT_HOST, rabbitmqctl, wait_until

CUSTOMERS = components.load_class(components.service_classes()["customers"])


def queues_of(vhost: str) -> dict[str, dict]:
    """name -> {type, messages, arguments} of every queue of ``vhost``."""
    out = subprocess.run(
        ["rabbitmqctl", "list_queues", "-p", vhost, "--formatter", "json",
         "name", "type", "messages", "arguments", "exclusive"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    rows = json.loads(out)
    for row in rows:  # [[name, type, value], ...]
        row["arguments"] = {name: value for name, _, value in row["arguments"]}
    return {row["name"]: row for row in rows}


@pytest.fixture
def vhost():
    name = "crmt_q_" + secrets.token_hex(4)
    assert rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name, f"amqp://guest:guest@{RABBIT_HOST}/{quote(name, safe='')}"
    rabbitmqctl("delete_vhost", name)


def classic(queue: Queue) -> Queue:
    """``queue`` as the release before quorum queues declared it."""
    return Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key, durable=True)


def test_the_stacks_queues_are_quorum_queues_with_a_delivery_limit(stack):
    queues = queues_of(stack.vhost)
    durable = {name: q for name, q in queues.items() if not q["exclusive"] and "reply" not in name}
    expected = {f"rpc-{service}" for service in components.service_names()} | {DEAD_LETTER_QUEUE}
    assert expected <= set(durable)
    assert any(name.startswith("evt-") for name in durable)
    for name, queue in durable.items():
        assert queue["type"] == "quorum", name
        if name == DEAD_LETTER_QUEUE:
            assert "x-delivery-limit" not in queue["arguments"]
            continue
        assert queue["arguments"]["x-delivery-limit"] > 0, name
        # an expired request is nobody's concern; an event that circles is an operator's
        expected_dlx = None if name.startswith("rpc-") else "crm.dead-letter"
        assert queue["arguments"].get("x-dead-letter-exchange") == expected_dlx, name


def test_a_message_returned_too_often_is_dead_lettered(vhost, monkeypatch):
    monkeypatch.setenv("CRM_DELIVERY_LIMIT", "2")
    name, uri = vhost
    declare([CUSTOMERS], uri)
    queue = handler_queues(CUSTOMERS)[0]
    with Connection(uri) as conn:
        conn.Producer().publish({"poison": True}, exchange=queue.exchange,
                                routing_key=queue.routing_key, serializer="json")
        channel = conn.channel()
        returned = 0

        def dead_lettered():
            nonlocal returned
            message = channel.basic_get(queue.name, no_ack=False)
            if message is not None:
                channel.basic_reject(message.delivery_tag, requeue=True)
                returned += 1
            return channel.basic_get(DEAD_LETTER_QUEUE, no_ack=True)

        dead = wait_until(dead_lettered, timeout=15, message="dead-lettered")
    assert returned == 3  # the first delivery and two returns
    assert json.loads(dead.body) == {"poison": True}
    assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert dead.headers["x-first-death-queue"] == queue.name


def test_classic_queues_of_an_earlier_release_move_to_quorum_with_their_messages(vhost):
    name, uri = vhost
    earlier = [classic(rpc_queue(CUSTOMERS)), *map(classic, handler_queues(CUSTOMERS))]
    with Connection(uri) as conn:
        channel = conn.channel()
        for queue in earlier:
            queue(channel).declare()
        producer = conn.Producer()
        for number in range(5):
            for queue in earlier[:2]:
                producer.publish({"n": number}, exchange=queue.exchange, headers={"h": number},
                                 routing_key=queue.routing_key.replace("*", "ping"),
                                 serializer="json", delivery_mode=2)

    with pytest.raises(ClassicQueueFound, match="--migrate-classic"):
        declare([CUSTOMERS], uri)

    lines = declare([CUSTOMERS], uri, migrate_classic=True)
    assert any(f"{earlier[1].name} (now quorum, 5 messages moved)" in line for line in lines)
    after = queues_of(name)
    for queue in earlier:
        assert after[queue.name]["type"] == "quorum", queue.name
    assert not [q for q in after if q.endswith(".migrating")]
    with Connection(uri) as conn:
        channel = conn.channel()
        rpc, handler = earlier[:2]
        # an RPC queue's requests expired while the services were stopped: not kept
        assert channel.basic_get(rpc.name, no_ack=True) is None
        bodies = []
        while (message := channel.basic_get(handler.name, no_ack=True)) is not None:
            bodies.append((json.loads(message.body)["n"], message.headers["h"]))
        assert bodies == [(n, n) for n in range(5)]
        # the binding came along: a new message is routed to the quorum queue
        conn.Producer().publish({"n": 99}, exchange=earlier[1].exchange,
                                routing_key=earlier[1].routing_key, serializer="json")
        wait_until(lambda: channel.basic_get(earlier[1].name, no_ack=True), timeout=10)
    assert declare([CUSTOMERS], uri)  # and the next plain declaration passes


def test_a_message_that_is_no_request_does_not_stop_the_service(stack):
    """nameko answers every message on an RPC queue, and dies when one has no reply_to; the
    service drops such a message and goes on serving."""
    with Connection(stack.amqp_uri) as conn:
        conn.Producer().publish({"args": [], "kwargs": {}}, serializer="json",
                                exchange=Exchange("nameko-rpc", type="topic", durable=True),
                                routing_key="customers.ping", headers={"nameko.role": "system"})
    with rpc_as(stack.amqp_uri, Actor.system("test")) as cluster:
        for _ in range(3):
            assert cluster.customers.ping()["status"] == "ok"
    assert stack.processes["customers"].poll() is None
