"""Notifications through the gateway on the real stack (default configuration: no SMTP_URL,
so mail is written as .eml files under the stack's data directory)."""
import datetime as dt
import email
import uuid
import zoneinfo

import pytest

from common.db import utcnow
from tests.support.notifications import (
    event, inbox_titles, log_follow_up, new_customer, publish, reminders_of, set_profile,
)
from tests.support.stack import wait_until


def eml_files(stack, address):
    folder = stack.workdir / "mail"
    messages = [email.message_from_bytes(path.read_bytes()) for path in folder.glob("*.eml")]
    return [message for message in messages if message["To"] == address]


@pytest.fixture(scope="module")
def sam(stack, admin, users):
    set_profile(stack, admin, users["sam"], email="sam@example.com", language="en",
                timezone="UTC")
    return users["sam"]


def test_a_follow_up_reaches_the_inbox_and_the_mailbox_once(stack, sam):
    customer = new_customer(sam, "Follow-up Ltd")
    due = utcnow() + dt.timedelta(seconds=2)
    log_follow_up(sam, customer["id"], due)
    wait_until(lambda: "Follow up with Follow-up Ltd" in inbox_titles(sam), timeout=30,
               message="follow-up in the inbox")
    (reminder,) = [r for r in reminders_of(sam, kind="follow_up") if r["entity_id"] == customer["id"]]
    assert reminder["status"] == "sent" and reminder["lateness_ms"] >= 0
    mails = wait_until(lambda: [m for m in eml_files(stack, "sam@example.com")
                                if m["Subject"] == "Follow up with Follow-up Ltd"], timeout=30)
    assert len(mails) == 1
    assert sam.get("/notifications/unread-count").json()["count"] >= 1


def test_a_moved_or_cleared_follow_up_never_fires_at_the_old_time(stack, sam):
    moved_customer, cleared_customer = new_customer(sam, "Moved Ltd"), new_customer(sam, "Cleared Ltd")
    soon = utcnow() + dt.timedelta(seconds=3)
    moved = log_follow_up(sam, moved_customer["id"], soon)
    cleared = log_follow_up(sam, cleared_customer["id"], soon)
    later = utcnow() + dt.timedelta(hours=1)
    assert sam.patch(f"/activities/{moved['id']}", json={
        "version": 1, "next_follow_up_at": later.isoformat()}).status_code == 200
    assert sam.patch(f"/activities/{cleared['id']}", json={
        "version": 1, "next_follow_up_at": None}).status_code == 200

    def settled():
        mine = reminders_of(sam, kind="follow_up")
        states = {(r["entity_id"], r["status"], r["due_at"][:19]) for r in mine
                  if r["entity_id"] in (moved_customer["id"], cleared_customer["id"])}
        return len(states) == 3 and states
    states = wait_until(settled, timeout=30, message="moved and cleared")
    assert (moved_customer["id"], "pending", later.isoformat()[:19]) in states
    # A later event (any) proves the scheduler has run past the old time: nothing fired.
    marker = new_customer(sam, "Marker Ltd")
    log_follow_up(sam, marker["id"], utcnow() + dt.timedelta(seconds=3))
    wait_until(lambda: "Follow up with Marker Ltd" in inbox_titles(sam), timeout=30)
    titles = inbox_titles(sam)
    assert "Follow up with Moved Ltd" not in titles and "Follow up with Cleared Ltd" not in titles


def test_every_source_event_delivered_twice_makes_one_reminder(stack, users):
    sara = users["sara"]
    me, team = sara.me["id"], sara.me.get("team_id")
    soon = (utcnow() + dt.timedelta(hours=2)).isoformat()
    activity = {"id": str(uuid.uuid4()), "customer_id": str(uuid.uuid4()), "customer_name": "Twice",
                "owner_id": me, "team_id": team, "user_id": me, "next_follow_up_at": soon,
                "occurred_at": utcnow().isoformat(), "deal_id": None}
    lead = {"id": str(uuid.uuid4()), "name": "Twice Lead", "company": "Twice Co", "owner_id": me,
            "team_id": team, "previous_owner_id": None, "province": "West", "status": "new",
            "version": 2}
    contract = {"id": str(uuid.uuid4()), "number": "C-TWICE", "deal_id": str(uuid.uuid4()),
                "customer_id": str(uuid.uuid4()), "owner_id": me, "team_id": team,
                "amount": "10.00", "currency": "CNY", "start_date": utcnow().date().isoformat(),
                "end_date": (utcnow().date() + dt.timedelta(days=60)).isoformat(),
                "status": "active"}
    sources = [("customers", event("customers", "activity.logged", activity, 1)),
               ("sales", event("sales", "lead.assigned", lead, 2)),
               ("sales", event("sales", "contract.created", contract, 1))]
    for source, message in sources:
        publish(stack.amqp_uri, source, message, copies=2)
        # The same fact again in a new envelope, as a replaying publisher would send it.
        publish(stack.amqp_uri, source, {**message, "id": str(uuid.uuid4())})

    def planned():
        mine = reminders_of(sara)
        counts = {source_id: len([r for r in mine if r["entity_id"] == source_id])
                  for source_id in (activity["customer_id"], lead["id"], contract["id"])}
        return counts if counts[contract["id"]] == 3 and counts[lead["id"]] >= 1 else None
    counts = wait_until(planned, timeout=30, message="reminders planned")
    assert counts == {activity["customer_id"]: 1, lead["id"]: 1, contract["id"]: 3}
    wait_until(lambda: "Lead assigned to you: Twice Lead" in inbox_titles(sara), timeout=30)
    assert inbox_titles(sara).count("Lead assigned to you: Twice Lead") == 1


def test_a_user_in_shanghai_gets_the_chinese_template_with_local_times(stack, users):
    maria = users["maria"]
    answer = maria.put("/notification-preferences", json={
        "channels": ["in_app"], "language": "zh-CN", "timezone": "Asia/Shanghai"})
    assert answer.json() == {"channels": ["in_app"], "language": "zh-CN", "timezone": "Asia/Shanghai"}
    customer = new_customer(maria, "上海客户")
    due = (utcnow() + dt.timedelta(seconds=2)).replace(microsecond=0)
    log_follow_up(maria, customer["id"], due)
    note = wait_until(lambda: [n for n in maria.get("/notifications").json()["items"]
                               if n["entity_id"] == customer["id"]], timeout=30)[0]
    local = due.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%Y年%m月%d日 %H:%M")
    assert note["title"] == "跟进提醒：上海客户"
    assert note["body"] == f"您与 上海客户 的跟进时间是 {local}（Asia/Shanghai）。"


def test_manual_reminders_and_the_inbox(stack, users):
    alex = users["alex"]
    due = utcnow() + dt.timedelta(seconds=1)
    created = alex.post("/reminders", json={"due_at": due.isoformat(), "subject": "Quarterly numbers"})
    assert created.status_code == 201 and created.headers["Location"].endswith(created.json()["id"])
    later = alex.post("/reminders", json={"due_at": (due + dt.timedelta(days=1)).isoformat(),
                                          "subject": "Later"}).json()
    assert alex.patch(f"/reminders/{later['id']}", json={"subject": "Stale"}).status_code == 400
    assert alex.patch(f"/reminders/{later['id']}", json={"version": 1, "subject": "Much later"},
                      ).json()["subject"] == "Much later"
    assert alex.delete(f"/reminders/{later['id']}").status_code == 204
    assert users["sam"].get(f"/reminders/{created.json()['id']}").status_code == 404
    wait_until(lambda: alex.get("/notifications/unread-count").json()["count"] >= 1, timeout=30)
    (note,) = [n for n in alex.get("/notifications?unread=true").json()["items"]
               if n["reminder_id"] == created.json()["id"]]
    assert note["title"] == "Reminder: Quarterly numbers"
    assert alex.post(f"/notifications/{note['id']}/read").json()["read_at"]
    assert alex.post("/notifications/read-all").status_code == 200
    assert alex.get("/notifications/unread-count").json() == {"count": 0}


def test_webhooks_are_for_admins_and_private_addresses_are_refused(stack, admin, users):
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["reminder.sent"]}
    assert users["sam"].post("/webhooks", json=body).status_code == 403
    refused = admin.post("/webhooks", json=body, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"url": ["该 URL 解析到回环、链路本地或私有地址。"]}
    for url in ("http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://[::1]/x"):
        assert admin.post("/webhooks", json={**body, "url": url}).status_code == 400
    assert admin.post("/webhooks", json={**body, "event_types": ["no.such"]}).status_code == 400
