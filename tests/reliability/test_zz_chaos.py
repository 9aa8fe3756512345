"""The chaos run: under a steady write load through the gateway, every service and the gateway
are killed with SIGKILL (the busiest, customers, twice) and the broker application is stopped
once. Afterwards every acknowledged write exists exactly once, no request was stored twice,
every event reached every consumer (counted in their tables) and no reminder was sent twice or
lost. The counts are printed. (Stops the shared broker: moved to the end of the run.)

The clients behave as the operations guide tells a client to: a write that answers 503, 504
or 429, or whose connection broke, is sent again with the same Idempotency-Key.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import Counter

import requests
import sqlalchemy as sa
from kombu import Connection

from common.db import sqlalchemy_url, utcnow
from common.topology import DEAD_LETTER_QUEUE
from tests.support.stack import rabbitmqctl, wait_until

CLIENTS = 6
LOAD_SECONDS = 75
RETRY_FOR = 120  # seconds a client keeps retrying one write
RETRYABLE = {429, 502, 503, 504}
FOLLOW_UP_AFTER = dt.timedelta(seconds=45)  # due after the chaos, so each is sent once it ends
# (seconds after the load starts, what happens)
SCHEDULE = [(8, "kill customers"), (18, "kill sales"), (26, "kill notifications"),
            (34, "stop broker"), (46, "kill reports"), (54, "kill gateway"),
            (62, "kill customers")]
BROKER_DOWN = 8


class Client:
    """One client thread's writes: each a customer, every third with a follow-up activity
    and a deal. Records what was acknowledged and what it gave up on."""

    def __init__(self, stack, user, number: int):
        self.stack, self.user, self.number = stack, user, number
        self.acknowledged: dict[str, list[str]] = {"customer": [], "activity": [], "deal": []}
        self.names: list[str] = []
        self.given_up = 0
        self.retries = Counter()
        self.failure: BaseException | None = None

    def write(self, path: str, body: dict) -> dict | None:
        """POST until it is acknowledged (201), retrying with the same key; None on giving up."""
        key = str(uuid.uuid4())
        deadline = time.monotonic() + RETRY_FOR
        while time.monotonic() < deadline:
            try:
                response = self.user.post(path, json=body, headers={"Idempotency-Key": key},
                                          timeout=30)
            except requests.RequestException:
                self.retries["connection"] += 1
            else:
                if response.status_code == 201:
                    return response.json()
                if response.status_code not in RETRYABLE:
                    raise AssertionError(f"{path}: {response.status_code} {response.text[:300]}")
                self.retries[response.status_code] += 1
            time.sleep(0.5)
        self.given_up += 1
        return None

    def run(self, stop: threading.Event) -> None:
        try:
            self._load(stop)
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not the thread
            self.failure = exc

    def _load(self, stop: threading.Event) -> None:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            name = f"Chaos {self.number}-{sequence} {uuid.uuid4().hex[:6]}"
            self.names.append(name)
            customer = self.write("/customers", {"name": name})
            if customer is None:
                continue
            self.acknowledged["customer"].append(customer["id"])
            if sequence % 3:
                continue
            activity = self.write(f"/customers/{customer['id']}/activities", {
                "type": "call", "content": "Chaos call",
                "next_follow_up_at": (utcnow() + FOLLOW_UP_AFTER).isoformat()})
            if activity is not None:
                self.acknowledged["activity"].append(customer["id"])
            deal = self.write("/deals", {"customer_id": customer["id"], "title": name})
            if deal is not None:
                self.acknowledged["deal"].append(deal["id"])


class Databases:
    """The stack's databases (and its broker, for the dead-letter queue), read directly."""

    def __init__(self, stack):
        self.amqp_uri = stack.amqp_uri
        self.engines = {component: sa.create_engine(sqlalchemy_url(stack.database_url(component)))
                        for component in ("customers", "sales", "notifications", "reports")}

    def dead_letters(self) -> int:
        with Connection(self.amqp_uri) as conn:
            return conn.default_channel.queue_declare(DEAD_LETTER_QUEUE,
                                                      passive=True).message_count

    def parked(self, component: str) -> dict[tuple[str, str], str]:
        """(event id, handler) -> status of every event ``component`` holds parked now."""
        return {(event_id, handler): status for event_id, handler, status in self.rows(
            component, "SELECT event_id, handler, status FROM parked_events")}

    def rows(self, component: str, sql: str, **params) -> list:
        with self.engines[component].connect() as conn:
            return conn.execute(sa.text(sql), params).all()

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def chaos(stack, action: str) -> None:
    verb, name = action.split()
    if verb == "kill":
        stack.kill(name)
        if name == "gateway":
            stack.start_gateway()
        else:
            stack.start_service(name)
        return
    assert rabbitmqctl("stop_app")
    try:
        time.sleep(BROKER_DOWN)  # the outage itself, not a wait for something to happen
    finally:
        assert rabbitmqctl("start_app")


def test_chaos_loses_nothing_and_doubles_nothing_STOPS_BROKER(stack, restartable_broker):
    users = [stack.login(name) for name in ("sam", "sara", "maria")]
    clients = [Client(stack, users[n % len(users)], n) for n in range(CLIENTS)]
    databases = Databases(stack)
    # What earlier tests of the session left dead-lettered or parked is not this run's.
    dead_letters_before = databases.dead_letters()
    parked_before = {component: databases.parked(component) for component in databases.engines}
    stop = threading.Event()
    threads = [threading.Thread(target=client.run, args=(stop,)) for client in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    done = []
    try:
        for at, action in SCHEDULE:
            time.sleep(max(0.0, started + at - time.monotonic()))  # the chaos timetable
            chaos(stack, action)
            done.append(action)
        time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=RETRY_FOR + 60)
    assert not [client.failure for client in clients if client.failure]
    stack.wait_ready(timeout=120)
    try:
        check(clients, databases, done, dead_letters_before, parked_before)
    finally:
        databases.close()


def check(clients, databases: Databases, done: list[str], dead_letters_before: int,
          parked_before: dict[str, dict]) -> None:
    acknowledged = {kind: [i for c in clients for i in c.acknowledged[kind]]
                    for kind in ("customer", "activity", "deal")}
    names = [name for client in clients for name in client.names]
    customers, deals = acknowledged["customer"], acknowledged["deal"]
    assert customers and acknowledged["activity"] and deals, "the load wrote nothing"

    # Every acknowledged write exists exactly once; no request was stored twice.
    stored = Counter(name for (name,) in databases.rows(
        "customers", "SELECT name FROM customers WHERE name LIKE 'Chaos %'"))
    twice = {name: count for name, count in stored.items() if count > 1}
    assert not twice, f"stored twice: {twice}"
    found = {str(i) for (i,) in databases.rows(
        "customers", "SELECT id FROM customers WHERE id = ANY(CAST(:ids AS uuid[]))", ids=customers)}
    assert found == set(customers), f"acknowledged but missing: {set(customers) - found}"
    deal_rows = {str(i) for (i,) in databases.rows(
        "sales", "SELECT id FROM deals WHERE id = ANY(CAST(:ids AS uuid[]))", ids=deals)}
    assert deal_rows == set(deals)

    # Every event reached every consumer once: the reports read model holds each customer and
    # deal; notifications tracks each deal and planned each follow-up.
    def eventually(component, sql, ids, what):
        def complete():
            have = {str(i) for (i,) in databases.rows(component, sql, ids=ids)}
            return have >= set(ids) or None
        wait_until(complete, timeout=120, interval=1, message=what)

    eventually("reports", "SELECT id FROM reports_customers WHERE id = ANY(CAST(:ids AS uuid[]))",
               customers, "every customer in the reports read model")
    eventually("reports", "SELECT id FROM reports_deals WHERE id = ANY(CAST(:ids AS uuid[]))",
               deals, "every deal in the reports read model")
    eventually("notifications", "SELECT entity_id FROM tracked_entities "
               "WHERE entity_type = 'deal' AND entity_id = ANY(:ids)", deals,
               "every deal tracked by notifications")
    follow_ups = acknowledged["activity"]
    eventually("notifications", "SELECT entity_id FROM reminders WHERE kind = 'follow_up' "
               "AND status = 'sent' AND entity_id = ANY(:ids)", follow_ups,
               "every follow-up reminder sent")
    # Events earlier tests of the session parked may run out of retries meanwhile: their
    # dead letters are theirs. None of this run's events may be dead.
    for component, before in parked_before.items():
        dead = [key for key, status in databases.parked(component).items()
                if status == "dead" and key not in before]
        assert not dead, f"{component} dead-lettered {dead}"

    def dead_earlier() -> int:
        return sum(1 for component, before in parked_before.items()
                   for key, status in databases.parked(component).items()
                   if status == "dead" and before.get(key, "dead") != "dead")

    # No reminder planned or sent twice, none lost.
    reminders = Counter(entity for (entity,) in databases.rows(
        "notifications", "SELECT entity_id FROM reminders WHERE kind = 'follow_up' "
        "AND entity_id = ANY(:ids)", ids=follow_ups))
    sent = Counter(entity for (entity,) in databases.rows(
        "notifications", "SELECT entity_id FROM notifications WHERE kind = 'follow_up' "
        "AND entity_id = ANY(:ids)", ids=follow_ups))
    assert set(reminders.values()) == {1} and set(sent.values()) == {1}
    assert set(sent) == set(follow_ups)

    retries = sum((client.retries for client in clients), Counter())
    given_up = sum(client.given_up for client in clients)
    assert given_up == 0, "a write was still refused after its retries"
    wait_until(lambda: databases.dead_letters() == dead_letters_before + dead_earlier(),
               timeout=30, message="no dead letter but those of earlier tests' events")
    print(f"\nchaos: {', '.join(done)}; {len(names)} customer writes sent, "
          f"{len(customers)} acknowledged, {given_up} given up; {len(follow_ups)} follow-ups, "
          f"{len(deals)} deals; retries {dict(retries)}; stored twice 0; dead letters 0; "
          f"reports read model {len(customers)}/{len(customers)} customers, "
          f"{len(deals)}/{len(deals)} deals; reminders planned {sum(reminders.values())}, "
          f"sent {sum(sent.values())} for {len(follow_ups)} follow-ups")
