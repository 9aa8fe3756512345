"""The one rule of who may own a record and in which team, for every role.

Every service applies it to its own records (customers, leads, deals...), whoever calls: the
gateway forwards, it does not decide. The people it speaks of are those of the service's
directory (``common.directory``).

- An analyst changes nothing.
- A sales rep owns what they create: they may name no other owner and no other team.
- A manager places records with themselves or an active member of their own team, always in
  their team.
- An admin, the system and API keys place records with any active user, in the team named,
  else the owner's team.

A named owner other than the caller must be an active user; naming the record's current owner
again is always allowed (a body sent back as read).
"""
from __future__ import annotations

import uuid

from common import directory
from common.errors import Forbidden, ValidationError
from common.records import optional_uuid, require_write
from common.uow import UnitOfWork

NO_SUCH_OWNER = "No active user has this id."


def place(uow: UnitOfWork, owner_id, team_id, noun: str, *, current_owner=None,
          by_team_rule: bool = False) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """``(owner_id, team_id)`` for a record ``uow.actor`` creates or reassigns.

    ``owner_id`` / ``team_id``: what the caller asked (``None``: not asked).
    ``by_team_rule``: a team named without an owner leaves the owner empty, for the team's
    assignment rule to choose (leads); otherwise the caller becomes the owner.
    """
    actor = uow.actor
    require_write(actor, noun)
    me, my_team = actor.user_uuid, actor.team_uuid
    owner_id, team_id = optional_uuid(owner_id), optional_uuid(team_id)
    if actor.role == "sales":
        if team_id not in (None, my_team):
            raise Forbidden(f"You may only assign {noun} to your own team.")
        if owner_id not in (None, me):
            raise Forbidden(f"Sales users own the {noun} they create; ask a manager to reassign.")
        return me, my_team
    if owner_id is None:
        owner_id = None if by_team_rule and team_id is not None else me
    owner = None
    if owner_id not in (None, me, optional_uuid(current_owner)):
        owner = directory.active_user(uow, owner_id)
        if owner is None:
            raise ValidationError("Invalid input.", {"owner_id": [NO_SUCH_OWNER]})
    if actor.role == "manager":
        if team_id not in (None, my_team):
            raise Forbidden(f"You may only assign {noun} to your own team.")
        if owner is not None and (my_team is None or owner.team_id != my_team):
            raise Forbidden("You may only give records to members of your own team.")
        return owner_id, my_team
    if team_id is None:
        if owner_id == me:
            team_id = my_team
        elif owner_id is not None:
            known = owner or directory.user(uow, owner_id)
            team_id = known.team_id if known else None
    return owner_id, team_id
