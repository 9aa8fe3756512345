"""The identity database, the only data the gateway owns: users, teams, refresh tokens and
API keys.

Built on a base from ``common.db.make_base`` so the gateway's database also carries the
outbox tables (``user.*`` and ``team.*`` events go through them like any service's).
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.actor import ROLES
from common.db import make_base, new_id, utcnow
from gateway.i18n import LANGUAGES

Base, platform = make_base(directory=False)


class VersionedMixin:
    """Identity, timestamps and the optimistic-concurrency ``version`` of a mutable entity.

    SQLAlchemy adds ``AND version = <read version>`` to every UPDATE and bumps it, so a
    concurrent writer fails (StaleDataError) instead of silently overwriting.
    """

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @sa.orm.declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class Team(VersionedMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_teams_name"),)

    name: Mapped[str] = mapped_column(sa.String(100))
    # Not a foreign key: users.team_id already points at teams, and a cycle would make
    # every migration on SQLite rebuild both tables. The API checks the user exists.
    manager_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)


class User(VersionedMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_users_role"),
        sa.CheckConstraint(f"language IN {LANGUAGES!r}", name="ck_users_language"),
        sa.CheckConstraint("username = lower(username)", name="ck_users_username_lower"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )

    username: Mapped[str] = mapped_column(sa.String(64))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(16), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("teams.id", name="fk_users_team_id_teams"), index=True
    )
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None]


class RefreshToken(Base):
    """One opaque refresh token, stored as its SHA-256. Tokens rotated from one login share
    a ``family_id``: the id of the family's first token, whose ``revoked_at`` therefore says
    whether the whole family (and every access token carrying it as ``sid``) is revoked."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    family_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", name="fk_refresh_tokens_user_id_users"), index=True
    )
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class ApiKey(Base):
    """A key another system calls the API with (``X-API-Key``), limited to its scopes. Only
    its SHA-256 is stored; the key itself is shown once, when it is made."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list] = mapped_column(sa.JSON)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """One security event: a login (succeeded, failed or throttled), a logout, a reused
    refresh token, a change to a user, a team or an API key; written by ``gateway.audit`` in
    the transaction of what it records. Nothing in the application changes or deletes an
    entry and no retention prunes them: the database keeps them for ever."""

    __tablename__ = "audit_entries"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    # Who: a user (id, role, username), the system (role "system", the command's name), or
    # someone unknown (a failed or throttled login: only the username attempted).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(16))
    actor_name: Mapped[str | None] = mapped_column(sa.String(64))
    target_type: Mapped[str | None] = mapped_column(sa.String(16))
    target_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    # From where: the client's address, its user agent and the request's X-Request-Id.
    address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class RateLimitCounter(Base):
    """One key's count in its current window of a rate limit (``gateway.auth.ratelimit``),
    when the gateway counts in its database rather than Redis: a caller's requests, or the
    failed sign-ins of a username, an address, or both. The window opens at the key's first
    count and ends at ``resets_at``; after it the next count starts again from one, and the
    hourly prune deletes rows nobody counted on since."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    count: Mapped[int]
    resets_at: Mapped[dt.datetime] = mapped_column(index=True)
