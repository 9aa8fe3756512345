"""The scheduler: send every reminder that is due, exactly once, with several instances.

Each sweep claims a batch of due pending reminders in one transaction, locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (so instances running at once take different rows;
SQLite serialises writers), and in that same transaction moves each from pending to sent,
records its lateness, writes the inbox entry, queues its deliveries on the user's other
channels and puts ``reminder.sent`` and ``notification.created`` into the outbox. Either all
of that commits or none of it: a reminder is sent once, and a crash leaves it pending for the
next sweep. Lateness is bounded by the sweep interval plus the time to send the batches ahead
of it (see docs/operations.md).
"""
from __future__ import annotations

import os
import socket
import uuid
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from common import metrics
from common.db import utcnow
from common.uow import UnitOfWork
from services.notifications import schemas as s
from services.notifications.models import Delivery, Notification, Reminder
from services.notifications.publishing import publish, publish_reminder
from services.notifications.settings import Settings, settings_of_many
from services.notifications.templates import render

BATCH = 200
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


def send_due(unit_of_work: Callable[[], UnitOfWork], limit: int = BATCH) -> int:
    """Send what is due, a batch per transaction, until nothing is left; returns the count.
    A batch is one statement per table: the reminders' UPDATE, the inbox entries' and the
    deliveries' INSERTs, the events' INSERT."""
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
            for outcome in outcomes:
                announce(uow, *outcome)
            uow.commit()
        sent += len(batch)
        if len(batch) < limit:
            return sent


def send(uow: UnitOfWork, reminder: Reminder, settings: Settings, now):
    """pending -> sent (or failed) in the caller's transaction: the inbox entry and the
    deliveries on the user's other channels. The reminder's new state is set as written
    by :func:`_record_sent`, which the caller runs for the batch. Returns what
    :func:`announce` publishes once flushed."""
    # A reminder set long in the past is sent at once; its lateness is capped to the column.
    lateness_ms = min(int((now - reminder.due_at).total_seconds() * 1000), MAX_LATENESS_MS)
    for field, value in (("sent_at", now), ("sent_by", INSTANCE), ("lateness_ms", lateness_ms),
                         ("version", reminder.version + 1), ("updated_at", now)):
        set_committed_value(reminder, field, value)
    if not settings.active:
        set_committed_value(reminder, "status", "failed")
        return reminder, None, [], "The user is deactivated."
    try:
        title, body = render(reminder.kind, settings.language, settings.timezone, reminder.due_at,
                             {"subject": reminder.subject or "", **reminder.context})
    except Exception as exc:  # noqa: BLE001 - one unrenderable reminder must not stop the rest
        set_committed_value(reminder, "status", "failed")
        return reminder, None, [], f"Could not render the message: {exc}"[:2000]
    set_committed_value(reminder, "status", "sent")
    notification = Notification(id=uuid.uuid4(), user_id=reminder.user_id,
                                reminder_id=reminder.id, kind=reminder.kind, title=title,
                                body=body, entity_type=reminder.entity_type,
                                entity_id=reminder.entity_id, created_at=now)
    uow.session.add(notification)
    channels = ["in_app"]
    if "email" in settings.channels and settings.email:
        channels.append("email")
        uow.session.add(Delivery(
            dedup_key=f"email:{reminder.id}", channel="email", target=settings.email,
            reminder_id=reminder.id, event_type="reminder.sent",
            payload={"subject": title, "body": body, "language": settings.language}))
    return reminder, notification, channels, None


def _record_sent(uow: UnitOfWork, batch: list[Reminder], claimed: list[tuple], now) -> None:
    """The claimed reminders as :func:`send` left them, in one UPDATE (not one per
    reminder), guarded by the ``(id, version)`` pairs they were ``claimed`` at: one changed
    meanwhile (SQLite takes no row lock) fails the batch, which the next sweep takes again."""
    if not batch:
        return
    result = uow.session.execute(
        sa.update(Reminder).where(sa.tuple_(Reminder.id, Reminder.version).in_(claimed)).values(
            status=sa.case({reminder.id: reminder.status for reminder in batch},
                           value=Reminder.id),
            lateness_ms=sa.case({reminder.id: reminder.lateness_ms for reminder in batch},
                                value=Reminder.id),
            sent_at=now, sent_by=INSTANCE, version=Reminder.version + 1, updated_at=now,
        ).execution_options(synchronize_session=False))
    if result.rowcount != len(batch):
        raise StaleDataError(f"{len(batch) - result.rowcount} of {len(batch)} reminders "
                             "changed after they were claimed")


def announce(uow: UnitOfWork, reminder: Reminder, notification: Notification | None,
             channels: list[str], cause: str | None) -> None:
    """``reminder.sent`` and ``notification.created`` (or ``reminder.failed``)."""
    if notification is None:
        publish_reminder(uow, "reminder.failed", reminder, cause=cause)
        return
    publish_reminder(uow, "reminder.sent", reminder)
    publish(uow, "notification.created", notification.id, None,
            {**notification_out.dump(notification), "channels": channels})


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
