"""A user's own reminders through the API: they read theirs (whatever planned them), set
reminders by hand, change those while pending, and cancel any pending one. Another user's
reminder is not found, never shown.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from common import records
from common.errors import PreconditionFailed
from common.listing import order_by, paginate, where_equal
from common.uow import UnitOfWork
from common.validation import load
from services.notifications import schemas as s
from services.notifications.access import me
from services.notifications.lifecycle import cancel
from services.notifications.models import Reminder
from services.notifications.publishing import publish_reminder

reminder_out = s.ReminderSchema()


def _own(uow: UnitOfWork, reminder_id) -> Reminder:
    return records.found(uow.session, Reminder, reminder_id, "reminder",
                         lambda row: row.user_id == me(uow))


def create_reminder(uow: UnitOfWork, payload) -> dict:
    data = load(s.ReminderCreateSchema, payload)
    reminder_id = uuid.uuid4()
    reminder = Reminder(id=reminder_id, dedup_key=f"manual:{reminder_id}", kind="manual",
                        user_id=me(uow), created_by=me(uow), status="pending",
                        source_id=str(reminder_id), context={"subject": data["subject"]}, **data)
    uow.session.add(reminder)
    publish_reminder(uow, "reminder.created", reminder)
    uow.commit()
    return reminder_out.dump(reminder)


def list_reminders(uow: UnitOfWork, query_args) -> dict:
    args = load(s.ReminderListQuerySchema, query_args)
    query = sa.select(Reminder).where(Reminder.user_id == me(uow))
    query = where_equal(query, Reminder, args, ("status", "kind"))
    query = query.order_by(*order_by(Reminder, args["sort"], s.REMINDER_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=reminder_out.dump)


def get_reminder(uow: UnitOfWork, reminder_id) -> dict:
    return reminder_out.dump(_own(uow, reminder_id))


def update_reminder(uow: UnitOfWork, reminder_id, payload) -> dict:
    """Change a pending reminder set by hand; a change that changes nothing answers it as it
    is (same version) and announces nothing."""
    data = load(s.ReminderUpdateSchema, payload)
    version = data.pop("version")
    reminder = _own(uow, reminder_id)

    def apply():
        if reminder.kind != "manual" or reminder.status != "pending":
            raise PreconditionFailed("Only a pending reminder you set by hand can be changed.")
        for name, value in data.items():
            setattr(reminder, name, value)
        if "subject" in data:
            reminder.context = {**reminder.context, "subject": data["subject"]}

    if records.update(uow, reminder, version, reminder_out.dump, apply) is not None:
        publish_reminder(uow, "reminder.updated", reminder)
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
