"""The teams use cases: each function is one use case run inside a unit of work.

Admins list, read, create, rename teams and name their managers; every creation and change
is announced as ``team.created`` / ``team.updated`` for the services' copies.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.uow import UnitOfWork
from common.validation import load
from gateway.identity import schemas as s
from gateway.identity.records import TEAM, create, edit, load_change, require_admin
from gateway.models import Team


def list_teams(uow: UnitOfWork, query_args) -> dict:
    require_admin(uow.actor)
    args = load(s.TeamListQuerySchema, query_args)
    conditions = [sa.func.lower(Team.name).like(f"%{args['q'].lower()}%")] if args.get("q") else []
    return TEAM.page(uow, args, conditions)


def get_team(uow: UnitOfWork, team_id) -> dict:
    require_admin(uow.actor)
    return TEAM.out.dump(TEAM.find(uow, team_id))


def create_team(uow: UnitOfWork, payload) -> dict:
    require_admin(uow.actor)
    return create(uow, TEAM, load(s.TeamInputSchema, payload))


def update_team(uow: UnitOfWork, team_id, payload) -> dict:
    """Rename a team or change its manager; nothing changed answers the team as it is and
    announces nothing."""
    require_admin(uow.actor)
    data, version = load_change(s.TeamPatchSchema, payload)
    return edit(uow, TEAM, team_id, data, version)
