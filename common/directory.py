"""Who is who: every service's local copy of the gateway's users and teams.

The gateway owns users and teams and announces each change as a ``user.*`` or ``team.*``
event. Every service keeps what they say in its own database (the directory tables of
``common.db.make_base``) and never asks the gateway: the placement rule (who may own a record,
in which team), lead assignment and reminder delivery all read this copy. A row changes only
for a newer version of its user or team, under a row lock, so an event applied twice, late
or out of order never takes the copy backwards (a deactivated rep does not come back).
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from common.events import version_of
from common.records import newer, optional_uuid
from common.uow import UnitOfWork

USER_FIELDS = ("username", "display_name", "email", "role", "team_id", "language", "timezone",
               "active")
TEAM_FIELDS = ("name", "manager_id")
_IDS = ("team_id", "manager_id")


def _apply(uow: UnitOfWork, model, fields: tuple[str, ...], event: dict) -> bool:
    """Write the event on its row if newer; True when it was (False: a repeat or late)."""
    data = event["data"]
    # An unversioned user or team event (the gateway never sends one) is not applied: a
    # directory row must know its version to refuse older news.
    row = newer(uow.session, model, optional_uuid(data["id"]), version_of(event) or 0)
    if row is None:
        return False  # already as new or newer: a repeat, a late event, an announce
    for name in fields:
        if name in data:
            setattr(row, name, optional_uuid(data[name]) if name in _IDS else data[name])
    return True


def apply_user(uow: UnitOfWork, event: dict) -> bool:
    return _apply(uow, uow.platform.DirectoryUser, USER_FIELDS, event)


def apply_team(uow: UnitOfWork, event: dict) -> bool:
    return _apply(uow, uow.platform.DirectoryTeam, TEAM_FIELDS, event)


# The events every service consumes to keep its copy (``common.service.PlatformService``).
EVENTS = {
    ("gateway", "user.created"): apply_user,
    ("gateway", "user.updated"): apply_user,
    ("gateway", "team.created"): apply_team,
    ("gateway", "team.updated"): apply_team,
}


def user(uow: UnitOfWork, user_id):
    """The user with ``user_id`` as last told, or ``None`` when no event named them yet."""
    key = optional_uuid(user_id)
    row = uow.session.get(uow.platform.DirectoryUser, key) if key else None
    return row if row is not None and row.version > 0 else None


def active_user(uow: UnitOfWork, user_id):
    """The user with ``user_id`` when they are known and active, else ``None``."""
    row = user(uow, user_id)
    return row if row is not None and row.active else None


def users(session, platform, user_ids) -> dict[uuid.UUID, object]:
    """The known users among ``user_ids``, by id, in one query."""
    keys = {optional_uuid(user_id) for user_id in user_ids if user_id}
    if not keys:
        return {}
    model = platform.DirectoryUser
    return {row.id: row for row in session.scalars(
        sa.select(model).where(model.id.in_(keys), model.version > 0))}


def active_sales(uow: UnitOfWork, team_id) -> list:
    """The team's active sales users, in a stable order (the round-robin order)."""
    if team_id is None:
        return []
    model = uow.platform.DirectoryUser
    return uow.session.scalars(
        sa.select(model)
        .where(model.team_id == optional_uuid(team_id), model.role == "sales",
               model.active.is_(True))
        .order_by(model.id)
    ).all()
