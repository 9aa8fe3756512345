"""Record-level access to customers, by the rules every service shares (``common.records``).

A sales rep sees the customers they own; a manager those of their team (and their own); an
admin and an analyst see all; an analyst writes nothing. Contacts and activities follow their
customer.
"""
from __future__ import annotations

from common import records
from common.actor import Actor
from services.customers.models import Customer

NOUN = "customers"


def visible_customers(actor: Actor, query):
    """Restrict a select of customers to those ``actor`` may see."""
    return records.visible(actor, query, Customer)


def require_write(actor: Actor) -> None:
    records.require_write(actor, NOUN)


def ownership(actor: Actor, owner_id, team_id):
    """The owner and team a write by ``actor`` may set; ``None`` means "not asked"."""
    return records.ownership(actor, owner_id, team_id, NOUN)
