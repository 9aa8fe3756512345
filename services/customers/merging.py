"""Merging two customers into one: the use case that may change two customers and every
contact and follow-up of one of them in a single transaction.

The kept customer (``into``) takes every live contact and every follow-up of the other
(``from``); at most one primary contact stays, the kept one's (a moved primary stays primary
only when the kept customer had none). The kept customer's empty fields are filled from the
other (its owner, team, type and status stay), tags are joined and custom fields it lacks are
added. Both histories record the merge; ``from`` goes to the trash as a delete puts it there
(``customer.deleted``) and ``customer.merged`` tells everyone else to re-point what they hold.

Restoring a merged-away customer gives back the customer itself, with its own fields as they
were when it was merged, and nothing else: its contacts and follow-ups stay with the kept
customer (they are neither lost nor copied), and so do its deals in sales.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.db import utcnow
from common.errors import ValidationError
from common.records import check_version
from common.uow import UnitOfWork
from common.validation import load
from services.customers import access, history
from services.customers import schemas as s
from services.customers.models import Activity, Contact, Customer
from services.customers.operations import (
    _apply_customer_fields, _child_changed, _customer, _customer_event, activity_out,
    contact_out, customer_out, trash,
)

FILLED_WHEN_EMPTY = ("industry", "country", "province", "city", "source", "tier", "notes")


def merge_customers(uow: UnitOfWork, customer_id, payload) -> dict:
    """``POST /customers/{customer_id}/merge {from_id, version}``: the kept customer as it is
    after the merge (see the module). Both must be customers the caller may see and change
    (404 otherwise); ``version`` is the kept one's (a stale one is 409)."""
    access.require_write(uow.actor)
    data = load(s.MergeSchema, payload)
    kept = _customer(uow, customer_id, with_tags=True)
    if data["from_id"] == kept.id:
        raise ValidationError("Invalid input.",
                              {"from_id": ["Must be another customer than the one kept."]})
    merged = _customer(uow, data["from_id"], with_tags=True)
    check_version(kept, data["version"])
    before = customer_out.dump(kept)
    contacts = _move_contacts(uow, kept, merged)
    activities = _move_activities(uow, kept, merged)
    _apply_customer_fields(kept, _fills(kept, merged))
    kept.updated_at = utcnow()  # the merge changes it even when no field was empty
    uow.session.flush()
    after = customer_out.dump(kept)
    _record(uow, kept, "updated", before, after)
    _record(uow, kept, "merged", None, {
        "from_id": str(merged.id), "from_name": merged.name,
        "contacts": contacts, "activities": activities})
    _record(uow, merged, "merged", None, {"into_id": str(kept.id), "into_name": kept.name})
    _customer_event(uow, "customer.updated", kept)
    trash(uow, merged)
    uow.emit("customer.merged", kept.id, kept.version, {
        "into_id": str(kept.id), "from_id": str(merged.id), "from_version": merged.version})
    uow.commit()
    return after


def _record(uow: UnitOfWork, customer: Customer, action: str, before, after) -> None:
    history.record(uow.session, uow.actor, customer_id=customer.id, entity_type="customer",
                   entity_id=customer.id, entity_version=customer.version, action=action,
                   before=before, after=after)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fills(kept: Customer, merged: Customer) -> dict:
    """What the kept customer takes from the merged one: its empty fields, the tags it lacks
    and the custom fields it has no value for."""
    fills = {field: getattr(merged, field) for field in FILLED_WHEN_EMPTY
             if _empty(getattr(kept, field)) and not _empty(getattr(merged, field))}
    tags = sorted(set(kept.tags) | set(merged.tags))
    if tags != kept.tags:
        fills["tags"] = tags
    custom_fields = {**(merged.custom_fields or {}), **(kept.custom_fields or {})}
    if custom_fields != (kept.custom_fields or {}):
        fills["custom_fields"] = custom_fields
    return fills


def _move_contacts(uow: UnitOfWork, kept: Customer, merged: Customer) -> list[str]:
    """The merged customer's live contacts, now the kept one's (ids, in creation order)."""
    kept_has_primary = uow.session.scalar(sa.select(sa.func.count()).where(
        Contact.customer_id == kept.id, Contact.is_primary.is_(True),
        Contact.deleted_at.is_(None))) > 0
    moved = uow.session.scalars(sa.select(Contact).where(
        Contact.customer_id == merged.id, Contact.deleted_at.is_(None),
    ).order_by(Contact.created_at, Contact.id)).all()
    for contact in moved:
        before = contact_out.dump(contact)
        contact.customer_id = kept.id
        contact.is_primary = contact.is_primary and not kept_has_primary
        uow.session.flush()
        _child_changed(uow, kept, contact, "contact", "updated", before,
                       contact_out.dump(contact), "contact.updated", contact_out.dump)
    return [str(contact.id) for contact in moved]


def _move_activities(uow: UnitOfWork, kept: Customer, merged: Customer) -> list[str]:
    """The merged customer's follow-ups, now on the kept one's timeline (ids, oldest first)."""
    moved = uow.session.scalars(sa.select(Activity).where(
        Activity.customer_id == merged.id).order_by(Activity.occurred_at, Activity.id)).all()
    for activity in moved:
        before = activity_out.dump(activity)
        activity.customer_id = kept.id
        uow.session.flush()
        _child_changed(uow, kept, activity, "activity", "updated", before,
                       activity_out.dump(activity), "activity.updated", activity_out.dump)
    return [str(activity.id) for activity in moved]
