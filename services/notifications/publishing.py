"""The events this service publishes: into the outbox, in the transaction of the change they
describe, and to the webhooks subscribed to their type (a webhook may subscribe to this
service's own events as well as to those it consumes)."""
from __future__ import annotations

from common.uow import UnitOfWork
from services.notifications import schemas as s
from services.notifications import webhooks
from services.notifications.models import Reminder

reminder_event = s.ReminderEventSchema()


def publish(uow: UnitOfWork, event_type: str, entity_id, version, data: dict) -> None:
    """An event of this service, into the outbox and to the webhooks subscribed to it."""
    webhooks.fan_out(uow, uow.emit(event_type, entity_id, version, data))


def publish_reminder(uow: UnitOfWork, event_type: str, reminder: Reminder, **extra) -> None:
    """A ``reminder.*`` event carrying the reminder as it is written (``extra``: a cause)."""
    if reminder in uow.session.new or reminder in uow.session.dirty:
        uow.session.flush()  # the event carries the version the row is written with
    publish(uow, event_type, reminder.id, reminder.version,
            {**reminder_event.dump(reminder), **extra})
