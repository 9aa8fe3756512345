"""Nothing lost, nothing twice: the outbox survives an unreachable broker and a killed
service; consumers apply a repeated delivery once and park a failing event, never drop it."""
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange

from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.events import envelope
from common.outbox import OutboxRelay
from common.service import DEAD_LETTER_EXCHANGE
from common.topology import declare
from common.uow import UnitOfWork
from services.customers import operations
from services.customers.models import platform
from tests.support import probe_service
from tests.support.broker import EventTap
from tests.support.stack import BIN, ROOT, free_port, wait_until

SAM = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=str(uuid.uuid4()))


@pytest.fixture
def customers_db(stack):
    engine = create_db_engine(stack.database_url("customers"))
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def tap(stack):
    tap = EventTap(stack.amqp_uri, "customers", "customer.created")
    yield tap
    tap.close()


def created_events(tap, customer_id, quiet_for=1.5):
    return [e for e in tap.drain(quiet_for) if e["entity_id"] == customer_id]


def test_write_succeeds_with_the_broker_unreachable_and_is_published_later(stack, customers_db, tap):
    dead_broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    unreachable = OutboxRelay(customers_db, platform.Outbox, dead_broker, connect_timeout=0.5)
    with UnitOfWork(customers_db, platform, "customers", SAM, on_commit=unreachable.publish_ids) as uow:
        customer = operations.create_customer(uow, {"name": "Written while the broker is away"})
    with customers_db() as session:
        row = session.scalars(sa.select(platform.Outbox).where(
            platform.Outbox.payload["entity_id"].as_string() == customer["id"])).one()
        assert row.published_at is None and row.attempts == 1 and row.last_error
    # The broker is back for the running service: its relay sweeps the row up.
    event = tap.wait_for(lambda e: e["entity_id"] == customer["id"], timeout=30)
    assert event["type"] == "customer.created"
    assert created_events(tap, customer["id"]) == []
    with customers_db() as session:
        assert session.get(platform.Outbox, row.id).published_at is not None


def test_service_killed_between_commit_and_publish(stack, customers_db, tap):
    stack.kill("customers")
    try:
        # A commit whose publish never ran: exactly what a crash after commit leaves behind.
        with UnitOfWork(customers_db, platform, "customers", SAM, on_commit=None) as uow:
            customer = operations.create_customer(uow, {"name": "Committed, then crashed"})
        assert created_events(tap, customer["id"], quiet_for=1.0) == []
    finally:
        stack.start_service("customers")
    event = tap.wait_for(lambda e: e["entity_id"] == customer["id"], timeout=40)
    assert event["data"]["name"] == "Committed, then crashed"
    assert created_events(tap, customer["id"]) == []
    stack.wait_ready()


@pytest.fixture
def probe(stack, tmp_path):
    url = f"sqlite:///{tmp_path / 'probe.db'}"
    engine = create_db_engine(url)
    probe_service.Base.metadata.create_all(engine)
    declare([probe_service.ProbeService], stack.amqp_uri)
    fail_file = tmp_path / "fail"
    env = {**stack.env, "PROBE_DATABASE_URL": url, "PROBE_FAIL_FILE": str(fail_file)}
    process = subprocess.Popen(
        [str(BIN / "nameko"), "run", "--config", "deploy/nameko.yml",
         "tests.support.probe_service:ProbeService"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "probe.log", "wb"), stderr=subprocess.STDOUT)
    session_factory = make_session_factory(engine)

    def consumers():
        with Connection(stack.amqp_uri) as conn:
            name = "evt-customers-customer.created--probe.on_customer_created"
            return conn.default_channel.queue_declare(name, passive=True).consumer_count

    wait_until(consumers, timeout=30, message="probe consuming")
    yield session_factory, fail_file
    process.terminate()
    process.wait(timeout=20)
    engine.dispose()


def publish(stack, event, copies=1):
    with Connection(stack.amqp_uri) as conn:
        producer = conn.Producer()
        for _ in range(copies):
            producer.publish(event, exchange=Exchange("customers.events", type="topic", durable=True),
                             routing_key=event["type"], serializer="json", delivery_mode=2)


def applied(session_factory, event_id):
    with session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).where(
            probe_service.Applied.event_id == event_id))


def synthetic_event():
    return envelope(source="customers", event_type="customer.created", entity_id=uuid.uuid4(),
                    entity_version=1, data={"name": "Probe"}, actor=None)


def test_a_duplicated_delivery_is_applied_once(stack, probe):
    session_factory, _ = probe
    event = synthetic_event()
    publish(stack, event, copies=3)
    wait_until(lambda: applied(session_factory, event["id"]) >= 1, timeout=20)
    publish(stack, event)
    later = synthetic_event()
    publish(stack, later)
    wait_until(lambda: applied(session_factory, later["id"]) == 1, timeout=20)
    assert applied(session_factory, event["id"]) == 1


def test_a_failing_handler_parks_the_event_and_applies_it_after_recovery(stack, probe):
    session_factory, fail_file = probe
    fail_file.touch()
    event = synthetic_event()
    publish(stack, event)

    def parked():
        with session_factory() as session:
            return session.get(probe_service.platform.ParkedEvent,
                               (event["id"], "on_customer_created"))

    row = wait_until(parked, timeout=20, message="event parked")
    assert row.status == "retrying" and "probe told to fail" in row.last_error
    assert applied(session_factory, event["id"]) == 0
    Path(fail_file).unlink()
    wait_until(lambda: applied(session_factory, event["id"]) == 1, timeout=30)
    assert parked() is None


def test_a_message_that_is_no_event_is_dead_lettered_once_and_the_consumer_goes_on(
        stack, probe):
    session_factory, _ = probe
    dead = EventTap(stack.amqp_uri, None, "probe.#", exchange=DEAD_LETTER_EXCHANGE)
    try:
        poison = synthetic_event()
        del poison["id"]
        publish(stack, poison)
        later = synthetic_event()
        publish(stack, later)
        wait_until(lambda: applied(session_factory, later["id"]) == 1, timeout=20)
        dead.wait_for(lambda letter: letter["event"].get("entity_id") == poison["entity_id"])
        assert dead.drain(quiet_for=2.0) == []  # once
    finally:
        dead.close()
    (letter,) = dead.received
    assert letter["handler"] == "probe.on_customer_created"
    assert "not an event envelope" in letter["cause"] and "'id'" in letter["cause"]


def test_a_message_no_queue_takes_is_not_marked_sent_and_holds_back_nothing(
        stack, customers_db, tap):
    relay = OutboxRelay(customers_db, platform.Outbox, stack.amqp_uri)
    nowhere = envelope(source="customers", event_type="nobody.listens", entity_id=uuid.uuid4(),
                       entity_version=1, data={}, actor=None)
    with UnitOfWork(customers_db, platform, "customers", SAM) as uow:
        # An exchange no queue is bound to: the broker returns the message (mandatory).
        uow.emit_raw(f"test-nowhere-{uuid.uuid4().hex[:8]}", "nobody.listens", nowhere)
        customer = operations.create_customer(uow, {"name": "After an unroutable one"})
    ids = uow.committed_event_ids
    try:
        assert relay.publish_ids(ids) == 1
        event = tap.wait_for(lambda e: e["entity_id"] == customer["id"], timeout=20)
        assert event["type"] == "customer.created"
        with customers_db() as session:
            bad, good = (session.get(platform.Outbox, row_id) for row_id in ids)
            assert good.published_at is not None
            assert bad.published_at is None and bad.attempts >= 1
            assert "NO_ROUTE" in bad.last_error.upper().replace(" ", "_")
    finally:
        relay.close()
        with customers_db() as session:  # not left for the service's sweep to retry for ever
            session.execute(sa.delete(platform.Outbox).where(platform.Outbox.id == ids[0]))
            session.commit()
