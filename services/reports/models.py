"""The reports service's read model: what every report filters or groups by, kept from the
other services' events (never read from their databases).

Each table exists twice: the live tables the reports read, and a ``*_next`` copy that a
rebuild fills from the owners' data and then swaps in (see ``rebuild.py``), so reports keep
answering from the old model while the new one is built. Rows carry the owner's ``version``:
an event older than the row is ignored.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import UTCDateTime, make_base, new_id, utcnow

Base, platform = make_base()

MONEY = sa.Numeric(14, 2)
RATE = sa.Numeric(5, 4)
SHADOW = "_next"


@dataclass(frozen=True)
class ReadModel:
    """One set of the read-model tables: the live ones, or the rebuild's shadow copy of those
    a rebuild fetches from the owners (users and teams only ever come from the gateway's
    events, and the freshness of the events applied stays with the live set)."""

    customers: sa.Table
    contacts: sa.Table
    activities: sa.Table
    products: sa.Table
    leads: sa.Table
    stages: sa.Table
    deals: sa.Table
    deal_lines: sa.Table
    users: sa.Table | None = None
    teams: sa.Table | None = None
    freshness: sa.Table | None = None

    def rebuilt(self) -> list[sa.Table]:
        """The tables a rebuild fills and swaps in, parents before children."""
        return [self.customers, self.contacts, self.activities, self.products, self.leads,
                self.stages, self.deals, self.deal_lines]


def _tables(suffix: str, *, live: bool) -> ReadModel:
    metadata = Base.metadata

    def table(name, *columns, indexes=()):
        full = f"reports_{name}{suffix}"
        return sa.Table(full, metadata, *columns,
                        *[sa.Index(f"ix_{full}_{'_'.join(cols)}", *cols) for cols in indexes])

    def region():
        return [sa.Column(name, sa.String(100)) for name in ("country", "province", "city")]

    def owner():
        return [sa.Column("owner_id", sa.Uuid), sa.Column("team_id", sa.Uuid)]

    def uuid_pk():
        return sa.Column("id", sa.Uuid, primary_key=True)

    def version():
        return sa.Column("version", sa.Integer, nullable=False)

    people = {} if not live else dict(
        users=table(
            "users", uuid_pk(),
            sa.Column("username", sa.String(150), nullable=False),
            sa.Column("display_name", sa.String(200)),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("team_id", sa.Uuid),
            sa.Column("active", sa.Boolean, nullable=False),
            version()),
        teams=table(
            "teams", uuid_pk(),
            sa.Column("name", sa.String(200), nullable=False),
            version()),
        freshness=table(
            "freshness",
            sa.Column("source", sa.String(40), primary_key=True),
            sa.Column("as_of", UTCDateTime)))
    return ReadModel(
        customers=table(
            "customers", uuid_pk(),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("industry", sa.String(100)),
            *region(),
            sa.Column("tier", sa.String(1)),
            sa.Column("status", sa.String(16), nullable=False),
            *owner(),
            sa.Column("deleted", sa.Boolean, nullable=False),
            sa.Column("created_at", UTCDateTime, nullable=False),
            version(),
            indexes=[("owner_id",), ("team_id",)]),
        contacts=table(
            "contacts", uuid_pk(),
            sa.Column("customer_id", sa.Uuid, nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("phone", sa.String(50)),
            sa.Column("email", sa.String(254)),
            sa.Column("is_primary", sa.Boolean, nullable=False),
            sa.Column("deleted", sa.Boolean, nullable=False),
            version(),
            indexes=[("customer_id",)]),
        activities=table(
            "activities", uuid_pk(),
            sa.Column("customer_id", sa.Uuid, nullable=False),
            sa.Column("deal_id", sa.Uuid),
            sa.Column("user_id", sa.Uuid),
            sa.Column("type", sa.String(16), nullable=False),
            sa.Column("occurred_at", UTCDateTime, nullable=False),
            version(),
            indexes=[("customer_id", "occurred_at"), ("occurred_at",)]),
        products=table(
            "products", uuid_pk(),
            sa.Column("sku", sa.String(64), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("category", sa.String(100)),
            version()),
        leads=table(
            "leads", uuid_pk(),
            sa.Column("status", sa.String(16), nullable=False),
            *region(),
            *owner(),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("converted_at", UTCDateTime),
            version(),
            indexes=[("created_at",)]),
        stages=table(
            "stages",
            sa.Column("key", sa.String(40), primary_key=True),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("probability", sa.Integer, nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("pipeline_version", sa.Integer, nullable=False)),
        deals=table(
            "deals", uuid_pk(),
            sa.Column("customer_id", sa.Uuid, nullable=False),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("amount", MONEY, nullable=False),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("stage", sa.String(40), nullable=False),
            sa.Column("probability", sa.Integer, nullable=False),
            sa.Column("status", sa.String(8), nullable=False),
            sa.Column("expected_close_date", sa.Date),
            *owner(),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("closed_at", UTCDateTime),
            # Every stage the deal has been in, as ",qualification,proposal,won,": a set that
            # each event adds to whatever its version, so "reached" is order-safe.
            sa.Column("stages", sa.Text, nullable=False),
            version(),
            indexes=[("currency", "status", "closed_at"), ("currency", "created_at"),
                     ("customer_id",), ("owner_id",), ("team_id",)]),
        deal_lines=table(
            "deal_lines",
            sa.Column("deal_id", sa.Uuid, primary_key=True),
            sa.Column("position", sa.Integer, primary_key=True),
            sa.Column("product_id", sa.Uuid, nullable=False),
            sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
            sa.Column("unit_price", MONEY, nullable=False),
            sa.Column("discount", RATE, nullable=False),
            sa.Column("amount", MONEY, nullable=False),
            indexes=[("product_id",)]),
        **people,
    )


LIVE = _tables("", live=True)
NEXT = _tables(SHADOW, live=False)


class Rebuild(Base):
    """A rebuild of the read model from the owners' data: asked for, running, done or failed."""

    __tablename__ = "reports_rebuilds"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    # queued, running, succeeded or failed
    status: Mapped[str] = mapped_column(sa.String(12), default="queued", index=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.Text)
