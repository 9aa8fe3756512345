"""The schedule: reminders planned from what happened elsewhere, and those users set by hand.

Every reminder has a ``dedup_key`` naming what asked for it (``follow_up:<activity>:<time>``,
``contract_expiry:<contract>:<days>:<end date>``...). A record's reminders of one kind form a
group that each of its events re-plans: the keys it wants now are created (or revived if they
were cancelled), the pending ones it no longer wants are cancelled, the sent ones are left
alone. So a repeated or replayed event makes nothing twice, a moved follow-up moves, a cleared
one is cancelled, and a time already sent is never sent again.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from common.db import utcnow
from common.errors import NotFound, PreconditionFailed
from common.listing import order_by, paginate
from common.records import check_version
from common.uow import UnitOfWork
from common.validation import load
from services.notifications import schemas as s
from services.notifications import webhooks
from services.notifications.access import me
from services.notifications.models import Preference, Recipient, Reminder, TrackedEntity
from services.notifications.templates import zone

reminder_out = s.ReminderSchema()
event_out = s.ReminderEventSchema()
DEFAULT_CHANNELS = ("in_app", "email")


@dataclass(frozen=True)
class Wanted:
    """A reminder a record asks for now."""

    key: str
    due_at: dt.datetime
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """How to reach a user: their preferences over their profile over the defaults."""

    channels: tuple[str, ...]
    language: str
    timezone: str
    email: str | None
    active: bool = True


def settings_of(session, user_id) -> Settings:
    return settings_of_many(session, [user_id])[as_uuid(user_id)]


def settings_of_many(session, user_ids) -> dict[uuid.UUID, Settings]:
    """The settings of several users in two queries (the scheduler reads a batch at once)."""
    keys = {as_uuid(user_id) for user_id in user_ids}
    recipients = {row.user_id: row for row in session.scalars(
        sa.select(Recipient).where(Recipient.user_id.in_(keys)))}
    preferences = {row.user_id: row for row in session.scalars(
        sa.select(Preference).where(Preference.user_id.in_(keys)))}
    return {key: _settings(recipients.get(key), preferences.get(key)) for key in keys}


def _settings(recipient: Recipient | None, preference: Preference | None) -> Settings:
    language = (preference and preference.language) or (recipient and recipient.language) or "en"
    timezone = (preference and preference.timezone) or (recipient and recipient.timezone) or "UTC"
    channels = tuple(preference.channels) if preference else DEFAULT_CHANNELS
    return Settings(
        channels=channels,
        language=language,
        timezone=timezone,
        email=recipient.email if recipient else None,
        active=recipient.active if recipient else True,
    )


def as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def morning_of(day: dt.date, timezone: str) -> dt.datetime:
    """09:00 of ``day`` in the user's time zone, in UTC: when date-based reminders fire."""
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone(timezone)).astimezone(dt.timezone.utc)


# -- entity versions -------------------------------------------------------------------------
def newer(uow: UnitOfWork, entity_type: str, entity_id, version) -> TrackedEntity | None:
    """The tracked row of a source entity, locked, when ``version`` is newer than the one
    held (and now recorded); ``None`` when the event is older or the same: ignore it."""
    row = tracked(uow, entity_type, entity_id)
    if version is not None:
        if version <= row.version:
            return None
        row.version = version
    return row


def tracked(uow: UnitOfWork, entity_type: str, entity_id) -> TrackedEntity:
    key = (entity_type, str(entity_id))
    row = uow.session.get(TrackedEntity, key, with_for_update=True)
    if row is None:
        row = TrackedEntity(entity_type=entity_type, entity_id=str(entity_id), version=0, state={})
        uow.session.add(row)
    return row


# -- planning --------------------------------------------------------------------------------
def publish(uow: UnitOfWork, event_type: str, entity_id, version, data: dict) -> None:
    """An event of this service, into the outbox and to the webhooks subscribed to it."""
    webhooks.fan_out(uow, uow.emit(event_type, entity_id, version, data))


def emit(uow: UnitOfWork, event_type: str, reminder: Reminder, **extra) -> None:
    if reminder in uow.session.new or reminder in uow.session.dirty:
        uow.session.flush()  # the event carries the version the row is written with
    publish(uow, event_type, reminder.id, reminder.version, {**event_out.dump(reminder), **extra})


def plan(uow: UnitOfWork, *, kind: str, source_id, user_id, wanted: list[Wanted],
         entity_type: str | None = None, entity_id=None, subject: str | None = None) -> None:
    """Make the pending reminders of ``(kind, source_id)`` exactly ``wanted`` (see module)."""
    existing = uow.session.scalars(
        sa.select(Reminder).where(Reminder.kind == kind, Reminder.source_id == str(source_id))
    ).all()
    wanted_keys = {item.key for item in wanted}
    for reminder in existing:
        if reminder.status == "pending" and reminder.dedup_key not in wanted_keys:
            cancel(uow, reminder)
    by_key = {reminder.dedup_key: reminder for reminder in existing}
    for item in wanted:
        reminder = by_key.get(item.key) or uow.session.scalar(
            sa.select(Reminder).where(Reminder.dedup_key == item.key))
        fields = dict(user_id=as_uuid(user_id), context=item.context, subject=subject,
                      entity_type=entity_type, entity_id=str(entity_id) if entity_id else None)
        if reminder is None:
            reminder = Reminder(dedup_key=item.key, kind=kind, source_id=str(source_id),
                                due_at=item.due_at, status="pending", **fields)
            uow.session.add(reminder)
            emit(uow, "reminder.created", reminder)
        elif reminder.status == "cancelled":
            _assign(reminder, status="pending", cancelled_at=None, **fields)
            emit(uow, "reminder.created", reminder)
        elif reminder.status == "pending":
            _assign(reminder, **fields)


def _assign(reminder: Reminder, **fields) -> None:
    for name, value in fields.items():
        if getattr(reminder, name) != value:
            setattr(reminder, name, value)


def cancel(uow: UnitOfWork, reminder: Reminder) -> None:
    reminder.status = "cancelled"
    reminder.cancelled_at = utcnow()
    emit(uow, "reminder.cancelled", reminder)


def _pending_about(uow: UnitOfWork, kind: str, entity_type: str, entity_id) -> list[Reminder]:
    return uow.session.scalars(sa.select(Reminder).where(
        Reminder.kind == kind, Reminder.entity_type == entity_type,
        Reminder.entity_id == str(entity_id), Reminder.status == "pending")).all()


def cancel_about(uow: UnitOfWork, kind: str, entity_type: str, entity_id) -> list[Reminder]:
    """Cancel the pending reminders of ``kind`` about one entity (a deleted customer...)."""
    pending = _pending_about(uow, kind, entity_type, entity_id)
    for reminder in pending:
        cancel(uow, reminder)
    return pending


def reopen(uow: UnitOfWork, reminder_ids) -> None:
    """Bring back cancelled reminders that are still in the future (a restored customer)."""
    if not reminder_ids:
        return
    now = utcnow()
    for reminder in uow.session.scalars(sa.select(Reminder).where(
            Reminder.id.in_([as_uuid(value) for value in reminder_ids]),
            Reminder.status == "cancelled")):
        if reminder.due_at > now:
            reminder.status, reminder.cancelled_at = "pending", None
            emit(uow, "reminder.updated", reminder)


def reassign_about(uow: UnitOfWork, kind: str, entity_type: str, entity_id, user_id) -> None:
    """Give the pending reminders of ``kind`` about one entity to a new owner."""
    for reminder in _pending_about(uow, kind, entity_type, entity_id):
        if str(reminder.user_id) != str(user_id):
            reminder.user_id = as_uuid(user_id)
            emit(uow, "reminder.updated", reminder)


# -- reminders users set by hand -------------------------------------------------------------
def _own(uow: UnitOfWork, reminder_id) -> Reminder:
    try:
        key = uuid.UUID(str(reminder_id))
    except ValueError:
        key = None
    reminder = uow.session.get(Reminder, key) if key else None
    if reminder is None or reminder.user_id != me(uow):
        raise NotFound(f"No reminder with id {reminder_id}.")
    return reminder


def create_reminder(uow: UnitOfWork, payload) -> dict:
    data = load(s.ReminderCreateSchema(), payload)
    reminder_id = uuid.uuid4()
    reminder = Reminder(id=reminder_id, dedup_key=f"manual:{reminder_id}", kind="manual",
                        user_id=me(uow), created_by=me(uow), status="pending",
                        source_id=str(reminder_id), context={"subject": data["subject"]}, **data)
    uow.session.add(reminder)
    emit(uow, "reminder.created", reminder)
    uow.commit()
    return reminder_out.dump(reminder)


def list_reminders(uow: UnitOfWork, query_args) -> dict:
    args = load(s.ReminderListQuerySchema(), query_args)
    query = sa.select(Reminder).where(Reminder.user_id == me(uow))
    for name in ("status", "kind"):
        if name in args:
            query = query.where(getattr(Reminder, name) == args[name])
    query = query.order_by(*order_by(Reminder, args["sort"], s.REMINDER_SORT_FIELDS))
    return paginate(uow.session, query, page=args["page"], per_page=args["per_page"],
                    dump=reminder_out.dump)


def get_reminder(uow: UnitOfWork, reminder_id) -> dict:
    return reminder_out.dump(_own(uow, reminder_id))


def update_reminder(uow: UnitOfWork, reminder_id, payload) -> dict:
    data = load(s.ReminderUpdateSchema(), payload)
    reminder = _own(uow, reminder_id)
    check_version(reminder, data.pop("version"))
    if reminder.kind != "manual" or reminder.status != "pending":
        raise PreconditionFailed("Only a pending reminder you set by hand can be changed.")
    _assign(reminder, **data)
    if "subject" in data:
        reminder.context = {**reminder.context, "subject": data["subject"]}
    emit(uow, "reminder.updated", reminder)
    uow.commit()
    return reminder_out.dump(reminder)


def cancel_reminder(uow: UnitOfWork, reminder_id) -> None:
    reminder = _own(uow, reminder_id)
    if reminder.status == "cancelled":
        return
    if reminder.status != "pending":
        raise PreconditionFailed(f"The reminder is already {reminder.status}.")
    cancel(uow, reminder)
    uow.commit()

