"""The notifications service's tables: its schedule of reminders, the in-app inbox, users'
preferences, webhook subscriptions, and every outgoing delivery with its attempts. Only this
service reads or writes them. What it knows of users themselves (email, language, time zone)
is the directory of people every service keeps (``common.directory``, the ``directory_*``
tables that ``make_base`` attaches)."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Versioned, make_base, new_id, utcnow

Base, platform = make_base()


class Reminder(Versioned, Base):
    """One thing to tell one user at one time. ``dedup_key`` names what asked for it (the
    follow-up of activity X at time T, contract Y's 7-day notice...): a repeated or replayed
    event finds its reminder instead of making a second one."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("dedup_key", name="uq_reminders_dedup_key"),
        sa.Index("ix_reminders_status_due_at", "status", "due_at"),
        sa.Index("ix_reminders_group", "kind", "source_id"),
        sa.Index("ix_reminders_entity", "entity_type", "entity_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    dedup_key: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    # The record that asked for it (an activity, deal, contract, lead); its reminders of one
    # kind form a group that the record's next event re-plans.
    source_id: Mapped[str | None] = mapped_column(sa.String(64))
    # What it is about (a follow-up's customer, a deal...), shown to the user.
    entity_type: Mapped[str | None] = mapped_column(sa.String(32))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    sent_at: Mapped[dt.datetime | None]
    lateness_ms: Mapped[int | None]
    sent_by: Mapped[str | None] = mapped_column(sa.String(100))
    cancelled_at: Mapped[dt.datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class Notification(Base):
    """An entry of a user's in-app inbox: what a sent reminder said, in their language."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_read", "user_id", "read_at"),
                      sa.Index("ix_notifications_announced_at", "announced_at"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    entity_type: Mapped[str | None] = mapped_column(sa.String(32))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None]
    # When its events (reminder.sent, notification.created) went into the outbox; until then
    # the scheduler's next sweep announces it (services.notifications.scheduler).
    announced_at: Mapped[dt.datetime | None]


class Preference(Base):
    """A user's own choices; ``None`` language or time zone follows their profile (the
    directory of people)."""

    __tablename__ = "preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    channels: Mapped[list] = mapped_column(sa.JSON)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TrackedEntity(Base):
    """The newest ``entity_version`` applied per source entity (so an older event arriving
    late changes nothing), and the little state reminders need (a deal's idle time...)."""

    __tablename__ = "tracked_entities"

    entity_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    entity_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    state: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class Webhook(Versioned, Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(sa.String(2000))
    event_types: Mapped[list] = mapped_column(sa.JSON)
    secret: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(sa.String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    deleted_at: Mapped[dt.datetime | None]


class Delivery(Base):
    """One message to send outside the service (a mail, a webhook call), retried with
    back-off until delivered or failed. ``dedup_key`` keeps one per reminder and channel,
    or per webhook and event."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("dedup_key", name="uq_deliveries_dedup_key"),
        sa.Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    dedup_key: Mapped[str] = mapped_column(sa.String(200))
    channel: Mapped[str] = mapped_column(sa.String(16))
    target: Mapped[str] = mapped_column(sa.String(2000))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    event_id: Mapped[str | None] = mapped_column(sa.String(64))
    event_type: Mapped[str | None] = mapped_column(sa.String(64))
    replay_of: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_status_code: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[dt.datetime | None]


class DeliveryAttempt(Base):
    """Every try of a delivery: when, how long, what the other side answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    number: Mapped[int]
    started_at: Mapped[dt.datetime]
    duration_ms: Mapped[int]
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
