"""500 reminders due in the same second, three scheduler instances on one PostgreSQL
database: each reminder is sent exactly once, and announced exactly once (counted from the
database)."""
import datetime as dt

import pytest
import sqlalchemy as sa

from common.db import utcnow
from services.notifications.models import Notification, Reminder, platform
from tests.support.notifications import SchedulerFleet
from tests.support.stack import wait_until

COUNT = 500


@pytest.fixture
def fleet(tmp_path):
    running = SchedulerFleet(tmp_path, instances=3)
    try:
        yield running.start()
    finally:
        running.stop()


def test_three_instances_send_each_of_500_simultaneous_reminders_once(fleet):
    fleet.schedule(COUNT, utcnow() + dt.timedelta(seconds=1))
    sent = sa.select(sa.func.count()).select_from(Reminder).where(Reminder.status == "sent")
    wait_until(lambda: fleet.query(sent)[0][0] == COUNT, timeout=90, message="all sent")
    per_reminder = fleet.query(sa.select(Notification.reminder_id, sa.func.count())
                               .group_by(Notification.reminder_id))
    assert len(per_reminder) == COUNT and {count for _, count in per_reminder} == {1}
    # Their events follow the inbox entries (announced in transactions of their own).
    reminder_sent = (sa.select(platform.Outbox.payload["entity_id"].as_string(), sa.func.count())
                     .where(platform.Outbox.routing_key == "reminder.sent")
                     .group_by(platform.Outbox.payload["entity_id"].as_string()))
    wait_until(lambda: len(fleet.query(reminder_sent)) == COUNT, timeout=90,
               message="every reminder announced")
    assert {count for _, count in fleet.query(reminder_sent)} == {1}
    unannounced = sa.select(sa.func.count()).select_from(Notification).where(
        Notification.announced_at.is_(None))
    assert fleet.query(unannounced)[0][0] == 0
    instances = fleet.query(sa.select(Reminder.sent_by, sa.func.count()).group_by(Reminder.sent_by))
    print("reminders sent per instance:", dict(instances))
