"""Record-level access to leads, deals, quotes and contracts: the rules of
``common.records`` (own, team for a manager, all for admin and analyst, analysts read only).
A quote follows its deal. A record the caller may not see is not found."""
from __future__ import annotations

import sqlalchemy as sa

from common.actor import Actor
from common.errors import Forbidden, NotFound
from common.records import as_uuid, require_write, visible
from common.uow import UnitOfWork

NOUN = "sales records"


def can_write(actor: Actor) -> None:
    require_write(actor, NOUN)


def require_admin(actor: Actor) -> None:
    if not actor.acts_as_admin:
        raise Forbidden("Only an admin may change this.")


def require_catalogue_write(actor: Actor) -> None:
    if not (actor.acts_as_admin or actor.role == "manager"):
        raise Forbidden("Only an admin or a manager may change the product catalogue.")


def require_team_manager(actor: Actor, team_id) -> None:
    """Admins, and the manager of ``team_id``, may set that team's assignment rule."""
    if actor.acts_as_admin:
        return
    if actor.role == "manager" and actor.team_uuid == team_id:
        return
    raise Forbidden("Only an admin or the team's manager may set its assignment rule.")


def find(uow: UnitOfWork, model, record_id, label: str, *, lock: bool = False):
    """The record of ``model`` with ``record_id`` if ``uow.actor`` may see it."""
    query = visible(uow.actor, sa.select(model).where(model.id == as_uuid(record_id, label)), model)
    if lock:
        query = query.with_for_update()
    record = uow.session.scalars(query).first()
    if record is None:
        raise NotFound(f"No {label} with id {record_id}.")
    return record

