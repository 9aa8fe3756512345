"""Forgetting what nobody needs any more, so the platform tables do not grow for ever.

Published outbox rows and the ids of events already applied are kept ``CRM_RETENTION_DAYS``
(30; an event redelivered later than that would be applied again, which the version guards
make harmless); idempotency keys ``CRM_IDEMPOTENCY_HOURS`` (24). Dead parked events stay
until someone has looked at them. Every service and the gateway prune hourly.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from common import config
from common.db import utcnow


def prune(session_factory, platform, also=None) -> dict[str, int]:
    """Delete what is past its retention; ``also(session, cutoff)`` prunes a component's own
    tables by the same cutoff and names what it deleted. Answers the counts."""
    now = utcnow()
    cutoff = now - dt.timedelta(days=config.retention_days())
    Outbox, Processed, Requests = (platform.Outbox, platform.ProcessedEvent,
                                   platform.IdempotentRequest)
    with session_factory() as session:
        deleted = {
            "outbox": session.execute(sa.delete(Outbox).where(
                Outbox.published_at.is_not(None), Outbox.published_at < cutoff)).rowcount,
            "processed_events": session.execute(sa.delete(Processed).where(
                Processed.processed_at < cutoff)).rowcount,
            "idempotent_requests": session.execute(sa.delete(Requests).where(
                Requests.created_at < now - dt.timedelta(hours=config.idempotency_hours())
            )).rowcount,
        }
        if also is not None:
            deleted.update(also(session, cutoff))
        session.commit()
    return deleted
