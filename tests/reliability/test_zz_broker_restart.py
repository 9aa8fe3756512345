"""The broker restarting loses nothing and everything recovers by itself: a write made while
it is down is published from the outbox afterwards, a reminder due across the restart is sent
once, and the gateway answers again. (Stops the shared broker: moved to the end of the run.)"""
import datetime as dt
import uuid

import requests

from common.actor import Actor
from common.db import create_db_engine, make_session_factory, utcnow
from common.outbox import OutboxRelay
from common.uow import UnitOfWork
from services.customers import operations
from services.customers.models import platform
from tests.support.broker import EventTap
from tests.support.notifications import inbox_titles, log_follow_up, new_customer, reminders_of
from tests.support.stack import rabbitmqctl, wait_until


def broker_answers(stack) -> bool:
    from kombu import Connection

    with Connection(stack.amqp_uri, connect_timeout=1) as conn:
        conn.ensure_connection(max_retries=1)
        return True


def test_broker_restart_loses_nothing_STOPS_BROKER(stack, users, restartable_broker):
    sam = users["sam"]
    customer = new_customer(sam, f"Restart {uuid.uuid4().hex[:6]} Ltd")
    log_follow_up(sam, customer["id"], utcnow() + dt.timedelta(seconds=12))
    tap = EventTap(stack.amqp_uri, "customers", "customer.created")
    engine = create_db_engine(stack.database_url("customers"))
    session_factory = make_session_factory(engine)
    relay = OutboxRelay(session_factory, platform.Outbox, stack.amqp_uri, connect_timeout=1)
    actor = Actor(user_id=sam.me["id"], role="sales", team_id=sam.me["team_id"])
    try:
        assert rabbitmqctl("stop_app")
        with UnitOfWork(session_factory, platform, "customers", actor,
                        on_commit=relay.publish_ids) as uow:
            written = operations.create_customer(uow, {"name": "Written during the outage"})
        assert relay.pending_count() >= 1
        assert rabbitmqctl("start_app")
        wait_until(lambda: broker_answers(stack), timeout=60, message="broker back")

        wait_until(lambda: requests.get(f"{stack.base_url}/readyz", timeout=5).status_code == 200,
                   timeout=90, interval=0.5, message="every service reconnected")
        tap.reconnect()
        event = tap.wait_for(lambda e: e["entity_id"] == written["id"], timeout=60)
        assert event["data"]["name"] == "Written during the outage"

        title = f"Follow up with {customer['name']}"
        wait_until(lambda: title in inbox_titles(sam), timeout=60, message="reminder sent")
        assert inbox_titles(sam).count(title) == 1
        sent = [r for r in reminders_of(sam, kind="follow_up") if r["entity_id"] == customer["id"]]
        assert [r["status"] for r in sent] == ["sent"]

        # Every gateway thread answers again (a proxy broken by the restart is replaced).
        for _ in range(20):
            assert sam.get("/customers", params={"per_page": 1}).status_code == 200
        assert sam.post("/customers", json={"name": "After the restart"}).status_code == 201
    finally:
        relay.close()
        engine.dispose()
        tap.close()
