"""Duplicate detection: which customers a new or imported one would duplicate.

One finder for every path that makes customers (create, import, a lead's capture asking over
RPC): the same rules (``common.normalize``) on the same stored, indexed keys (a customer's
``name_key``, its contacts' ``email_normalized`` and ``phone_normalized``), so a check is one
query, never a scan, and the caller sees only what it may see.
"""
from __future__ import annotations

import sqlalchemy as sa

from common import normalize
from common.actor import Actor
from common.errors import Duplicate
from common.records import optional_uuid
from common.normalize import name_key  # part of this module's interface too
from common.uow import UnitOfWork
from common.validation import load
from services.customers import access
from services.customers import schemas as s
from services.customers.models import Contact, Customer

customer_out = s.CustomerSchema()
REFUSED = ("Customers you may see have the same name, email or phone; see matches, or send "
           "allow_duplicate: true to create it all the same.")


def find_duplicates(session, actor: Actor, *, name=None, emails=(), phones=(),
                    exclude_id=None) -> list[dict]:
    """The live customers ``actor`` may see (record-level access, as the list) whose name,
    or a live contact's email or phone, is the same as one given, compared by their keys
    (``common.normalize``: ``name_key``, ``email``, ``phone``), oldest first, at most
    ``MAX_DUPLICATES``. Each is ``{"customer": <CustomerSchema dump>, "matched": [...]}``,
    ``matched`` naming which of ``"name"``, ``"email"`` and ``"phone"`` matched, in that
    order. ``exclude_id``: a customer not to report (the one being updated; an id or UUID)."""
    wanted_name = name_key(name) if name else ""
    wanted_emails = {normalize.email(value) for value in emails} - {None}
    wanted_phones = {normalize.phone(value) for value in phones} - {None}
    by_contact = [column.in_(values) for column, values in (
        (Contact.email_normalized, wanted_emails), (Contact.phone_normalized, wanted_phones))
        if values]
    live_contacts = sa.select(Contact.customer_id, Contact.email_normalized,
                              Contact.phone_normalized).where(
        Contact.deleted_at.is_(None), sa.or_(sa.false(), *by_contact))
    criteria = [Customer.name_key == wanted_name] if wanted_name else []
    if by_contact:
        criteria.append(Customer.id.in_(live_contacts.with_only_columns(Contact.customer_id)))
    if not criteria:
        return []
    query = access.visible_customers(actor, sa.select(Customer)).where(
        Customer.deleted_at.is_(None), sa.or_(*criteria))
    if exclude_id is not None:
        query = query.where(Customer.id != optional_uuid(exclude_id))
    customers = session.scalars(
        query.order_by(Customer.created_at, Customer.id).limit(s.MAX_DUPLICATES)).all()
    contact_keys: dict = {}
    if by_contact and customers:
        for customer_id, email, phone in session.execute(live_contacts.where(
                Contact.customer_id.in_([customer.id for customer in customers]))):
            keys = contact_keys.setdefault(customer_id, set())
            keys |= {("email", email), ("phone", phone)}
    found = []
    for customer in customers:
        keys = contact_keys.get(customer.id, set())
        matched = [field for field, hit in (
            ("name", bool(wanted_name) and customer.name_key == wanted_name),
            ("email", any(("email", value) in keys for value in wanted_emails)),
            ("phone", any(("phone", value) in keys for value in wanted_phones)),
        ) if hit]
        found.append({"customer": customer_out.dump(customer), "matched": matched})
    return found


def refuse_duplicates(uow: UnitOfWork, **criteria) -> None:
    """Refuse (409 ``duplicate``, with the matches) a new customer that would duplicate
    others the caller may see; ``criteria`` as :func:`find_duplicates` takes them."""
    matches = find_duplicates(uow.session, uow.actor, **criteria)
    if matches:
        raise Duplicate(REFUSED, matches=matches)


def list_duplicates(uow: UnitOfWork, query_args) -> dict:
    """``GET /customers/duplicates?name=&email=&phone=``: ``{"items": [...]}`` as
    :func:`find_duplicates` finds them (at least one of the three is required)."""
    args = load(s.DuplicateQuerySchema(), query_args)
    return {"items": find_duplicates(
        uow.session, uow.actor, name=args.get("name"),
        emails=[args["email"]] if args.get("email") else (),
        phones=[args["phone"]] if args.get("phone") else ())}
