"""The notifications service layer driven directly, without a broker (SQLite in memory):
planning reminders from events, the scheduler, the inbox, templates, webhooks, back-off."""
import datetime as dt
import hashlib
import hmac
import time
import uuid

import eventlet
import pytest
import sqlalchemy as sa

from common import retention
from common.actor import Actor
from common.db import create_db_engine, make_session_factory, utcnow
from common.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationError
from common.events import envelope
from common.uow import UnitOfWork
from services.notifications import consumers, delivery, inbox, reminders, scheduler, webhooks
from services.notifications import schemas as s
from services.notifications.models import (
    Base, Delivery, DeliveryAttempt, Notification, Preference, Reminder, platform,
)
from services.notifications.planning import Wanted, plan
from services.notifications.settings import settings_of
from services.notifications.templates import render

SAM = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=str(uuid.uuid4()))
SARA = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=str(uuid.uuid4()))
ADMIN = Actor(user_id=str(uuid.uuid4()), role="admin")
SYSTEM = Actor.system("test")


@pytest.fixture
def db():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)

    def unit_of_work(actor=SYSTEM):
        return UnitOfWork(factory, platform, "notifications", actor)

    def run(actor, operation, *args):
        with unit_of_work(actor) as uow:
            return operation(uow, *args)

    def consume(event):
        with unit_of_work() as uow:
            consumers.EVENTS[event["source"], event["type"]](uow, event)
            uow.commit()

    def rows(model, *where):
        with factory() as session:
            return session.scalars(sa.select(model).where(*where)).all()

    def outbox():
        with factory() as session:
            return [row.routing_key for row in session.scalars(
                sa.select(platform.Outbox).order_by(platform.Outbox.created_at))]

    run.factory, run.uow, run.consume, run.rows, run.outbox = (
        factory, unit_of_work, consume, rows, outbox)
    yield run
    engine.dispose()


def event(source, event_type, data, version):
    return envelope(source=source, event_type=event_type, entity_id=data["id"],
                    entity_version=version, data=data, actor=None)


def activity(version, next_follow_up_at, activity_id=None, customer_id=None, **extra):
    data = {"id": activity_id or str(uuid.uuid4()), "customer_id": customer_id or str(uuid.uuid4()),
            "customer_name": "Acme", "owner_id": SAM.user_id, "team_id": SAM.team_id,
            "user_id": SAM.user_id, "occurred_at": utcnow().isoformat(),
            "next_follow_up_at": next_follow_up_at and next_follow_up_at.isoformat(), **extra}
    return event("customers", "activity.logged" if version == 1 else "activity.updated", data,
                 version)


def pending(run, kind=None):
    where = [Reminder.status == "pending"] + ([Reminder.kind == kind] if kind else [])
    return run.rows(Reminder, *where)


def send_due(run):
    """What a sweep does: send what is due, then announce it."""
    sent = scheduler.send_due(run.uow)
    scheduler.announce_sent(run.uow)
    return sent


# -- follow-ups ------------------------------------------------------------------------------
def test_a_follow_up_makes_one_reminder_however_often_its_event_comes(db):
    due = utcnow() + dt.timedelta(hours=1)
    logged = activity(1, due)
    db.consume(logged)
    db.consume(logged)
    # The same fact in a new envelope (a replay with a new id) finds the same dedup key.
    db.consume({**logged, "id": str(uuid.uuid4()), "entity_version": 2})
    (reminder,) = db.rows(Reminder)
    assert reminder.kind == "follow_up" and reminder.due_at == due and reminder.status == "pending"
    assert reminder.user_id == uuid.UUID(SAM.user_id)
    assert reminder.dedup_key == f"follow_up:{logged['data']['id']}:{due.isoformat()}"
    assert db.outbox() == ["reminder.created"]


def test_a_moved_follow_up_moves_and_a_cleared_one_is_cancelled(db):
    first, moved = utcnow() + dt.timedelta(hours=1), utcnow() + dt.timedelta(hours=2)
    logged = activity(1, first)
    activity_id = logged["data"]["id"]
    db.consume(logged)
    db.consume(activity(2, moved, activity_id))
    assert [r.due_at for r in pending(db)] == [moved]
    # An older event arriving late does not go backwards.
    db.consume(activity(1, first, activity_id))
    assert [r.due_at for r in pending(db)] == [moved]
    db.consume(activity(3, None, activity_id))
    assert pending(db) == []
    assert sorted(r.status for r in db.rows(Reminder)) == ["cancelled", "cancelled"]
    # Moved back to the first time: that reminder comes back, no new row.
    db.consume(activity(4, first, activity_id))
    assert [r.due_at for r in pending(db)] == [first] and len(db.rows(Reminder)) == 2


def test_a_deleted_customer_cancels_its_follow_ups(db):
    customer_id = str(uuid.uuid4())
    db.consume(activity(1, utcnow() + dt.timedelta(hours=1), customer_id=customer_id))
    db.consume(activity(1, utcnow() + dt.timedelta(hours=2), customer_id=customer_id))
    db.consume(event("customers", "customer.deleted", {"id": customer_id}, 3))
    assert pending(db) == [] and db.outbox().count("reminder.cancelled") == 2


def test_a_restored_customer_gets_its_future_follow_ups_back(db):
    customer_id = str(uuid.uuid4())
    db.consume(activity(1, utcnow() + dt.timedelta(hours=1), customer_id=customer_id))
    db.consume(event("customers", "customer.deleted", {"id": customer_id}, 3))
    # A follow-up logged just before the deletion, handled after it: held, not lost.
    db.consume(activity(1, utcnow() + dt.timedelta(hours=3), customer_id=customer_id))
    assert pending(db) == []
    db.consume(event("customers", "customer.restored", {"id": customer_id}, 4))
    assert len(pending(db)) == 2 and db.outbox().count("reminder.updated") == 2
    # A late copy of the deletion does not cancel them again.
    db.consume(event("customers", "customer.deleted", {"id": customer_id}, 3))
    assert len(pending(db)) == 2


def test_a_new_customer_owner_takes_over_its_follow_ups(db):
    customer_id, new_owner = str(uuid.uuid4()), str(uuid.uuid4())
    db.consume(activity(1, utcnow() + dt.timedelta(hours=1), customer_id=customer_id))
    db.consume(event("customers", "customer.updated", {"id": customer_id, "owner_id": new_owner}, 2))
    assert [str(r.user_id) for r in pending(db)] == [new_owner]


# -- deals, contracts, leads -----------------------------------------------------------------
def deal(version, event_type="deal.updated", status="open", close_in_days=10, deal_id=None,
         stage_changed_at=None):
    data = {"id": deal_id or str(uuid.uuid4()), "title": "Big deal", "customer_id": str(uuid.uuid4()),
            "owner_id": SAM.user_id, "team_id": SAM.team_id, "amount": "1000.00",
            "currency": "CNY", "stage": "proposal", "status": status,
            "expected_close_date": (utcnow().date() + dt.timedelta(days=close_in_days)).isoformat(),
            "stage_changed_at": (stage_changed_at or utcnow()).isoformat(), "version": version}
    return event("sales", event_type, data, version)


def test_deal_closing_and_stale_reminders_follow_the_deal(db):
    changed = utcnow() - dt.timedelta(days=1)
    created = deal(1, "deal.created", stage_changed_at=changed)
    deal_id = created["data"]["id"]
    db.consume(created)
    (closing,) = pending(db, "deal_closing")
    close_date = dt.date.fromisoformat(created["data"]["expected_close_date"])
    assert closing.due_at == dt.datetime.combine(close_date - dt.timedelta(days=3), dt.time(9),
                                                 tzinfo=dt.timezone.utc)
    (stale,) = pending(db, "deal_stale")
    assert stale.due_at == changed + dt.timedelta(days=14)
    # An activity on the deal starts a new idle period: the stale reminder moves.
    touched = utcnow()
    db.consume(activity(1, None, deal_id=deal_id, occurred_at=touched.isoformat()))
    (stale,) = pending(db, "deal_stale")
    assert stale.due_at == touched + dt.timedelta(days=14)
    # A new expected close date moves the closing reminder.
    db.consume(deal(2, close_in_days=20, deal_id=deal_id, stage_changed_at=changed))
    (closing,) = pending(db, "deal_closing")
    assert closing.due_at.date() == utcnow().date() + dt.timedelta(days=17)
    db.consume(deal(3, "deal.won", status="won", deal_id=deal_id, stage_changed_at=changed))
    assert pending(db) == []


def test_a_stale_deal_is_reminded_once_per_idle_period(db):
    idle_since = utcnow() - dt.timedelta(days=15)
    created = deal(1, "deal.created", stage_changed_at=idle_since)
    db.consume(created)
    assert send_due(db) == 1
    # More events with nothing new: the same idle period, no second reminder.
    db.consume(deal(2, deal_id=created["data"]["id"], stage_changed_at=idle_since))
    assert send_due(db) == 0
    assert [r.status for r in db.rows(Reminder, Reminder.kind == "deal_stale")] == ["sent"]
    # A stage change starts a new idle period, with its own reminder in 14 days.
    db.consume(deal(3, deal_id=created["data"]["id"], stage_changed_at=utcnow()))
    assert len(pending(db, "deal_stale")) == 1


def contract(version, end_in_days, status="active", contract_id=None):
    data = {"id": contract_id or str(uuid.uuid4()), "number": "C-2026-0001",
            "deal_id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4()),
            "owner_id": SAM.user_id, "team_id": SAM.team_id, "amount": "5000.00",
            "currency": "CNY", "start_date": utcnow().date().isoformat(),
            "end_date": (utcnow().date() + dt.timedelta(days=end_in_days)).isoformat(),
            "status": status}
    return event("sales", "contract.updated" if version > 1 else "contract.created", data, version)


def test_contract_expiry_reminders_30_7_1_days_before_and_cancelled_when_terminated(db):
    created = contract(1, 40)
    db.consume(created)
    assert sorted(r.context["days"] for r in pending(db)) == [1, 7, 30]
    db.consume(contract(2, 40, status="terminated", contract_id=created["data"]["id"]))
    assert pending(db) == []
    db.consume(contract(1, 5))  # a new contract ending in 5 days: only the 1-day notice
    assert [r.context["days"] for r in pending(db)] == [1]


def test_a_lead_assignment_notifies_the_new_owner_at_once(db):
    data = {"id": str(uuid.uuid4()), "name": "Li Lei", "company": "Acme", "owner_id": SARA.user_id,
            "team_id": SARA.team_id, "previous_owner_id": SAM.user_id, "region": "East",
            "status": "new", "version": 2}
    db.consume(event("sales", "lead.assigned", data, 2))
    db.consume(event("sales", "lead.assigned", data, 2))
    assert send_due(db) == 1
    (note,) = db(SARA, inbox.list_notifications, {})["items"]
    assert note["title"] == "Lead assigned to you: Li Lei" and note["kind"] == "lead_assigned"


# -- the scheduler, the inbox, preferences, templates ----------------------------------------
def user_event(actor, version=1, **fields):
    data = {"id": actor.user_id, "username": "u", "display_name": "U", "email": "u@example.com",
            "role": actor.role, "team_id": actor.team_id, "language": "en", "timezone": "UTC",
            "active": True, "version": version, **fields}
    return event("gateway", "user.updated" if version > 1 else "user.created", data, version)


def test_the_scheduler_sends_a_due_reminder_once_with_its_lateness_and_channels(db):
    db.consume(user_event(SAM))
    db.consume(activity(1, utcnow() - dt.timedelta(seconds=1)))
    db.consume(activity(1, utcnow() + dt.timedelta(hours=1)))
    assert send_due(db) == 1
    assert send_due(db) == 0
    (sent,) = db.rows(Reminder, Reminder.status == "sent")
    assert sent.sent_at >= sent.due_at and sent.lateness_ms >= 1000 and sent.sent_by
    (mail,) = db.rows(Delivery)
    assert (mail.channel, mail.target, mail.reminder_id) == ("email", "u@example.com", sent.id)
    assert mail.payload["subject"] == "Follow up with Acme"
    assert db.outbox().count("reminder.sent") == 1 and db.outbox().count("notification.created") == 1
    assert db(SAM, inbox.unread_count) == {"count": 1}


def test_a_user_turning_mail_off_gets_the_inbox_only_and_a_deactivated_user_nothing(db):
    db.consume(user_event(SAM))
    db(SAM, inbox.set_preferences, {"channels": []})
    assert db(SAM, inbox.get_preferences)["channels"] == ["in_app"]
    db.consume(activity(1, utcnow()))
    assert send_due(db) == 1 and db.rows(Delivery) == []
    db.consume(user_event(SAM, version=2, active=False))
    db.consume(activity(1, utcnow()))
    send_due(db)
    assert [r.status for r in db.rows(Reminder, Reminder.status == "failed")] == ["failed"]


def test_the_inbox_unread_filter_count_read_and_read_all(db):
    for _ in range(3):
        db.consume(activity(1, utcnow()))
    send_due(db)
    items = db(SAM, inbox.list_notifications, {"unread": "true"})["items"]
    assert len(items) == 3
    assert db(SAM, inbox.mark_read, items[0]["id"])["read_at"] is not None
    assert db(SAM, inbox.unread_count) == {"count": 2}
    assert db(SAM, inbox.list_notifications, {"unread": "false"})["total"] == 1
    with pytest.raises(NotFound):
        db(SARA, inbox.mark_read, items[1]["id"])
    assert db(SAM, inbox.mark_all_read) == {"updated": 2}
    assert db(SAM, inbox.unread_count) == {"count": 0}


def test_a_user_event_older_than_the_directorys_copy_is_ignored(db):
    db.consume(user_event(SAM, version=3, email="new@example.com", timezone="Asia/Shanghai"))
    db.consume(user_event(SAM, version=2, email="old@example.com", timezone="Europe/Paris"))
    with db.factory() as session:
        settings = settings_of(session, SAM.user_id)
    assert (settings.email, settings.timezone) == ("new@example.com", "Asia/Shanghai")
    # A deactivation that comes late does not undo a newer reactivation either.
    db.consume(user_event(SAM, version=5, active=True))
    db.consume(user_event(SAM, version=4, active=False))
    with db.factory() as session:
        assert settings_of(session, SAM.user_id).active


def test_user_events_reach_webhooks_and_team_events_only_the_directory(db, monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    db(ADMIN, webhooks.create_webhook,
       {"url": "http://127.0.0.1:9/hook", "event_types": ["user.updated"]})
    db.consume(user_event(SAM, version=2))
    team = {"id": SAM.team_id, "name": "East", "manager_id": None, "version": 1}
    db.consume(event("gateway", "team.created", team, 1))
    assert [d.event_type for d in db.rows(Delivery)] == ["user.updated"]
    with db.factory() as session:
        assert session.get(platform.DirectoryTeam, uuid.UUID(SAM.team_id)).name == "East"
    # told again at the same version (gateway.identity.announce): nothing new, nothing sent
    db.consume(user_event(SAM, version=2))
    assert len(db.rows(Delivery)) == 1


def test_webhooks_may_subscribe_to_every_event_handed_to_them():
    """What the service consumes and hands on (``consumers.EVENTS``, all but ``team.*``) is
    what the public contract lets a webhook subscribe to, besides the service's own."""
    handed_on = {(source, kind) for source, kind in consumers.EVENTS
                 if not kind.startswith("team.")}
    assert handed_on == {(source, kind) for source, kinds in s.CONSUMED_EVENTS.items()
                         for kind in kinds}
    assert set(s.WEBHOOK_EVENT_TYPES) == {kind for _, kind in handed_on} | set(s.OWN_EVENTS)


def test_preferences_as_they_are_write_nothing(db):
    db(SAM, inbox.set_preferences, {"channels": ["email"]})  # the defaults: no row
    with db.factory() as session:
        assert session.scalars(sa.select(Preference)).all() == []
    db(SAM, inbox.set_preferences, {"channels": [], "timezone": "Asia/Shanghai"})
    with db.factory() as session:
        written = session.get(Preference, uuid.UUID(SAM.user_id)).updated_at
    db(SAM, inbox.set_preferences, {"channels": [], "timezone": "Asia/Shanghai"})
    with db.factory() as session:
        assert session.get(Preference, uuid.UUID(SAM.user_id)).updated_at == written


def test_chinese_template_in_the_users_time_zone(db):
    db.consume(user_event(SAM, language="zh-CN", timezone="Asia/Shanghai"))
    due = dt.datetime(2030, 1, 2, 1, 30, tzinfo=dt.timezone.utc)
    title, body = render("follow_up", "zh-CN", "Asia/Shanghai", due, {"customer_name": "阿克米"})
    assert title == "跟进提醒：阿克米"
    assert body == "您与 阿克米 的跟进时间是 2030年01月02日 09:30（Asia/Shanghai）。"
    title, body = render("follow_up", "en", "America/New_York", due, {"customer_name": "Acme"})
    assert body == "Your follow-up with Acme is due at 2030-01-01 20:30 (America/New_York)."
    # Preferences override the profile.
    db(SAM, inbox.set_preferences, {"channels": ["email"], "language": "en", "timezone": None})
    assert db(SAM, inbox.get_preferences) == {
        "channels": ["in_app", "email"], "language": "en", "timezone": "Asia/Shanghai"}
    with pytest.raises(ValidationError):
        db(SAM, inbox.set_preferences, {"channels": [], "timezone": "Mars/Olympus"})


# -- reminders set by hand -------------------------------------------------------------------
def test_manual_reminders_belong_to_their_user(db):
    due = (utcnow() + dt.timedelta(hours=1)).isoformat()
    created = db(SAM, reminders.create_reminder, {"due_at": due, "subject": "Call back"})
    assert created["kind"] == "manual" and created["status"] == "pending"
    assert db(SAM, reminders.list_reminders, {})["total"] == 1
    assert db(SARA, reminders.list_reminders, {})["total"] == 0
    with pytest.raises(NotFound):
        db(SARA, reminders.update_reminder, created["id"], {"version": 1, "subject": "x"})
    changed = db(SAM, reminders.update_reminder, created["id"], {"version": 1, "subject": "Call"})
    assert changed["subject"] == "Call" and changed["version"] == 2
    db(SAM, reminders.cancel_reminder, created["id"])
    assert db(SAM, reminders.get_reminder, created["id"])["status"] == "cancelled"
    with pytest.raises(PreconditionFailed):
        db(SAM, reminders.update_reminder, created["id"], {"version": 3, "subject": "late"})
    with pytest.raises(Forbidden):
        db(SYSTEM, reminders.list_reminders, {})


def test_a_reminder_change_that_changes_nothing_publishes_nothing_and_keeps_the_version(db):
    due = (utcnow() + dt.timedelta(hours=1)).replace(microsecond=0)
    created = db(SAM, reminders.create_reminder, {"due_at": due.isoformat(), "subject": "Call"})
    same = db(SAM, reminders.update_reminder, created["id"],
              {"version": 1, "subject": "Call", "due_at": due.isoformat()})
    assert same == created and db.outbox() == ["reminder.created"]
    assert db(SAM, reminders.get_reminder, created["id"])["version"] == 1
    # Still checked like any change: a stale version is refused.
    with pytest.raises(Conflict):
        db(SAM, reminders.update_reminder, created["id"], {"version": 2, "subject": "Call"})
    changed = db(SAM, reminders.update_reminder, created["id"], {"version": 1, "subject": "Mail"})
    assert changed["version"] == 2 and db.outbox() == ["reminder.created", "reminder.updated"]


# -- webhooks --------------------------------------------------------------------------------
def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"type":"reminder.sent"}'
    header = webhooks.signature("s3cret-s3cret-s3cret", 1700000000, body)
    expected = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    now = 1700000000 + 60
    assert webhooks.verify("s3cret-s3cret-s3cret", header, body, now=now)
    assert not webhooks.verify("s3cret-s3cret-s3cret", header, body + b" ", now=now)
    # an old delivery replayed is refused; a malformed header is not valid, never an error
    assert not webhooks.verify("s3cret-s3cret-s3cret", header, body, now=now + 3600)
    for malformed in ("", "t=abc,v1=00", "v1=00", "garbage", None):
        assert not webhooks.verify("s3cret-s3cret-s3cret", malformed, body, now=now)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://169.254.169.254/latest", "http://[::1]/hook",
    "http://100.64.0.1/hook", "http://0.0.0.0/hook",
    # IPv6 spellings of private IPv4 addresses: NAT64, 6to4, Teredo
    "http://[64:ff9b::a00:1]/hook",
    "http://[64:ff9b::7f00:1]/hook", "http://[2002:c0a8:0001::1]/hook",
    "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
])
def test_private_webhook_urls_are_refused(db, monkeypatch, url):
    monkeypatch.delenv("CRM_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(ValidationError) as error:
        db(ADMIN, webhooks.create_webhook, {"url": url, "event_types": ["reminder.sent"]})
    assert error.value.details == {"url": [webhooks.PRIVATE_URL]}
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    assert db(ADMIN, webhooks.create_webhook, {"url": url, "event_types": ["reminder.sent"]})["secret"]


def test_a_webhook_change_that_changes_nothing_keeps_the_version(db, monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    hook = db(ADMIN, webhooks.create_webhook, {"url": "http://127.0.0.1:9/hook",
                                               "event_types": ["reminder.sent", "deal.won"]})
    same = db(ADMIN, webhooks.update_webhook, hook["id"], {
        "version": 1, "url": hook["url"], "event_types": ["deal.won", "reminder.sent"]})
    assert same["version"] == 1 and same["updated_at"] == hook["updated_at"]
    # The secret is never shown, yet changing it is a change.
    rotated = db(ADMIN, webhooks.update_webhook, hook["id"],
                 {"version": 1, "secret": "another-secret-of-16+"})
    assert rotated["version"] == 2
    with pytest.raises(NotFound):
        db(ADMIN, webhooks.update_webhook, "not-an-id", {"version": 2})
    assert db.outbox() == []


def test_public_addresses_pass_and_only_admins_manage_webhooks(db, monkeypatch):
    monkeypatch.delenv("CRM_WEBHOOK_ALLOW_PRIVATE", raising=False)
    assert webhooks.refused_reason("https://93.184.216.34/hook") is None
    with pytest.raises(Forbidden):
        db(SAM, webhooks.list_webhooks, {})


def test_an_api_key_subscribes_only_to_events_its_read_scopes_cover(db, monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    erp = Actor(user_id=None, role="integration",
                scopes=("webhooks:write", "webhooks:read", "customers:read"))
    hook = {"url": "http://127.0.0.1:9/erp"}
    made = db(erp, webhooks.create_webhook, {**hook, "event_types": ["customer.updated"]})
    for beyond in (["deal.won"], ["user.created"], ["reminder.sent"],
                   ["customer.updated", "lead.assigned"]):
        with pytest.raises(Forbidden) as refused:
            db(erp, webhooks.create_webhook, {**hook, "event_types": beyond})
        assert beyond[-1] in refused.value.message
    with pytest.raises(Forbidden):
        db(erp, webhooks.update_webhook, made["id"],
           {"version": made["version"], "event_types": ["user.updated"]})
    # an admin user subscribes to anything
    db(ADMIN, webhooks.create_webhook, {**hook, "event_types": ["user.created", "deal.won"]})


def test_back_off_doubles_up_to_the_maximum(monkeypatch):
    monkeypatch.setenv("CRM_DELIVERY_RETRY_BASE", "2")
    monkeypatch.setenv("CRM_DELIVERY_RETRY_MAX", "10")
    assert [delivery.retry_delay(n).total_seconds() for n in range(1, 6)] == [2, 4, 8, 10, 10]


def test_a_webhook_delivery_is_retried_then_delivered_and_replayable(db, monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("CRM_DELIVERY_RETRY_BASE", "0")
    hook = db(ADMIN, webhooks.create_webhook,
              {"url": "http://127.0.0.1:9/hook", "event_types": ["activity.logged"]})
    db.consume(activity(1, None))
    calls = []

    def flaky(job):
        calls.append(job)
        if len(calls) < 3:
            raise delivery.DeliveryFailed("HTTP 503", status_code=503)
        return 200

    senders = {"webhook": flaky}
    for _ in range(3):
        delivery.run_due(db.factory, db.uow, senders)
    assert [job.attempt for job in calls] == [1, 2, 3] and calls[0].secret == hook["secret"]
    (logged,) = db(ADMIN, webhooks.list_deliveries, hook["id"], {})["items"]
    assert logged["status"] == "delivered" and logged["attempts"] == 3
    assert [(a["ok"], a["status_code"]) for a in logged["attempt_log"]] == [
        (False, 503), (False, 503), (True, 200)]
    replay = db(ADMIN, webhooks.replay_delivery, hook["id"], logged["id"])
    assert replay["replay_of"] == logged["id"] and replay["status"] == "pending"
    delivery.run_due(db.factory, db.uow, senders)
    assert calls[-1].payload == calls[0].payload


def test_a_send_has_a_total_deadline_and_a_late_try_gives_no_verdict(db, monkeypatch):
    """A receiver that trickles (or hangs) is cut at CRM_DELIVERY_TIMEOUT in all; and a try
    whose claim was taken over (its lease ran out) is logged, but decides nothing."""
    monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("CRM_DELIVERY_TIMEOUT", "0.2")
    monkeypatch.setenv("CRM_DELIVERY_RETRY_BASE", "0")
    db(ADMIN, webhooks.create_webhook,
       {"url": "http://127.0.0.1:9/hook", "event_types": ["activity.logged"]})
    db.consume(activity(1, None))

    def trickles(job):
        for _ in range(50):  # a byte every 0.1 s: each read within any socket timeout
            eventlet.sleep(0.1)
        return 200

    started = time.monotonic()
    delivery.run_due(db.factory, db.uow, {"webhook": trickles})
    assert time.monotonic() - started < 2
    (row,) = db.rows(Delivery)
    assert row.status == "pending" and "within 0.2 s" in row.last_error

    (job,) = delivery.claim_due(db.factory)
    with db.factory() as session:  # the lease ran out and another instance claimed it
        session.get(Delivery, job.id).attempts += 1
        session.commit()
    delivery.record(db.uow, job, utcnow(), 5, 200, None, False)
    (row,) = db.rows(Delivery)
    assert row.status == "pending" and row.attempts == job.attempt + 1
    assert len(db.rows(DeliveryAttempt)) == 2  # both tries logged


def test_a_mail_keeps_its_message_id_on_every_try():
    job = delivery.Job(uuid.uuid4(), "email", "sam@example.com",
                       {"subject": "s", "body": "b"}, attempt=1)
    retry = delivery.Job(job.id, "email", "sam@example.com",
                         {"subject": "s", "body": "b"}, attempt=2)
    first, second = delivery.mail_message(job), delivery.mail_message(retry)
    assert first["Message-ID"] == second["Message-ID"] == f"<{job.id}@deliveries.crm>"


def test_a_mail_that_keeps_failing_is_marked_failed_with_its_cause(db, monkeypatch):
    monkeypatch.setenv("CRM_DELIVERY_RETRY_BASE", "0")
    monkeypatch.setenv("CRM_DELIVERY_MAX_ATTEMPTS", "2")
    db.consume(user_event(SAM))
    db.consume(activity(1, utcnow()))
    send_due(db)

    def refused(job):
        raise ConnectionRefusedError("SMTP down")

    for _ in range(3):
        delivery.run_due(db.factory, db.uow, {"email": refused})
    (mail,) = db.rows(Delivery)
    assert mail.status == "failed" and "SMTP down" in mail.last_error and mail.attempts == 2
    assert len(db.rows(DeliveryAttempt)) == 2
    assert db.outbox().count("reminder.failed") == 1


def test_without_smtp_url_mail_is_written_as_eml_files(db, monkeypatch, tmp_path):
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    db.consume(user_event(SAM))
    db.consume(activity(1, utcnow()))
    send_due(db)
    delivery.run_due(db.factory, db.uow)
    (mail,) = db.rows(Delivery)
    assert mail.status == "delivered"
    text = (tmp_path / "mail" / f"{mail.id}.eml").read_text()
    assert "Subject: Follow up with Acme" in text and "To: u@example.com" in text


def test_a_sent_reminder_is_announced_once_after_its_inbox_entry(db):
    """The inbox entry commits first; its events follow in a transaction of their own, once
    however often the announcing runs, and a crash before that commit leaves them to the
    next sweep."""
    db.consume(user_event(SAM))
    db.consume(activity(1, utcnow() - dt.timedelta(seconds=1)))
    before = db.outbox()
    assert scheduler.send_due(db.uow) == 1
    (entry,) = db.rows(Notification)
    assert entry.announced_at is None and db.outbox() == before

    class Crash(Exception):
        pass

    def crashing_unit_of_work():
        unit = db.uow()
        unit.commit = lambda: (_ for _ in ()).throw(Crash())
        return unit

    with pytest.raises(Crash):
        scheduler.announce_sent(crashing_unit_of_work)
    assert db.rows(Notification)[0].announced_at is None and db.outbox() == before
    assert scheduler.announce_sent(db.uow) == 1
    assert scheduler.announce_sent(db.uow) == 0
    added = db.outbox()[len(before):]
    assert sorted(added) == ["notification.created", "reminder.sent"]
    assert db.rows(Notification)[0].announced_at is not None


def test_a_sweep_sends_what_falls_due_before_the_next_tick_at_its_moment(db):
    """The timer ticks each second; a reminder due between two ticks is not left waiting
    for the second: the sweep waits for its moment and sends it then."""
    db.consume(user_event(SAM))
    soon = utcnow() + dt.timedelta(seconds=0.3)
    for next_follow_up_at in (utcnow() - dt.timedelta(seconds=1), soon,
                              utcnow() + dt.timedelta(seconds=5)):
        db.consume(activity(1, next_follow_up_at))
    waits, rounds = [], []

    def sleep(seconds):
        waits.append(seconds)
        time.sleep(seconds)

    assert scheduler.sweep(db.uow, 1.0, lambda: rounds.append(1), sleep) == 2
    assert len(rounds) == 2 and len(waits) == 1 and 0 < waits[0] <= 0.3
    (late,) = db.rows(Reminder, Reminder.status == "sent", Reminder.due_at == soon)
    assert late.sent_at >= soon and late.lateness_ms < 300
    assert len(pending(db)) == 1  # due after the next tick: that tick's work
    with db.factory() as session:
        assert scheduler.seconds_until_next_due(session) > 3


def test_a_reminder_long_overdue_is_sent_and_does_not_block_the_others(db):
    long_ago = utcnow() - dt.timedelta(days=400)
    for due in (long_ago, utcnow() - dt.timedelta(seconds=1)):
        db.consume(activity(1, due))
    assert send_due(db) == 2
    assert sorted(r.status for r in db.rows(Reminder)) == ["sent", "sent"]
    assert max(r.lateness_ms for r in db.rows(Reminder)) == scheduler.MAX_LATENESS_MS


def test_a_name_rebound_to_a_private_address_after_the_check_gets_nothing(monkeypatch):
    """DNS rebinding: the name looked public when checked, the connection lands on loopback."""
    import http.server
    import threading

    received = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.delenv("CRM_WEBHOOK_ALLOW_PRIVATE", raising=False)
    monkeypatch.setattr(webhooks, "refused_reason", lambda url: None)  # "resolved public"
    job = delivery.Job(id=uuid.uuid4(), channel="webhook",
                       target=f"http://127.0.0.1:{server.server_port}/hook",
                       payload={"type": "deal.won"}, attempt=1, secret="s3cret")
    try:
        with pytest.raises(delivery.DeliveryFailed) as failure:
            delivery.send_webhook(job)
        assert failure.value.permanent and received == []
        monkeypatch.setenv("CRM_WEBHOOK_ALLOW_PRIVATE", "1")
        assert delivery.send_webhook(job) == 200 and received == ["/hook"]
    finally:
        server.shutdown()


def test_lateness_is_exported_as_a_histogram(db):
    for seconds_late in (0.2, 3, 400):
        db.consume(activity(1, utcnow() - dt.timedelta(seconds=seconds_late)))
    send_due(db)
    with db.factory() as session:
        families = {f["name"]: f for f in scheduler.metrics_of(session)}
    buckets = {labels["le"]: value for suffix, labels, value in
               families["crm_reminder_lateness_seconds"]["samples"] if suffix == "_bucket"}
    lateness = [r.lateness_ms / 1000 for r in db.rows(Reminder)]
    for bound in scheduler.LATENESS_BUCKETS:
        assert buckets[repr(float(bound))] == sum(1 for late in lateness if late <= bound)
    assert buckets["+Inf"] == 3 and buckets["1.0"] < 3 and buckets["3600.0"] == 3
    assert families["crm_reminders_pending"]["samples"] == [["", {}, 0.0]]


def test_what_is_past_its_retention_is_forgotten_and_nothing_else(db):
    """Published events, applied event ids, idempotency keys and delivered deliveries go;
    unpublished events, recent rows and failed deliveries stay."""
    old, recent = utcnow() - dt.timedelta(days=40), utcnow() - dt.timedelta(days=1)
    with db.factory() as session:
        outbox = [platform.Outbox(id=uuid.uuid4(), exchange="x", routing_key="r", payload={},
                                  created_at=when, published_at=sent)
                  for when, sent in ((old, old), (old, None), (recent, recent))]
        session.add_all(outbox)
        session.add_all([platform.ProcessedEvent(event_id=f"e{n}", handler="h", processed_at=when)
                         for n, when in enumerate((old, recent))])
        session.add_all([platform.IdempotentRequest(key=f"k{n}", fingerprint="f", result=None,
                                                    created_at=when)
                         for n, when in enumerate((recent, utcnow()))])
        deliveries = [Delivery(dedup_key=f"d{n}", channel="webhook", target="t", payload={},
                               status=status, delivered_at=old if status == "delivered" else None,
                               created_at=old)
                      for n, status in enumerate(("delivered", "failed"))]
        session.add_all(deliveries)
        session.flush()
        session.add(DeliveryAttempt(delivery_id=deliveries[0].id, number=1, started_at=old,
                                    duration_ms=1, ok=True))
        session.commit()
    deleted = retention.prune(db.factory, platform, delivery.prune)
    assert deleted == {"outbox": 1, "processed_events": 1, "idempotent_requests": 1,
                       "deliveries": 1, "delivery_attempts": 1}
    assert {row.published_at is None for row in db.rows(platform.Outbox)} == {True, False}
    assert [row.status for row in db.rows(Delivery)] == ["failed"]


def test_a_plan_asking_a_key_twice_or_one_held_by_another_group_makes_one_reminder(db):
    due = utcnow() + dt.timedelta(days=1)
    with db.uow() as uow:
        plan(uow, kind="follow_up", source_id="a1", user_id=SAM.user_id,
             wanted=[Wanted("follow_up:a1:x", due), Wanted("follow_up:a1:x", due)])
        uow.commit()
    with db.uow() as uow:  # the same key asked from another group: the reminder is taken over
        plan(uow, kind="follow_up", source_id="a2", user_id=SARA.user_id,
             wanted=[Wanted("follow_up:a1:x", due)])
        uow.commit()
    (reminder,) = db.rows(Reminder)
    assert (reminder.dedup_key, reminder.status, str(reminder.user_id)) == (
        "follow_up:a1:x", "pending", SARA.user_id)
