"""Sending outside the service: mail over SMTP (or ``.eml`` files without ``SMTP_URL``) and
signed webhook calls. Each delivery is a row: claimed by one instance (skip-locked, with a
lease so a crashed sender's claim expires), tried, every attempt logged with its duration
and answer, retried with exponential back-off, and marked failed with the cause after the
configured number of attempts. State lives in the database: a restart loses nothing.

A send has a total deadline (``CRM_DELIVERY_TIMEOUT``), however slowly the other side
trickles; an instance claims only as many jobs as it sends at once, so no claim waits out its
lease in a queue; and an attempt's outcome is recorded only while its claim still holds (a
late sender whose lease expired and was re-claimed records its try, not a verdict). A mail's
``Message-ID`` is the delivery's, the same on every try, so a duplicate is recognisable.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Callable
from urllib.parse import urlsplit

import eventlet
import sqlalchemy as sa
from eventlet.greenpool import GreenPool

from common import config
from common.db import utcnow
from common.uow import UnitOfWork
from services.notifications import webhooks
from services.notifications.models import Delivery, DeliveryAttempt, Reminder, Webhook
from services.notifications.publishing import publish_reminder

log = logging.getLogger(__name__)
MESSAGE_ID_DOMAIN = "deliveries.crm"

BATCH = 50  # jobs tried per tick, CONCURRENT_SENDS claimed at a time
CONCURRENT_SENDS = 10


class DeliveryFailed(Exception):
    """A try that did not deliver; ``permanent`` ones are not retried."""

    def __init__(self, message: str, status_code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.status_code = status_code
        self.permanent = permanent


@dataclass(frozen=True)
class Job:
    """What a sender needs of a claimed delivery, read before the claim commits."""

    id: object
    channel: str
    target: str
    payload: dict
    attempt: int
    secret: str | None = None


def retry_delay(attempt: int) -> dt.timedelta:
    """After try ``attempt`` (1, 2, ...): base, 2 x base, 4 x base ... at most the maximum."""
    base, longest, _ = config.delivery_retry()
    return dt.timedelta(seconds=min(base * 2 ** (attempt - 1), longest))


def lease() -> dt.timedelta:
    """How long a claim holds before another instance may try the delivery again."""
    return dt.timedelta(seconds=2 * config.delivery_timeout() + 30)


def claim_due(session_factory, limit: int = BATCH) -> list[Job]:
    with session_factory() as session:
        query = (
            sa.select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        jobs = []
        for delivery in session.scalars(query).all():
            delivery.attempts += 1
            delivery.next_attempt_at = utcnow() + lease()
            secret = None
            if delivery.webhook_id is not None:
                webhook = session.get(Webhook, delivery.webhook_id)
                secret = webhook.secret if webhook and webhook.deleted_at is None else None
            jobs.append(Job(delivery.id, delivery.channel, delivery.target, delivery.payload,
                            delivery.attempts, secret))
        session.commit()
        return jobs


def run_due(session_factory, unit_of_work: Callable[[], UnitOfWork],
            senders: dict[str, Callable[[Job], int | None]] | None = None) -> int:
    """Try every due delivery once; returns how many were tried."""
    senders = senders or SENDERS

    def attempt(job: Job) -> None:
        started, clock = utcnow(), time.monotonic()
        deadline = eventlet.Timeout(config.delivery_timeout())
        try:
            status_code, error, permanent = senders[job.channel](job), None, False
        except eventlet.Timeout as exc:
            if exc is not deadline:
                raise
            status_code, permanent = None, False
            error = f"No answer within {config.delivery_timeout():g} s."
        except DeliveryFailed as exc:
            status_code, error, permanent = exc.status_code, str(exc), exc.permanent
        except Exception as exc:  # noqa: BLE001 - any failure of the other side is retried
            status_code, error, permanent = None, f"{type(exc).__name__}: {exc}", False
        finally:
            deadline.cancel()
        duration_ms = int((time.monotonic() - clock) * 1000)
        record(unit_of_work, job, started, duration_ms, status_code, error, permanent)

    tried = 0
    while tried < BATCH:
        jobs = claim_due(session_factory, limit=CONCURRENT_SENDS)
        # Side by side, so one slow receiver (a webhook taking its whole timeout) does not
        # hold up the mail and calls claimed with it.
        for _ in GreenPool(CONCURRENT_SENDS).imap(attempt, jobs):
            pass
        tried += len(jobs)
        if len(jobs) < CONCURRENT_SENDS:
            break
    return tried


def record(unit_of_work, job: Job, started, duration_ms, status_code, error, permanent) -> None:
    """Log the attempt; delivered, retried later, or failed for good with the cause."""
    _, _, max_attempts = config.delivery_retry()
    with unit_of_work() as uow:
        delivery = uow.session.get(Delivery, job.id, with_for_update=True)
        uow.session.add(DeliveryAttempt(
            delivery_id=delivery.id, number=job.attempt, started_at=started,
            duration_ms=duration_ms, ok=error is None, status_code=status_code,
            error=error[:2000] if error else None))
        if delivery.status != "pending" or delivery.attempts != job.attempt:
            # Our lease ran out and another try owns the delivery now: ours is logged only.
            log.warning("delivery %s: try %s ended after its claim was taken over",
                        job.id, job.attempt)
            uow.commit()
            return
        delivery.last_status_code = status_code
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
        elif permanent or job.attempt >= max_attempts:
            delivery.status, delivery.last_error = "failed", error[:2000]
            _reminder_failed(uow, delivery, error)
        else:
            delivery.last_error = error[:2000]
            delivery.next_attempt_at = utcnow() + retry_delay(job.attempt)
        uow.commit()


def _reminder_failed(uow: UnitOfWork, delivery: Delivery, cause: str) -> None:
    if delivery.reminder_id is None:
        return
    reminder = uow.session.get(Reminder, delivery.reminder_id)
    publish_reminder(uow, "reminder.failed", reminder, cause=f"{delivery.channel}: {cause}"[:2000])


# -- senders ---------------------------------------------------------------------------------
def mail_message(job: Job) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.mail_from()
    message["To"] = job.target
    message["Subject"] = job.payload["subject"]
    # The delivery's own id, the same on every try: a receiver can tell a duplicate.
    message["Message-ID"] = f"<{job.id}@{MESSAGE_ID_DOMAIN}>"
    message["X-CRM-Delivery"] = str(job.id)
    message["Content-Language"] = job.payload.get("language", "en")
    message.set_content(job.payload["body"])
    return message


def send_mail(job: Job) -> None:
    message = mail_message(job)
    url = config.smtp_url()
    if not url:
        folder = config.data_dir() / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{job.id}.eml.part"
        partial.write_bytes(bytes(message))
        partial.replace(folder / f"{job.id}.eml")
        return None
    parts = urlsplit(url)
    with smtplib.SMTP(parts.hostname, parts.port or 25, timeout=config.delivery_timeout()) as smtp:
        smtp.send_message(message)
    return None


def send_webhook(job: Job) -> int:
    if job.secret is None:
        raise DeliveryFailed("The webhook was deleted.", permanent=True)
    reason = webhooks.refused_reason(job.target)
    if reason:
        raise DeliveryFailed(reason, permanent=True)
    body = json.dumps(job.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "crm-webhooks/1",
        "X-CRM-Event": job.payload.get("type", ""),
        "X-CRM-Delivery": str(job.id),
        "X-CRM-Signature": webhooks.signature(job.secret, int(time.time()), body),
    }
    try:
        with webhooks.http_session() as session:
            # stream: the status is all we need; the body is never read (nor buffered).
            response = session.post(job.target, data=body, headers=headers, stream=True,
                                    timeout=config.delivery_timeout(), allow_redirects=False)
            response.close()
    except webhooks.PrivatePeer as exc:
        raise DeliveryFailed(str(exc), permanent=True) from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}", status_code=response.status_code)
    return response.status_code


SENDERS = {"email": send_mail, "webhook": send_webhook}


def prune(session, cutoff) -> dict[str, int]:
    """Delivered mails and webhook calls older than ``cutoff``, with their attempts (failed
    ones stay: someone may still replay them)."""
    old = sa.select(Delivery.id).where(Delivery.status == "delivered",
                                       Delivery.delivered_at < cutoff)
    attempts = session.execute(sa.delete(DeliveryAttempt).where(
        DeliveryAttempt.delivery_id.in_(old))).rowcount
    deliveries = session.execute(sa.delete(Delivery).where(Delivery.id.in_(old))).rowcount
    return {"deliveries": deliveries, "delivery_attempts": attempts}
