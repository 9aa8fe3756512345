"""Each component talks to the broker as its own user, allowed only its own exchanges, queues
and calls (``common.broker_users``): a leaked service credential cannot publish another
component's events or call services it never calls. The test stack runs every component with
the user production gives it, so the whole suite also proves the permissions suffice."""
from __future__ import annotations

import json
import subprocess
from urllib.parse import quote

import amqp
import pytest
from kombu import Connection, Exchange

from common.topology import RPC_EXCHANGE
from tests.support.stack import RABBIT_HOST

CONFIRM_TIMEOUT = 10


def connections_by_user(vhost: str) -> set[str]:
    out = subprocess.run(["rabbitmqctl", "list_connections", "-q", "--formatter", "json",
                          "user", "vhost"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return {row["user"] for row in json.loads(out) if row["vhost"] == vhost}


def test_every_component_connects_as_its_own_user(stack):
    users = connections_by_user(stack.vhost)
    for component in ("customers", "sales", "notifications", "reports", "gateway"):
        assert stack.broker_user(component) in users, component


def publish(stack, component: str, exchange: str, routing_key: str) -> None:
    """Publish as ``component``'s user and wait for the broker's confirm: a refusal closes
    the channel (ACCESS_REFUSED) instead."""
    with Connection(stack.component_amqp_uri(component),
                    transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish({"probe": True}, serializer="json", routing_key=routing_key,
                                exchange=Exchange(exchange, type="topic", durable=True),
                                declare=[], timeout=CONFIRM_TIMEOUT)


@pytest.mark.parametrize("component, exchange, routing_key", [
    ("notifications", RPC_EXCHANGE, "customers.create_customer"),  # calls no one
    ("sales", RPC_EXCHANGE, "notifications.create_reminder"),  # calls customers only
    ("reports", RPC_EXCHANGE, "notifications.list_reminders"),  # customers and sales only
    ("sales", "customers.events", "customer.deleted"),  # another component's events
    ("notifications", "gateway.events", "user.updated"),
    ("gateway", "customers.events", "customer.created"),
    ("customers", "crm.other", "anything"),  # an exchange it was never given
])
def test_a_component_cannot_publish_what_is_not_its_own(stack, component, exchange, routing_key):
    with pytest.raises(amqp.exceptions.AccessRefused):
        publish(stack, component, exchange, routing_key)


@pytest.mark.parametrize("component, exchange, routing_key", [
    ("sales", RPC_EXCHANGE, "customers.get_customer"),
    ("gateway", RPC_EXCHANGE, "notifications.ping"),
    ("customers", "customers.events", "customer.probe"),
])
def test_a_component_publishes_what_is_its_own(stack, component, exchange, routing_key):
    publish(stack, component, exchange, routing_key)


def test_a_component_cannot_read_another_components_queue(stack):
    with Connection(stack.component_amqp_uri("notifications")) as conn:
        with pytest.raises(amqp.exceptions.AccessRefused):
            conn.channel().basic_get("rpc-customers", no_ack=False)


def test_a_wrong_password_is_refused(stack):
    uri = f"amqp://{quote(stack.broker_user('customers'))}:wrong@{RABBIT_HOST}/{stack.vhost_path}"
    with pytest.raises(amqp.exceptions.AccessRefused):
        Connection(uri, connect_timeout=5).connect()
