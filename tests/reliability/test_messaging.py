"""Nothing lost, nothing twice: the outbox survives an unreachable broker and a killed
service; consumers apply a repeated delivery once and park a failing event, never drop it."""
import datetime as dt
import subprocess
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue

from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.events import envelope
from common.outbox import SWEEP_BATCH, OutboxRelay, outbox_rows
from common.service import DEAD_LETTER_EXCHANGE
from common.topology import declare
from common.uow import UnitOfWork
from services.customers import operations
from services.customers.models import platform
from tests.support import probe_service
from tests.support.broker import EventTap
from tests.support.stack import BIN, ROOT, free_port, scratch_database, wait_until
from tests.support.stalling_proxy import StallingProxy

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


@contextmanager
def outbox_of(engine):
    """``(session factory, relay factory)`` of an outbox table made on ``engine``; the
    relays made are closed afterwards."""
    platform.Outbox.__table__.create(engine)
    session_factory = make_session_factory(engine)
    relays = []

    def relay(amqp_uri):
        relays.append(OutboxRelay(session_factory, platform.Outbox, amqp_uri))
        return relays[-1]

    try:
        yield session_factory, relay
    finally:
        for made in relays:
            made.close()


@pytest.fixture
def own_outbox(tmp_path):
    """An outbox of this test alone (SQLite): no running service's relay sweeps it."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    with outbox_of(engine) as outbox:
        yield outbox
    engine.dispose()


@pytest.fixture
def routed(stack):
    """``(exchange name, take, connection)``: a topic exchange with a queue taking all its
    messages, and ``take()`` the next one (or None); both deleted after the test."""
    name = f"test-routed-{uuid.uuid4().hex[:8]}"
    with Connection(stack.amqp_uri) as conn:
        exchange = Exchange(name, type="topic", durable=True)
        queue = Queue(name, exchange, routing_key="#", durable=False, auto_delete=False)
        queue(conn.default_channel).declare()
        try:
            yield name, lambda: queue(conn.default_channel).get(no_ack=True), conn
        finally:
            queue(conn.default_channel).delete()
            exchange(conn.default_channel).delete()


def outbox_event(exchange: str, routing_key: str) -> tuple[str, str, dict]:
    return exchange, routing_key, envelope(
        source="test", event_type=routing_key, entity_id=uuid.uuid4(), entity_version=1,
        data={}, actor=None)


@pytest.mark.parametrize("keep_unroutable", [True, False])
def test_a_message_no_queue_takes_keeps_the_connection_and_is_kept_or_marked_by_choice(
        stack, own_outbox, keep_unroutable):
    session_factory, make_relay = own_outbox
    relay = make_relay(stack.amqp_uri)
    relay.keep_unroutable = keep_unroutable
    rows = outbox_rows([outbox_event(f"test-nowhere-{uuid.uuid4().hex[:8]}", "nobody.listens")])
    with session_factory() as session:
        session.execute(sa.insert(platform.Outbox.__table__), rows)
        session.commit()
    connections = set()
    for attempt in (1, 2):
        assert relay.publish_ids([rows[0]["id"]]) == 0
        connections.add(id(relay._conn))  # a returned message is no broken connection
        with session_factory() as session:
            row = session.get(platform.Outbox, rows[0]["id"])
            assert row.attempts == (attempt if keep_unroutable else 1)
            assert "NO_ROUTE" in row.last_error.upper().replace(" ", "_")
            # Kept for the sweep, or marked done at once: nobody subscribes to it.
            assert (row.published_at is None) == keep_unroutable
    assert len(connections) == 1


def test_a_sweep_passes_rows_no_queue_takes_and_publishes_those_after_them(
        stack, own_outbox, routed):
    session_factory, make_relay = own_outbox
    name, take, _ = routed
    stuck = [outbox_event(f"test-nowhere-{uuid.uuid4().hex[:8]}", "nobody.listens")
             for _ in range(SWEEP_BATCH + 5)]
    rows = outbox_rows([*stuck, outbox_event(name, "somebody.listens")])
    for row in rows:  # older than the sweep's grace
        row["created_at"] -= dt.timedelta(minutes=5)
    with session_factory() as session:
        session.execute(sa.insert(platform.Outbox.__table__), rows)
        session.commit()
    assert make_relay(stack.amqp_uri).sweep() == 1
    message = wait_until(take, timeout=10, message="the routable row, published")
    assert message.payload["id"] == rows[-1]["payload"]["id"]
    with session_factory() as session:
        waiting = session.scalars(sa.select(platform.Outbox).where(
            platform.Outbox.published_at.is_(None))).all()
        assert len(waiting) == len(stuck) and {row.attempts for row in waiting} == {1}


def test_a_row_the_broker_refuses_holds_back_neither_the_rows_before_nor_after_it(
        stack, own_outbox, routed):
    """Published in one batch, confirmed together: a row whose publish fails on its own
    (its exchange exists as another type: the broker closes the channel) is counted on it,
    and the rows before it are confirmed first (or go again on a new channel)."""
    session_factory, make_relay = own_outbox
    name, take, conn = routed
    other_type = Exchange(f"test-direct-{uuid.uuid4().hex[:8]}", type="direct", durable=True)
    other_type(conn.default_channel).declare()
    try:
        rows = outbox_rows([outbox_event(name, "before.one"), outbox_event(name, "before.two"),
                            outbox_event(other_type.name, "refused"), outbox_event(name, "after")])
        with session_factory() as session:
            session.execute(sa.insert(platform.Outbox.__table__), rows)
            session.commit()
        assert make_relay(stack.amqp_uri).publish_ids([row["id"] for row in rows]) == 3
        received = []
        wait_until(lambda: received.append(take()) or len([m for m in received if m]) == 3,
                   timeout=10, message="the three other rows, published")
        assert sorted(m.payload["type"] for m in received if m) == [
            "after", "before.one", "before.two"]
    finally:
        other_type(conn.default_channel).delete()
    with session_factory() as session:
        refused = session.get(platform.Outbox, rows[2]["id"])
        assert refused.published_at is None and refused.attempts == 1
        assert "PRECONDITION_FAILED" in refused.last_error.upper().replace(" ", "_")


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


@pytest.fixture
def own_postgres_outbox():
    """An outbox of this test alone on a PostgreSQL database of its own (row locks, as in
    production)."""
    with scratch_database("outbox") as engine, outbox_of(engine) as outbox:
        yield outbox


@pytest.mark.parametrize("instances", [1, 2])
def test_a_commit_published_while_a_sweep_passes_over_it_is_published_once(
        stack, own_postgres_outbox, routed, instances):
    """A large commit's events, published after it (``publish_ids``, taking longer than the
    sweep's grace) while a sweep takes the same unpublished rows, in the same process or
    another's: each row goes out once (each publisher skips the rows the other holds)."""
    session_factory, make_relay = own_postgres_outbox
    name, take, _ = routed
    rows = outbox_rows([outbox_event(name, "many.events") for _ in range(4 * SWEEP_BATCH)])
    for row in rows:  # older than the sweep's grace, as a long publish makes them
        row["created_at"] -= dt.timedelta(minutes=5)
    with session_factory() as session:
        session.execute(sa.insert(platform.Outbox.__table__), rows)
        session.commit()
    after_commit = make_relay(stack.amqp_uri)
    sweeping = after_commit if instances == 1 else make_relay(stack.amqp_uri)
    with ThreadPoolExecutor(2) as pool:
        published = [pool.submit(after_commit.publish_ids, [row["id"] for row in rows]),
                     pool.submit(sweeping.sweep)]
        assert sum(done.result(timeout=120) for done in published) == len(rows)
    received = Counter()
    wait_until(lambda: received.update(
        [message.payload["id"] for message in iter(take, None)]) or sum(
        received.values()) >= len(rows), timeout=30, message="every row, published")
    for message in iter(take, None):  # anything more that came
        received[message.payload["id"]] += 1
    assert set(received) == {row["payload"]["id"] for row in rows}
    assert [count for count in received.values() if count > 1] == []
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).where(
            platform.Outbox.published_at.is_(None))) == 0


def test_a_broker_that_stops_reading_fails_the_publish_in_time_and_the_sweep_sends_the_rest(
        stack, own_postgres_outbox, routed):
    """A broker that stops reading its publishers (a resource alarm; a peer gone silent)
    blocks the relay's socket writes once the buffers are full. The write fails within
    seconds (py-amqp sets ``TCP_USER_TIMEOUT`` to 1 s on its sockets: data unacknowledged
    that long fails the connection), not after the kernel's retries (about 15 minutes):
    the connection is dropped, the rows not confirmed are marked failed and unlocked, and
    the sweep publishes them once the broker reads again."""
    session_factory, make_relay = own_postgres_outbox
    name, take, _ = routed
    proxy = StallingProxy(stack.amqp_uri)
    try:
        relay = make_relay(proxy.uri)
        first, *heavy = outbox_rows(
            [outbox_event(name, "before.stall")]
            + [outbox_event(name, "heavy.event") for _ in range(SWEEP_BATCH)])
        for row in heavy:  # 200 rows of 64 KiB: more than the socket buffers hold
            row["payload"]["data"] = {"filler": "x" * 65536}
            row["created_at"] -= dt.timedelta(minutes=5)  # the sweep takes them at once
        with session_factory() as session:
            session.execute(sa.insert(platform.Outbox.__table__), [first, *heavy])
            session.commit()
        assert relay.publish_ids([first["id"]]) == 1  # connected through the proxy
        proxy.stall()
        with ThreadPoolExecutor(1) as pool:
            publishing = pool.submit(relay.publish_ids, [row["id"] for row in heavy])
            try:
                published = publishing.result(timeout=60)
            finally:
                proxy.resume() if publishing.done() else proxy.close()  # never left hanging
        assert published < len(heavy), "the stalled broker took every row"
        with session_factory() as session:
            # Not held: another publisher may lock every row left.
            left = session.scalars(sa.select(platform.Outbox).where(
                platform.Outbox.published_at.is_(None)).with_for_update(skip_locked=True)).all()
            assert len(left) == len(heavy) - published
            assert {row.attempts for row in left} == {1}
            assert all("timed out" in row.last_error for row in left), left[0].last_error
        assert relay.sweep() == len(left)
        received = set()
        wait_until(lambda: received.update(
            message.payload["id"] for message in iter(take, None)) or len(received) > len(heavy),
            timeout=60, message="every row, published")
        assert received == {row["payload"]["id"] for row in [first, *heavy]}
    finally:
        proxy.close()
