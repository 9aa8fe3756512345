"""The scheduler: send every reminder that is due, exactly once, with several instances.

Each sweep claims a batch of due pending reminders in one transaction, locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (so instances running at once take different rows;
SQLite serialises writers), and in that same transaction moves each from pending to sent,
records its lateness, writes the inbox entry and queues its deliveries on the user's other
channels. Either all of that commits or none of it: a reminder is sent once, and a crash
leaves it pending for the next sweep.

Its events (``reminder.sent``, ``notification.created``, and the webhooks subscribed to them)
are announced after the batches, in transactions of their own that mark each inbox entry
announced (``announced_at``): in a burst the inbox comes first, in half the time, and the
events trail by seconds, each once (a crash between the two leaves entries unannounced, which
the next sweep announces). A reminder that could not be sent is announced (``reminder.failed``,
with its cause) in its batch. Lateness is bounded by the time to send the batches ahead of it:
a sweep waits for what falls due before the next tick (see docs/operations.md).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.orm.exc import StaleDataError

from common import metrics
from common.db import UTCDateTime, utcnow
from common.uow import UnitOfWork
from services.notifications import schemas as s
from services.notifications.models import Delivery, Notification, Reminder
from services.notifications.publishing import publish, publish_reminder
from services.notifications.settings import Settings, settings_of_many
from services.notifications.templates import render

log = logging.getLogger(__name__)
BATCH = 200
RETRY_PAUSE = 0.1  # seconds: a sweep waiting for rows another instance is sending
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"
notification_out = s.NotificationEventSchema()


MAX_LATENESS_MS = 2**31 - 1  # the column is a 32-bit integer


def claim_due(uow: UnitOfWork, limit: int = BATCH) -> list[Reminder]:
    query = (
        sa.select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= utcnow())
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    if uow.session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return uow.session.scalars(query).all()


def sweep(unit_of_work: Callable[[], UnitOfWork], horizon: float,
          after_round: Callable[[], None], sleep: Callable[[float], None] = time.sleep) -> int:
    """A timer tick's work: send what is due; then, while the next reminder falls due before
    the next tick (``horizon`` seconds from now), wait for its moment and send again. So a
    reminder goes out when it falls due, not up to a tick later, and the tick stays a
    cheap, bounded poll for what other instances or new writes bring. ``after_round`` runs
    after each round (the caller publishes its events there). Returns the count sent."""
    deadline, sent = time.monotonic() + horizon, 0
    while True:
        sent_now = send_due(unit_of_work)
        sent += sent_now
        try:
            announce_sent(unit_of_work)
        except Exception:  # noqa: BLE001 - sending goes on; the entries wait for the next try
            log.exception("announcing sent reminders failed; the next sweep tries again")
        after_round()
        with unit_of_work() as uow:
            wait = seconds_until_next_due(uow.session)
        if wait is None or time.monotonic() + wait >= deadline:
            return sent
        # Due now but nothing sent: another instance holds those rows; do not spin on them.
        sleep(wait if wait > 0 or sent_now else RETRY_PAUSE)


def seconds_until_next_due(session) -> float | None:
    """How long until the earliest pending reminder falls due (0 when one already has);
    ``None`` when none is pending."""
    due_at = session.scalar(sa.select(sa.func.min(Reminder.due_at))
                            .where(Reminder.status == "pending"))
    if due_at is None:
        return None
    if due_at.tzinfo is None:  # an aggregate loses the column's type on SQLite
        due_at = due_at.replace(tzinfo=dt.timezone.utc)
    return max((due_at - utcnow()).total_seconds(), 0.0)


def send_due(unit_of_work: Callable[[], UnitOfWork], limit: int = BATCH) -> int:
    """Send what is due, a batch per transaction, until nothing is left; returns the count.
    A batch is one statement per table: the reminders' UPDATE, the inbox entries' and the
    deliveries' INSERTs (and the events' INSERT for reminders that failed)."""
    sent = 0
    while True:
        with unit_of_work() as uow:
            batch = claim_due(uow, limit)
            settings = settings_of_many(uow.session, {reminder.user_id for reminder in batch})
            now, claimed = utcnow(), [(reminder.id, reminder.version) for reminder in batch]
            outcomes = [send(uow, reminder, settings[reminder.user_id], now)
                        for reminder in batch]
            _record_sent(uow, batch, claimed, now)
            uow.session.flush()  # one round of batched statements for the whole batch
            for reminder, cause in outcomes:
                if cause is not None:
                    publish_reminder(uow, "reminder.failed", reminder, cause=cause)
            uow.commit()
        sent += len(batch)
        if len(batch) < limit:
            return sent


def send(uow: UnitOfWork, reminder: Reminder, settings: Settings, now):
    """pending -> sent (or failed) in the caller's transaction: the inbox entry and the
    deliveries on the user's other channels. The reminder's new state is set as written
    by :func:`_record_sent`, which the caller runs for the batch. Returns the reminder and,
    when it could not be sent, why."""
    # A reminder set long in the past is sent at once; its lateness is capped to the column.
    lateness_ms = min((now - reminder.due_at) // dt.timedelta(milliseconds=1), MAX_LATENESS_MS)
    for field, value in (("sent_at", now), ("sent_by", INSTANCE), ("lateness_ms", lateness_ms),
                         ("version", reminder.version + 1), ("updated_at", now)):
        set_committed_value(reminder, field, value)
    if not settings.active:
        set_committed_value(reminder, "status", "failed")
        return reminder, "The user is deactivated."
    try:
        title, body = render(reminder.kind, settings.language, settings.timezone, reminder.due_at,
                             {"subject": reminder.subject or "", **reminder.context})
    except Exception as exc:  # noqa: BLE001 - one unrenderable reminder must not stop the rest
        set_committed_value(reminder, "status", "failed")
        return reminder, f"Could not render the message: {exc}"[:2000]
    set_committed_value(reminder, "status", "sent")
    notification = Notification(id=uuid.uuid4(), user_id=reminder.user_id,
                                reminder_id=reminder.id, kind=reminder.kind, title=title,
                                body=body, entity_type=reminder.entity_type,
                                entity_id=reminder.entity_id, created_at=now)
    uow.session.add(notification)
    if "email" in settings.channels and settings.email:
        uow.session.add(Delivery(
            dedup_key=f"email:{reminder.id}", channel="email", target=settings.email,
            reminder_id=reminder.id, event_type="reminder.sent",
            payload={"subject": title, "body": body, "language": settings.language}))
    return reminder, None


def _record_sent(uow: UnitOfWork, batch: list[Reminder], claimed: list[tuple], now) -> None:
    """The claimed reminders as :func:`send` left them, in one UPDATE (not one per
    reminder; the lateness computed by the database, not bound per row), guarded by the
    ``(id, version)`` pairs they were ``claimed`` at: one changed meanwhile (SQLite takes no
    row lock) fails the batch, which the next sweep takes again."""
    if not batch:
        return
    failed = [reminder.id for reminder in batch if reminder.status == "failed"]
    status = sa.case((Reminder.id.in_(failed), "failed"), else_="sent") if failed else "sent"
    result = uow.session.execute(
        sa.update(Reminder).where(sa.tuple_(Reminder.id, Reminder.version).in_(claimed)).values(
            status=status,
            lateness_ms=_LatenessMs(sa.bindparam("now", now, type_=UTCDateTime), Reminder.due_at),
            sent_at=now, sent_by=INSTANCE, version=Reminder.version + 1, updated_at=now,
        ).execution_options(synchronize_session=False))
    if result.rowcount != len(batch):
        raise StaleDataError(f"{len(batch) - result.rowcount} of {len(batch)} reminders "
                             "changed after they were claimed")


class _LatenessMs(FunctionElement):
    """Whole milliseconds from ``due_at`` to ``now``, capped to the column (on SQLite, whose
    julianday is a double, it may differ by one from what :func:`send` computed)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_LatenessMs, "postgresql")
def _lateness_ms_postgresql(element, compiler, **kw):
    now, due_at = (compiler.process(clause, **kw) for clause in element.clauses)
    return (f"CAST(TRUNC(LEAST(EXTRACT(EPOCH FROM ({now} - {due_at})) * 1000, "
            f"{MAX_LATENESS_MS})) AS INTEGER)")


@compiles(_LatenessMs, "sqlite")
def _lateness_ms_sqlite(element, compiler, **kw):
    now, due_at = (compiler.process(clause, **kw) for clause in element.clauses)
    return (f"CAST(MIN((julianday({now}) - julianday({due_at})) * 86400000, "
            f"{MAX_LATENESS_MS}) AS INTEGER)")


def announce_sent(unit_of_work: Callable[[], UnitOfWork], limit: int = BATCH) -> int:
    """``reminder.sent`` and ``notification.created`` for each inbox entry not yet announced,
    a batch per transaction (locked and skip-locked like the reminders, so each instance
    announces different entries), each entry marked announced in the transaction that writes
    its events: each is announced once. Returns the count."""
    announced = 0
    while True:
        with unit_of_work() as uow:
            query = (sa.select(Notification).where(Notification.announced_at.is_(None))
                     .order_by(Notification.created_at).limit(limit))
            if uow.session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            entries = uow.session.scalars(query).all()
            if entries:
                _announce(uow, entries)
                uow.commit()
        announced += len(entries)
        if len(entries) < limit:
            return announced


def _announce(uow: UnitOfWork, entries: list[Notification]) -> None:
    reminder_ids = [entry.reminder_id for entry in entries]
    reminders = {reminder.id: reminder for reminder in uow.session.scalars(
        sa.select(Reminder).where(Reminder.id.in_(reminder_ids)))}
    mailed = set(uow.session.scalars(sa.select(Delivery.reminder_id).where(
        Delivery.reminder_id.in_(reminder_ids), Delivery.channel == "email")))
    for entry in entries:
        reminder = reminders.get(entry.reminder_id)
        if reminder is not None and reminder.status == "sent":
            publish_reminder(uow, "reminder.sent", reminder)
        channels = ["in_app", "email"] if entry.reminder_id in mailed else ["in_app"]
        publish(uow, "notification.created", entry.id, None,
                {**notification_out.dump(entry), "channels": channels})
    result = uow.session.execute(
        sa.update(Notification).where(Notification.id.in_([entry.id for entry in entries]),
                                      Notification.announced_at.is_(None))
        .values(announced_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != len(entries):  # SQLite takes no row lock: another got there first
        raise StaleDataError(f"{len(entries) - result.rowcount} of {len(entries)} inbox entries "
                             "were announced meanwhile")


LATENESS_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 3600)


def metrics_of(session) -> list[dict]:
    """Reminder lateness (sent - due) as a histogram, and what is waiting, from the database:
    whichever instance is asked answers for all of them."""
    sent = Reminder.status == "sent"
    row = session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(Reminder.lateness_ms), 0),
        *[sa.func.count().filter(Reminder.lateness_ms <= bound * 1000) for bound in LATENESS_BUCKETS],
    ).where(sent, Reminder.lateness_ms.is_not(None))).one()
    count, total_ms, buckets = row[0], row[1], row[2:]
    pending = session.scalar(sa.select(sa.func.count()).where(Reminder.status == "pending"))
    failed_deliveries = session.scalar(
        sa.select(sa.func.count()).where(Delivery.status == "failed"))
    return [
        metrics.histogram("crm_reminder_lateness_seconds",
                          "How late reminders were sent (sent_at - due_at)",
                          LATENESS_BUCKETS, buckets, total_ms / 1000, count),
        metrics.family("crm_reminders_pending", "gauge", "Reminders waiting for their time",
                       [("", {}, pending)]),
        metrics.family("crm_deliveries_failed", "gauge",
                       "Mail and webhook deliveries that failed for good",
                       [("", {}, failed_deliveries)]),
    ]
