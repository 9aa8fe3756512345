"""What becomes of pending reminders when something happens to what they are *about* rather
than to the record that planned them: cancelled (a customer deleted, a user cancelling one, or
a plan that no longer wants it), brought back (a customer restored), given to a new owner (a
customer's owner changed), made about another customer (one merged into it). Each change is
announced as a ``reminder.*`` event.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.db import utcnow
from common.records import optional_uuid
from common.uow import UnitOfWork
from services.notifications.models import Reminder
from services.notifications.publishing import publish_reminder


def cancel(uow: UnitOfWork, reminder: Reminder) -> None:
    reminder.status = "cancelled"
    reminder.cancelled_at = utcnow()
    publish_reminder(uow, "reminder.cancelled", reminder)


# Read on every customer.updated naming an owner (a new owner takes over its follow-ups)
# and when a customer goes to the trash: built once.
_PENDING_ABOUT = sa.select(Reminder).where(
    Reminder.kind == sa.bindparam("kind"), Reminder.entity_type == sa.bindparam("entity_type"),
    Reminder.entity_id == sa.bindparam("entity_id"), Reminder.status == "pending")


def _pending_about(uow: UnitOfWork, kind: str, entity_type: str, entity_id) -> list[Reminder]:
    return uow.session.scalars(_PENDING_ABOUT, {"kind": kind, "entity_type": entity_type,
                                                "entity_id": str(entity_id)}).all()


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
            Reminder.id.in_([optional_uuid(value) for value in reminder_ids]),
            Reminder.status == "cancelled")):
        if reminder.due_at > now:
            reminder.status, reminder.cancelled_at = "pending", None
            publish_reminder(uow, "reminder.updated", reminder)


def repoint_about(uow: UnitOfWork, entity_type: str, entity_id, new_entity_id) -> None:
    """Make the pending reminders of every kind about one entity about another (a customer
    merged into another)."""
    for reminder in uow.session.scalars(sa.select(Reminder).where(
            Reminder.entity_type == entity_type, Reminder.entity_id == str(entity_id),
            Reminder.status == "pending")).all():
        reminder.entity_id = str(new_entity_id)
        publish_reminder(uow, "reminder.updated", reminder)


def reassign_about(uow: UnitOfWork, kind: str, entity_type: str, entity_id, user_id) -> None:
    """Give the pending reminders of ``kind`` about one entity to a new owner."""
    for reminder in _pending_about(uow, kind, entity_type, entity_id):
        if str(reminder.user_id) != str(user_id):
            reminder.user_id = optional_uuid(user_id)
            publish_reminder(uow, "reminder.updated", reminder)
