"""Record-level access to customers: who may see a customer, and who may own it.

A sales rep sees the customers they own; a manager those of their team (and their own); an
admin and an analyst see all; an analyst writes nothing. A record the caller may not see is
answered as not found, never as someone else's data. Contacts and activities follow their
customer.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from common.actor import Actor
from common.errors import Forbidden
from services.customers.models import Customer


def _uuid(value) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def visible_customers(actor: Actor, query):
    """Restrict a select of customers to those ``actor`` may see."""
    if actor.sees_everything:
        return query
    own = Customer.owner_id == _uuid(actor.user_id)
    if actor.role == "manager" and actor.team_id:
        return query.where(sa.or_(own, Customer.team_id == _uuid(actor.team_id)))
    return query.where(own)


def require_write(actor: Actor) -> None:
    if not actor.can_write:
        raise Forbidden("Your role may read customers but not change them.")


def ownership(actor: Actor, owner_id, team_id) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The owner and team a write by ``actor`` may set; ``None`` means "not asked"."""
    require_write(actor)
    me, my_team = _uuid(actor.user_id), _uuid(actor.team_id)
    owner_id, team_id = _uuid(owner_id), _uuid(team_id)
    if actor.role in ("admin", "system"):
        return owner_id or me, team_id or (my_team if owner_id in (None, me) else None)
    if team_id not in (None, my_team):
        raise Forbidden("You may only assign customers to your own team.")
    if actor.role == "sales" and owner_id not in (None, me):
        raise Forbidden("Sales users own the customers they create; ask a manager to reassign.")
    return owner_id or me, my_team
