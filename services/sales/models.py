"""The sales service's tables: products, pipeline stages, leads and their assignment rules,
deals with their lines and stage history, quotes, contracts and number counters (who is who is
the platform's directory, ``common.directory``). Only this service reads or writes them."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Versioned, make_base, new_id, utcnow
from common.import_jobs import import_models
from services.sales import pricing

Base, platform = make_base()

MONEY = sa.Numeric(14, 2)
RATE = sa.Numeric(5, 4)


# -- catalogue and pipeline -------------------------------------------------------------------
class Product(Versioned, Base):
    __tablename__ = "products"
    # SKUs are unique whatever their case, also between two writers at the same moment.
    __table_args__ = (sa.Index("uq_products_sku_lower", sa.func.lower(sa.text("sku")), unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    list_price: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(sa.String(3))
    active: Mapped[bool] = mapped_column(default=True)


class Stage(Base):
    """One pipeline stage; ``position`` orders them."""

    __tablename__ = "pipeline_stages"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    probability: Mapped[int]
    position: Mapped[int]


# -- leads ------------------------------------------------------------------------------------
class AssignmentRule(Versioned, Base):
    """How a team's new leads find an owner; ``last_assigned_id`` is the round-robin cursor."""

    __tablename__ = "assignment_rules"

    team_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(16), default="round_robin")
    region_map: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    last_assigned_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class Lead(Versioned, Base):
    __tablename__ = "leads"
    # Creation order, as exports page by it (``common.listing.keyset_page``).
    __table_args__ = (sa.Index("ix_leads_created_at_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    company: Mapped[str | None] = mapped_column(sa.String(200))
    # The company as duplicates are found by (``common.normalize.name_key``); "" without one.
    company_key: Mapped[str] = mapped_column(sa.String(200), index=True, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    phone_normalized: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    email_normalized: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    source: Mapped[str | None] = mapped_column(sa.String(100))
    country: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    province: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    city: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="new", index=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    converted_at: Mapped[dt.datetime | None] = mapped_column()


# -- deals ------------------------------------------------------------------------------------
class Deal(Versioned, Base):
    __tablename__ = "deals"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[decimal.Decimal] = mapped_column(MONEY, default=decimal.Decimal("0.00"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    stage: Mapped[str] = mapped_column(sa.String(40), index=True)
    probability: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(8), default="open", index=True)
    expected_close_date: Mapped[dt.date | None] = mapped_column(sa.Date, index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    lost_reason: Mapped[str | None] = mapped_column(sa.Text)
    stage_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    customer_deleted: Mapped[bool] = mapped_column(default=False)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)

    lines: Mapped[list["DealLine"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DealLine.position"
    )


class DealLine(Base):
    __tablename__ = "deal_lines"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    deal_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: Mapped[decimal.Decimal] = mapped_column(sa.Numeric(12, 3))
    unit_price: Mapped[decimal.Decimal] = mapped_column(MONEY)
    discount: Mapped[decimal.Decimal] = mapped_column(RATE, default=decimal.Decimal("0"))

    @property
    def amount(self) -> decimal.Decimal:
        return pricing.line(self.quantity, self.unit_price, self.discount).amount


class StageChange(Base):
    """One move of a deal through the pipeline (its creation included: ``from_stage`` null)."""

    __tablename__ = "deal_stage_changes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    deal_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(sa.String(40))
    to_stage: Mapped[str] = mapped_column(sa.String(40))
    lost_reason: Mapped[str | None] = mapped_column(sa.Text)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    actor_role: Mapped[str] = mapped_column(sa.String(16))


# -- quotes and contracts ---------------------------------------------------------------------
class Quote(Versioned, Base):
    __tablename__ = "quotes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    deal_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("deals.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    tax_rate: Mapped[decimal.Decimal] = mapped_column(RATE)
    valid_until: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    lines: Mapped[list] = mapped_column(sa.JSON)
    subtotal: Mapped[decimal.Decimal] = mapped_column(MONEY)
    discount_total: Mapped[decimal.Decimal] = mapped_column(MONEY)
    tax: Mapped[decimal.Decimal] = mapped_column(MONEY)
    total: Mapped[decimal.Decimal] = mapped_column(MONEY)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class Contract(Versioned, Base):
    __tablename__ = "contracts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("deals.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    amount: Mapped[decimal.Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(sa.String(3))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="active", index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class Counter(Base):
    """The last number handed out in a series (``quote:2026``): row-locked while counting."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class CustomerState(Base):
    """What the customers service's events last told of a customer whose deals live here: the
    newest version applied (so a ``customer.restored`` handled before its ``customer.deleted``
    is not undone by it) and whether it is in the trash."""

    __tablename__ = "customer_states"

    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
    deleted: Mapped[bool] = mapped_column(default=False)


# The files imported into this service, and their rows (``common.import_jobs``).
ImportJob, ImportRow = import_models(Base)
