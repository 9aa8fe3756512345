"""Reminders that arrive on time and once through faults: a real SMTP server that refuses
and recovers, a webhook receiver that fails and recovers, a notifications service killed
while a reminder falls due. The stack's notifications service is restarted for this module
with SMTP_URL, private webhook URLs allowed and a short back-off, and restored afterwards."""
import datetime as dt
import json

import pytest

from common.db import utcnow
from services.notifications.webhooks import verify
from tests.support.notifications import (
    SmtpSink, WebhookReceiver, inbox_titles, log_follow_up, new_customer, reminders_of,
    set_profile,
)
from tests.support.stack import wait_until

FAST_RETRY = {"CRM_WEBHOOK_ALLOW_PRIVATE": "1", "CRM_DELIVERY_RETRY_BASE": "0.2",
              "CRM_DELIVERY_RETRY_MAX": "1", "CRM_DELIVERY_MAX_ATTEMPTS": "50"}


@pytest.fixture(scope="module")
def smtp(stack):
    sink = SmtpSink().start()
    stack.kill("notifications")
    stack.start_service("notifications", SMTP_URL=sink.url, **FAST_RETRY)
    stack.wait_ready()
    yield sink
    stack.kill("notifications")
    stack.start_service("notifications")
    stack.wait_ready()
    sink.stop()


@pytest.fixture(scope="module")
def sam(stack, admin, users, smtp):
    set_profile(stack, admin, users["sam"], email="sam.smtp@example.com")
    return users["sam"]


def mails(smtp, subject):
    return [m for m in smtp.to("sam.smtp@example.com") if m["Subject"] == subject]


def test_a_follow_up_due_in_2_seconds_arrives_by_smtp_once(stack, smtp, sam):
    customer = new_customer(sam, "SMTP Ltd")
    log_follow_up(sam, customer["id"], utcnow() + dt.timedelta(seconds=2))
    wait_until(lambda: mails(smtp, "Follow up with SMTP Ltd"), timeout=30, message="mail")
    assert "Follow up with SMTP Ltd" in inbox_titles(sam)
    (reminder,) = [r for r in reminders_of(sam) if r["entity_id"] == customer["id"]]
    print(f"lateness of the follow-up: {reminder['lateness_ms']} ms")
    assert reminder["status"] == "sent" and len(mails(smtp, "Follow up with SMTP Ltd")) == 1


def test_smtp_refusing_then_recovering_loses_and_doubles_nothing(stack, smtp, sam):
    smtp.refusing = True
    names = [f"Outage {n}" for n in range(3)]
    for name in names:
        log_follow_up(sam, new_customer(sam, name)["id"], utcnow() + dt.timedelta(seconds=1))
    wait_until(lambda: smtp.refused >= 6, timeout=30, message="mail refused and retried")
    assert not any(mails(smtp, f"Follow up with {name}") for name in names)
    smtp.refusing = False
    wait_until(lambda: all(mails(smtp, f"Follow up with {name}") for name in names), timeout=30)
    # Nothing else is pending for them: one mail each.
    assert [len(mails(smtp, f"Follow up with {name}")) for name in names] == [1, 1, 1]


def test_a_webhook_failing_three_times_gets_the_signed_delivery_after_recovery(stack, admin, smtp, sam):
    receiver = WebhookReceiver().start()
    try:
        receiver.fail_next = 3
        hook = admin.post("/webhooks", json={"url": receiver.url, "event_types": ["reminder.sent"]})
        assert hook.status_code == 201, hook.text
        hook = hook.json()
        customer = new_customer(sam, "Webhook Ltd")
        log_follow_up(sam, customer["id"], utcnow() + dt.timedelta(seconds=1))

        def delivered():
            log = admin.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
            return [d for d in log if d["status"] == "delivered"]
        (logged,) = wait_until(delivered, timeout=30, message="webhook delivered")
        assert logged["attempts"] == 4
        assert [a["status_code"] for a in logged["attempt_log"]] == [503, 503, 503, 200]
        assert all(a["duration_ms"] >= 0 for a in logged["attempt_log"])
        headers, body = receiver.delivered(logged["event_id"])[0]
        assert verify(hook["secret"], headers["X-CRM-Signature"], body)
        assert json.loads(body)["data"]["entity_id"] == customer["id"]
        replay = admin.post(f"/webhooks/{hook['id']}/deliveries/{logged['id']}/replay")
        assert replay.status_code == 202
        wait_until(lambda: len(receiver.delivered(logged["event_id"])) == 2, timeout=30)
        assert admin.delete(f"/webhooks/{hook['id']}").status_code == 204
    finally:
        receiver.stop()


def test_a_reminder_due_while_the_service_is_down_is_sent_once_after_restart(stack, smtp, sam):
    customer = new_customer(sam, "Restart Ltd")
    due = utcnow() + dt.timedelta(seconds=3)
    log_follow_up(sam, customer["id"], due)
    wait_until(lambda: [r for r in reminders_of(sam) if r["entity_id"] == customer["id"]],
               timeout=30, message="reminder planned")
    stack.kill("notifications")
    try:
        # Logged while the service is down: the event waits in its durable queue.
        other = new_customer(sam, "Queued Ltd")
        log_follow_up(sam, other["id"], utcnow() + dt.timedelta(seconds=1))
        wait_until(lambda: utcnow() > due + dt.timedelta(seconds=1), timeout=10,
                   message="the first reminder falls due while the service is down")
    finally:
        stack.start_service("notifications", SMTP_URL=smtp.url, **FAST_RETRY)
    stack.wait_ready()
    for name in ("Restart Ltd", "Queued Ltd"):
        wait_until(lambda: mails(smtp, f"Follow up with {name}"), timeout=40, message=name)
        assert inbox_titles(sam).count(f"Follow up with {name}") == 1
        assert len(mails(smtp, f"Follow up with {name}")) == 1
