"""Planning: the reminders a record asks for, kept exactly as it asks from one event to the next.

Every reminder has a ``dedup_key`` naming what asked for it (``follow_up:<activity>:<time>``,
``contract_expiry:<contract>:<days>:<end date>``...). A record's reminders of one kind form a
group that each of its events re-plans: the keys it wants now are created (or revived if they
were cancelled), the pending ones it no longer wants are cancelled, the sent ones are left
alone. So a repeated or replayed event makes nothing twice, a moved follow-up moves, a cleared
one is cancelled, and a time already sent is never sent again. What each consumed event wants
is decided in ``consumers``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from common.records import optional_uuid
from common.uow import UnitOfWork
from services.notifications.lifecycle import cancel
from services.notifications.models import Reminder
from services.notifications.publishing import publish_reminder


@dataclass(frozen=True)
class Wanted:
    """A reminder a record asks for now."""

    key: str
    due_at: dt.datetime
    context: dict = field(default_factory=dict)


# A group's reminders, alone or with any other holding a key wanted now: built once.
_GROUP = sa.and_(Reminder.kind == sa.bindparam("kind"),
                 Reminder.source_id == sa.bindparam("source_id"))
_GROUP_REMINDERS = sa.select(Reminder).where(_GROUP)
_GROUP_OR_KEYS_REMINDERS = sa.select(Reminder).where(
    sa.or_(_GROUP, Reminder.dedup_key.in_(sa.bindparam("keys", expanding=True))))


def plan(uow: UnitOfWork, *, kind: str, source_id, user_id, wanted: list[Wanted],
         entity_type: str | None = None, entity_id=None, subject: str | None = None) -> None:
    """Make the pending reminders of ``(kind, source_id)`` exactly ``wanted`` (see module)."""
    wanted_keys = {item.key for item in wanted}
    # The group's reminders, and in the same query any other holding a key wanted now.
    existing = uow.session.scalars(
        _GROUP_OR_KEYS_REMINDERS if wanted_keys else _GROUP_REMINDERS,
        {"kind": kind, "source_id": str(source_id), "keys": sorted(wanted_keys)}).all()
    for reminder in existing:
        if reminder.status == "pending" and reminder.dedup_key not in wanted_keys:
            cancel(uow, reminder)
    by_key = {reminder.dedup_key: reminder for reminder in existing}
    for item in wanted:
        reminder = by_key.get(item.key)
        fields = dict(user_id=optional_uuid(user_id), context=item.context, subject=subject,
                      entity_type=entity_type, entity_id=str(entity_id) if entity_id else None)
        if reminder is None:
            reminder = by_key[item.key] = Reminder(
                dedup_key=item.key, kind=kind, source_id=str(source_id), due_at=item.due_at,
                status="pending", **fields)
            uow.session.add(reminder)
            publish_reminder(uow, "reminder.created", reminder)
        elif reminder.status == "cancelled":
            _assign(reminder, status="pending", cancelled_at=None, **fields)
            publish_reminder(uow, "reminder.created", reminder)
        elif reminder.status == "pending":
            _assign(reminder, **fields)


def _assign(reminder: Reminder, **fields) -> None:
    """Set only what differs: a re-plan asking for the same leaves the row untouched."""
    for name, value in fields.items():
        if getattr(reminder, name) != value:
            setattr(reminder, name, value)
