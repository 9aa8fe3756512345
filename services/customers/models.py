"""The customers service's tables: customers, their tags, contacts, follow-up activities and
the field history. Only this service reads or writes them."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Versioned, make_base, new_id, utcnow
from common.import_jobs import import_models

Base, platform = make_base()


class Customer(Versioned, Base):
    __tablename__ = "customers"
    # Creation order, as exports page by it (``common.listing.keyset_page``).
    __table_args__ = (sa.Index("ix_customers_created_at_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_normalized: Mapped[str] = mapped_column(sa.String(200), index=True)
    # The name as duplicates are found by (``common.normalize.name_key``).
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True, default="")
    type: Mapped[str] = mapped_column(sa.String(16), default="company")
    industry: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    country: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    province: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    city: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    tier: Mapped[str | None] = mapped_column(sa.String(1), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="prospect", index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    custom_fields: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)

    tag_rows: Mapped[list["CustomerTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CustomerTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True, index=True)


class Contact(Versioned, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # One primary contact per customer, even when two are made at the same moment.
        sa.Index("uq_contacts_one_primary", "customer_id", unique=True,
                 postgresql_where=sa.text("is_primary AND deleted_at IS NULL"),
                 sqlite_where=sa.text("is_primary AND deleted_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    phone_normalized: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_normalized: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    is_primary: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[dt.datetime | None] = mapped_column()


class Activity(Versioned, Base):
    """A follow-up record on the customer's timeline."""

    __tablename__ = "activities"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(16))
    content: Mapped[str] = mapped_column(sa.Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(index=True)
    next_follow_up_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)


class FieldChange(Base):
    """Who changed which field of which record from what to what, and when."""

    __tablename__ = "field_changes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(16))
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    entity_version: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(16))
    field: Mapped[str | None] = mapped_column(sa.String(100))
    old_value: Mapped[object | None] = mapped_column(sa.JSON)
    new_value: Mapped[object | None] = mapped_column(sa.JSON)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    actor_role: Mapped[str] = mapped_column(sa.String(16))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class IdempotentResult(Base):
    """What a command with an idempotency key answered: a retry gets the same answer."""

    __tablename__ = "idempotent_results"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    result: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# The files imported into this service, and their rows (``common.import_jobs``).
ImportJob, ImportRow = import_models(Base)
