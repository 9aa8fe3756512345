"""The transactional outbox relay: publish what the database says happened, and nothing else.

A unit of work writes its events into the ``outbox`` table in the same transaction as the
change. Right after the commit the relay publishes those rows (persistent messages, each
confirmed by the broker within a timeout and routed to at least one queue, else not sent) and
marks them sent, row by row; a timer sweeps up anything left behind (broker down, process
killed between commit and publish). Delivery is at least once: consumers are idempotent.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid

import amqp.exceptions
import kombu.exceptions
import sqlalchemy as sa
from kombu import Connection, Exchange, Producer

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


def outbox_rows(messages: list[tuple[str, str, dict]]) -> list[dict]:
    """The outbox rows of ``(exchange, routing key, message)`` (event envelopes, or dead
    letters), for one INSERT: their ``created_at`` a microsecond apart in the order given,
    which is the order the relay publishes them in."""
    now = utcnow()
    return [{"id": uuid.UUID(message["id"]) if "id" in message else uuid.uuid4(),
             "exchange": exchange, "routing_key": routing_key, "payload": message,
             "created_at": now + dt.timedelta(microseconds=position), "attempts": 0}
            for position, (exchange, routing_key, message) in enumerate(messages)]


class OutboxRelay:
    """Publishes outbox rows of one database to RabbitMQ."""

    def __init__(self, session_factory, outbox_model, amqp_uri: str, connect_timeout=2.0):
        self.session_factory = session_factory
        self.Outbox = outbox_model
        self.amqp_uri = amqp_uri
        self.connect_timeout = connect_timeout
        # One connection per relay, shared by a process's workers: publishing is short and
        # a connection per green thread would flood the broker.
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._declared: set[str] = set()

    # -- broker side ---------------------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(
                self.amqp_uri,
                ssl=config.amqp_ssl(self.amqp_uri),
                connect_timeout=self.connect_timeout,
                transport_options={"confirm_publish": True},
                heartbeat=0,
            )
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._declared.clear()
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def _publish(self, row) -> None:
        """Publish one row, confirmed by the broker within ``CONFIRM_TIMEOUT`` and routed to
        at least one queue (``mandatory``: a message no queue takes comes back, and raises)."""
        with self._lock:
            try:
                conn = self._connection()
                conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)
                exchange = Exchange(row.exchange, type="topic", durable=True)
                if row.exchange not in self._declared:
                    exchange(conn.default_channel).declare()
                    self._declared.add(row.exchange)
                Producer(conn.default_channel).publish(
                    row.payload,
                    exchange=exchange,
                    routing_key=row.routing_key,
                    serializer="json",
                    delivery_mode=2,
                    mandatory=True,
                    confirm_timeout=CONFIRM_TIMEOUT,
                    message_id=str(row.id),
                    headers={"crm-event-type": row.routing_key},
                    retry=False,
                )
            except Exception:
                self._drop_connection()
                raise

    # -- database side -------------------------------------------------------------------
    def publish_ids(self, ids) -> int:
        """Publish the given rows now (right after their commit), :data:`SWEEP_BATCH` at a
        time (a commit may hold a large import's events); a broker that fails leaves the
        rest to the sweep. Never raises."""
        ids, published = list(ids), 0
        for start in range(0, len(ids), SWEEP_BATCH):
            part = ids[start:start + SWEEP_BATCH]
            try:
                with self.session_factory() as session:
                    rows = session.scalars(
                        sa.select(self.Outbox)
                        .where(self.Outbox.id.in_(part), self.Outbox.published_at.is_(None))
                        .order_by(self.Outbox.created_at)
                    ).all()
                    count = self._publish_and_mark(session, rows)
            except Exception:  # noqa: BLE001 - the change is committed; the sweep publishes it
                log.exception("outbox: publishing after commit failed; left to the sweep")
                return published
            published += count
            if count < len(rows):
                return published
        return published

    def sweep(self) -> int:
        """Publish rows left behind. Safe with several relays: rows are locked, skip-locked."""
        published = 0
        while True:
            with self.session_factory() as session:
                query = (
                    sa.select(self.Outbox)
                    .where(
                        self.Outbox.published_at.is_(None),
                        self.Outbox.created_at < utcnow() - SWEEP_GRACE,
                    )
                    .order_by(self.Outbox.created_at)
                    .limit(SWEEP_BATCH)
                )
                if session.bind.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                rows = session.scalars(query).all()
                if not rows:
                    return published
                count = self._publish_and_mark(session, rows)
                published += count
                if count < len(rows):
                    return published

    def pending_count(self) -> int:
        with self.session_factory() as session:
            return session.scalar(
                sa.select(sa.func.count()).where(self.Outbox.published_at.is_(None))
            )

    def _publish_and_mark(self, session, rows) -> int:
        """Publish ``rows`` in order, each marked published or its failed attempt counted on
        its own, so one bad row (say, one no queue takes) never holds back the others; the
        marks are committed together, while the sweep's row locks hold. A broken connection
        fails every row after it: it stops there, and the sweep comes back."""
        published = 0
        try:
            for row in rows:
                row.attempts += 1
                try:
                    self._publish(row)
                except CONNECTION_ERRORS as exc:
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning("outbox: broker unreachable (%s); left to the sweep", exc)
                    break
                except Exception as exc:  # noqa: BLE001 - counted on the row; retried later
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning("outbox: publishing %s (%s) failed: %s",
                                row.id, row.routing_key, exc)
                    continue
                row.published_at = utcnow()
                published += 1
        finally:
            session.commit()
        return published

    def close(self) -> None:
        self._drop_connection()
