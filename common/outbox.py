"""The transactional outbox relay: publish what the database says happened, and nothing else.

A unit of work writes its events into the ``outbox`` table in the same transaction as the
change. Right after the commit the relay publishes those rows (persistent messages, each
confirmed by the broker within a timeout and routed to at least one queue, else not sent),
a batch at a time with one wait for the batch's confirms, and marks them sent, each row's
outcome its own; a timer sweeps up anything left behind (broker down, process killed between
commit and publish). Delivery is at least once: consumers are idempotent.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

import amqp
import amqp.exceptions
import kombu.exceptions
import sqlalchemy as sa
from kombu import Connection, Exchange

from common import config
from common.db import utcnow

log = logging.getLogger(__name__)

# A row younger than this is left to the publish that follows its commit.
SWEEP_GRACE = dt.timedelta(seconds=2)
SWEEP_BATCH = 200
CONFIRM_TIMEOUT = 5.0  # seconds the broker has to confirm a publish
# What a broken broker connection raises (every later row would fail the same way).
CONNECTION_ERRORS = (OSError, TimeoutError, amqp.exceptions.ConnectionError,
                     kombu.exceptions.OperationalError)


class Unroutable(Exception):
    """The broker returned a message: no queue is bound to its routing key."""


class Refused(Exception):
    """The broker did not take a message (a nack)."""


def outbox_rows(messages: list[tuple[str, str, dict]]) -> list[dict]:
    """The outbox rows of ``(exchange, routing key, message)`` (event envelopes, or dead
    letters), for one statement: their ``created_at`` a microsecond apart in the order given,
    which is the order the relay publishes them in."""
    now = utcnow()
    return [{"id": uuid.UUID(message["id"]) if "id" in message else uuid.uuid4(),
             "exchange": exchange, "routing_key": routing_key, "payload": message,
             "created_at": now + dt.timedelta(microseconds=position), "attempts": 0}
            for position, (exchange, routing_key, message) in enumerate(messages)]


class OutboxRelay:
    """Publishes outbox rows of one database to RabbitMQ."""

    def __init__(self, session_factory, outbox_model, amqp_uri: str, connect_timeout=2.0,
                 keep_unroutable: bool = True):
        """``keep_unroutable``: an event no queue takes stays unpublished, retried by every
        sweep (the topology binds a queue for every event a service of ours consumes, so
        one no queue takes means queues were lost: re-running setup brings them back, and
        the events wait for it). ``False`` for a service none of ours subscribes to: such
        an event is marked published at once, ``last_error`` saying no queue took it."""
        self.keep_unroutable = keep_unroutable
        self.session_factory = session_factory
        self.Outbox = outbox_model
        # Core statements on the table, built once: the ORM's machinery around a statement
        # and building it again cost more than the database's work on one or two rows.
        outbox = outbox_model.__table__
        self._table = outbox
        self._publishable_columns = sa.select(
            outbox.c.id, outbox.c.exchange, outbox.c.routing_key,
            sa.cast(outbox.c.payload, sa.Text).label("body"), outbox.c.created_at)
        self._committed = (self._publishable_columns
                           .where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)),
                                  outbox.c.published_at.is_(None))
                           .order_by(outbox.c.created_at))
        self._committed_locked = self._committed.with_for_update(skip_locked=True)
        self._marks: dict[tuple[str, ...], sa.Update] = {}
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        # One connection per relay, shared by a process's workers: publishing is short and
        # a connection per green thread would flood the broker.
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._declared: set[str] = set()
        self._channel = None  # in confirm mode, with the handlers below on it
        self._sent = 0  # messages published on that channel: the last delivery tag
        self._waiting: dict[int, int] = {}  # delivery tag -> index in the batch
        self._returned: dict[int, Exception] = {}  # index -> why it came back or was nacked
        self._answered: set[int] = set()  # indexes the broker confirmed (or refused)
        self._batch_ids: dict[str, int] = {}  # message id -> index in the batch

    # -- broker side ---------------------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(
                self.amqp_uri,
                ssl=config.amqp_ssl(self.amqp_uri),
                connect_timeout=self.connect_timeout,
                heartbeat=0,
            )
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._declared.clear()
        self._channel = None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def _confirming_channel(self):
        """The connection's channel in confirm mode, its confirms and returns noted by this
        relay (py-amqp without a return handler raises as a return arrives, leaving the
        message's confirm unread on the connection)."""
        conn = self._connection()
        conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)
        channel = conn.default_channel
        if channel is not self._channel:
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            channel.events["basic_return"].add(self._on_return)
            self._channel, self._sent = channel, 0
        return channel

    def _publish_batch(self, rows) -> list[Exception | None]:
        """Publish ``rows`` in order, then wait for the broker to confirm them all (within
        ``CONFIRM_TIMEOUT``): persistent, and each routed to at least one queue
        (``mandatory``: one no queue takes comes back). One wait per batch, not per message.
        Answers, per row, ``None`` (confirmed) or why not: :class:`Unroutable`, a refusal
        (nack), the error of publishing that row alone (the others are published again on
        a new channel), or a broken connection's error for every row not confirmed."""
        outcomes: list[Exception | None] = [None] * len(rows)
        with self._lock:
            self._returned, self._answered = {}, set()
            self._batch_ids = {str(row.id): index for index, row in enumerate(rows)}
            pending = list(range(len(rows)))
            while pending:
                self._waiting, current = {}, None
                try:
                    channel = self._confirming_channel()
                    for current in pending:
                        self._publish_one(channel, rows[current])
                        self._sent += 1
                        self._waiting[self._sent] = current
                    current = None
                    self._await_confirms()
                    pending = []
                except CONNECTION_ERRORS as exc:
                    self._drop_connection()
                    for index in pending:
                        if index not in self._answered:
                            outcomes[index] = exc
                    pending = []
                except Exception as exc:  # noqa: BLE001 - the row's own failure; its channel
                    self._drop_connection()  # is in doubt: the others go again on a new one
                    if current is None:
                        raise
                    outcomes[current] = exc
                    pending = sorted(self._waiting.values()) + pending[pending.index(current) + 1:]
            for index, why in self._returned.items():
                outcomes[index] = outcomes[index] or why
        return outcomes

    def _publish_one(self, channel, row) -> None:
        """``row`` (of ``_publishable_columns``) published: its payload as stored, JSON text,
        with no decoding and encoding again on the way."""
        if row.exchange not in self._declared:
            # What is in flight confirmed first: a declare the broker refuses closes the
            # channel, and those would go again (twice, if they had been routed).
            self._await_confirms()
            Exchange(row.exchange, type="topic", durable=True)(channel).declare()
            self._declared.add(row.exchange)
        channel.basic_publish(
            amqp.Message(row.body, content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2, message_id=str(row.id),
                         application_headers={"crm-event-type": row.routing_key}),
            exchange=row.exchange, routing_key=row.routing_key, mandatory=True)

    def _await_confirms(self) -> None:
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while self._waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the broker confirmed no publish within {CONFIRM_TIMEOUT:g} s")
            self._conn.drain_events(timeout=left)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        for tag in self._confirmed(delivery_tag, multiple):
            self._answered.add(self._waiting.pop(tag))

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        for tag in self._confirmed(delivery_tag, multiple):
            index = self._waiting.pop(tag)
            self._answered.add(index)
            self._returned[index] = Refused("the broker refused it (nack)")

    def _confirmed(self, delivery_tag: int, multiple: bool) -> list[int]:
        if multiple:
            return [tag for tag in self._waiting if tag <= delivery_tag]
        return [delivery_tag] if delivery_tag in self._waiting else []

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        """A message no queue takes: noted on its row (its confirm follows)."""
        index = self._batch_ids.get(message.properties.get("message_id"))
        if index is not None:
            self._returned[index] = Unroutable(str(exc))

    # -- database side -------------------------------------------------------------------
    def publish_ids(self, ids) -> int:
        """Publish the given rows now (right after their commit), :data:`SWEEP_BATCH` at a
        time (a commit may hold a large import's events); a broker that fails leaves the
        rest to the sweep. Rows are locked as the sweep locks them, skip-locked: once a
        large commit's publishing outlasts the sweep's grace, the sweep takes the rows after
        those held here, and neither publishes a row the other has taken (unlocked, both
        published every row). Never raises."""
        ids, published = list(ids), 0
        for start in range(0, len(ids), SWEEP_BATCH):
            part = ids[start:start + SWEEP_BATCH]
            try:
                with self.session_factory() as session:
                    rows = session.execute(
                        self._committed_locked if self._locks_rows(session) else self._committed,
                        {"ids": part}).all()
                    count, broken = self._publish_and_mark(session, rows)
            except Exception:  # noqa: BLE001 - the change is committed; the sweep publishes it
                log.exception("outbox: publishing after commit failed; left to the sweep")
                return published
            published += count
            if broken:
                return published
        return published

    def sweep(self) -> int:
        """Publish rows left behind, oldest first, each once per sweep (a row that fails is
        passed, not retried until the next). Safe with several relays: rows are locked,
        skip-locked."""
        published, after, outbox = 0, None, self._table.c
        while True:
            with self.session_factory() as session:
                query = (
                    self._publishable_columns
                    .where(outbox.published_at.is_(None),
                           outbox.created_at < utcnow() - SWEEP_GRACE)
                    .order_by(outbox.created_at)
                    .limit(SWEEP_BATCH)
                )
                if after is not None:
                    query = query.where(outbox.created_at > after)
                rows = session.execute(self._skip_locked(session, query)).all()
                if not rows:
                    return published
                after = rows[-1].created_at
                count, broken = self._publish_and_mark(session, rows)
                published += count
                if broken or len(rows) < SWEEP_BATCH:
                    return published

    @staticmethod
    def _locks_rows(session) -> bool:
        """Whether a read takes its rows locked, passing those another publisher holds:
        PostgreSQL; SQLite, one process, has no row locks."""
        return session.bind.dialect.name == "postgresql"

    def _skip_locked(self, session, query):
        """``query`` locking the rows it reads where the database can (:meth:`_locks_rows`)."""
        return query.with_for_update(skip_locked=True) if self._locks_rows(session) else query

    def pending_count(self) -> int:
        with self.session_factory() as session:
            return session.scalar(
                sa.select(sa.func.count()).where(self.Outbox.published_at.is_(None))
            )

    def _publish_and_mark(self, session, rows) -> tuple[int, bool]:
        """Publish ``rows`` in order, each marked published or its failed attempt counted on
        its own, so one bad row (say, one no queue takes) never holds back the others; the
        marks are committed together (an UPDATE per outcome, not per row), while the
        caller's row locks hold. A broken connection fails every row not confirmed: the
        sweep comes back. Answers how many were published and whether the connection
        broke."""
        published, given_up, failed, broken = [], {}, {}, False
        try:
            for row, why in zip(rows, self._publish_batch(rows)):
                if why is None:
                    published.append(row.id)
                    continue
                note = f"{type(why).__name__}: {why}"[:500]
                if isinstance(why, Unroutable) and not self.keep_unroutable:
                    given_up.setdefault(note, []).append(row.id)
                    continue
                failed.setdefault(note, []).append(row.id)
                if isinstance(why, CONNECTION_ERRORS):
                    broken = True
                elif not isinstance(why, Unroutable):
                    log.warning("outbox: publishing %s (%s) failed: %s",
                                row.id, row.routing_key, why)
            if broken:
                log.warning("outbox: broker unreachable; %d event(s) left to the sweep",
                            len(rows) - len(published))
            for note, ids in given_up.items():
                log.info("outbox: %d event(s) no queue takes marked published (%s)",
                         len(ids), note)
        finally:
            now = utcnow()
            self._mark(session, published, published_at=now)
            for note, ids in given_up.items():
                self._mark(session, ids, published_at=now, last_error=note)
            for note, ids in failed.items():
                self._mark(session, ids, last_error=note)
            session.commit()
        return len(published), broken

    def _mark(self, session, ids: list, **values) -> None:
        """One more attempt of the rows ``ids``, and ``values``."""
        if not ids:
            return
        names = tuple(sorted(values))
        statement = self._marks.get(names)
        if statement is None:
            outbox = self._table
            # The values' parameters named new_*: one named as a column would be SET too.
            statement = self._marks[names] = (
                sa.update(outbox).where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
                .values(attempts=outbox.c.attempts + 1,
                        **{name: sa.bindparam(f"new_{name}") for name in names}))
        session.execute(statement, {"ids": ids, **{f"new_{name}": value
                                                   for name, value in values.items()}})

    def close(self) -> None:
        self._drop_connection()
