"""Record-level access to customers, by the rules every service shares (``common.records``,
``common.placement``).

A sales rep sees the customers they own; a manager those of their team (and their own); an
admin and an analyst see all; an analyst writes nothing. Contacts and activities follow their
customer.
"""
from __future__ import annotations

from common import records
from common.actor import Actor
from common.placement import place
from common.uow import UnitOfWork
from services.customers.models import Customer

NOUN = "customers"


def visible_customers(actor: Actor, query):
    """Restrict a select of customers to those ``actor`` may see."""
    return records.visible(actor, query, Customer)


def visible_to(scope: str, viewer_id, viewer_team_id):
    """:func:`visible_customers` as a condition for a viewer of ``scope`` whose ids are given,
    or bound when the statement runs; ``None``: all."""
    return records.visible_where(scope, Customer, viewer_id, viewer_team_id)


def may_see(actor: Actor, customer: Customer) -> bool:
    """Whether ``actor`` may see ``customer``, loaded: :func:`visible_customers` in Python."""
    return records.may_see(actor, customer)


def require_write(actor: Actor) -> None:
    records.require_write(actor, NOUN)


def placement(uow: UnitOfWork, owner_id, team_id, **options):
    """The owner and team a write may set, by the one placement rule; ``None``: not asked."""
    return place(uow, owner_id, team_id, NOUN, **options)
