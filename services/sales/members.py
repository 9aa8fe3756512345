"""Who works in which team, as the gateway's events tell it: the ``members`` and ``teams``
tables are a local copy, updated only by a newer version of the user or team."""
from __future__ import annotations

import sqlalchemy as sa

from common.records import optional_uuid
from common.uow import UnitOfWork
from services.sales.models import Member, Team

USER_FIELDS = ("username", "display_name", "email", "role", "active")


def _newer(row, event: dict) -> int | None:
    """The event's version when it is newer than what ``row`` holds, else ``None``."""
    version = event.get("entity_version") or event["data"].get("version") or 0
    if row is not None and row.version >= version:
        return None
    return version


def _upsert(uow: UnitOfWork, model, event: dict, fields: dict) -> None:
    """Write ``fields`` on the row of the event's entity if the event is newer than it."""
    row = uow.session.get(model, optional_uuid(event["data"]["id"]))
    version = _newer(row, event)
    if version is None:
        return
    if row is None:
        row = model(id=optional_uuid(event["data"]["id"]))
        uow.session.add(row)
    for field, value in fields.items():
        setattr(row, field, value)
    row.version = version


def apply_user(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    _upsert(uow, Member, event, {
        **{field: data[field] for field in USER_FIELDS if field in data},
        "team_id": optional_uuid(data.get("team_id")),
    })


def apply_team(uow: UnitOfWork, event: dict) -> None:
    data = event["data"]
    _upsert(uow, Team, event, {"name": data.get("name") or "",
                               "manager_id": optional_uuid(data.get("manager_id"))})


def active_sales(session, team_id) -> list[Member]:
    """The team's active sales users, in a stable order (the round-robin order)."""
    if team_id is None:
        return []
    return session.scalars(
        sa.select(Member)
        .where(Member.team_id == team_id, Member.role == "sales", Member.active.is_(True))
        .order_by(Member.id)
    ).all()


def team_of(session, user_id):
    """The team of a known user, or ``None``."""
    member = session.get(Member, user_id) if user_id else None
    return member.team_id if member else None
