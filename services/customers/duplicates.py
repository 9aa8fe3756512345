"""Duplicate detection: which customers a new or imported one would duplicate.

One finder for every path that makes customers (create, import, a lead's capture asking over
RPC): the same rules (``common.normalize``) on the same stored, indexed keys (a customer's
``name_key``, its contacts' ``email_normalized`` and ``phone_normalized``), so a check is one
query, never a scan, and the caller sees only what it may see.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from common import normalize
from common.actor import Actor
from common.errors import Duplicate, ValidationError
from common.records import optional_uuid
from common.normalize import name_key  # part of this module's interface too
from common.uow import UnitOfWork
from common.validation import load
from services.customers import access
from services.customers import schemas as s
from services.customers.models import Contact, Customer

customer_out = s.customer_out
MAX_QUERIES = 1000
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
    return [{"customer": customer_out.dump(customer), "matched": matched}
            for customer, matched in find_many(session, actor, [Wanted.of(name, emails, phones)],
                                               exclude_id=exclude_id)[0]]


@dataclass(frozen=True)
class Wanted:
    """What one new customer would duplicate others by: its keys."""

    name_key: str
    emails: frozenset
    phones: frozenset

    @classmethod
    def of(cls, name=None, emails=(), phones=()) -> "Wanted":
        return cls(name_key(name) if name else "",
                   frozenset({normalize.email(value) for value in emails} - {None}),
                   frozenset({normalize.phone(value) for value in phones} - {None}))

    def keys(self) -> list[tuple[str, str]]:
        """``("name" | "email" | "phone", key)`` of each it has."""
        return ([("name", self.name_key)] if self.name_key else []) + [
            ("email", value) for value in sorted(self.emails)] + [
            ("phone", value) for value in sorted(self.phones)]

    def matched(self, key: str, contact_keys: set) -> list[str]:
        """Which of name, email and phone a customer with ``key`` and ``contact_keys``
        (``{("email", e), ("phone", p)}``) shares with this one."""
        return [field for field, hit in (
            ("name", bool(self.name_key) and key == self.name_key),
            ("email", any(("email", value) in contact_keys for value in self.emails)),
            ("phone", any(("phone", value) in contact_keys for value in self.phones)),
        ) if hit]


def find_many(session, actor: Actor, wanted: list[Wanted], *,
              exclude_id=None) -> list[list[tuple[Customer, list[str]]]]:
    """For each of ``wanted``, its duplicates as :func:`find_duplicates` finds them, as
    ``(customer, matched)``; two queries for them all, so an import checks a batch of rows
    at the cost of one."""
    names = {one.name_key for one in wanted} - {""}
    emails = frozenset().union(*(one.emails for one in wanted))
    phones = frozenset().union(*(one.phones for one in wanted))
    by_contact = [column.in_(values) for column, values in (
        (Contact.email_normalized, emails), (Contact.phone_normalized, phones)) if values]
    live_contacts = sa.select(Contact.customer_id, Contact.email_normalized,
                              Contact.phone_normalized).where(
        Contact.deleted_at.is_(None), sa.or_(sa.false(), *by_contact))
    # One indexed lookup per key (a union, not an OR over both tables, which PostgreSQL
    # answers by reading every customer: a batch of an import slower with each stored).
    lookups = [sa.select(Customer.id).where(Customer.name_key.in_(names))] if names else []
    lookups += [sa.select(Contact.customer_id).where(Contact.deleted_at.is_(None), condition)
                for condition in by_contact]
    if not lookups:
        return [[] for _ in wanted]
    query = access.visible_customers(actor, sa.select(Customer)).where(
        Customer.deleted_at.is_(None), Customer.id.in_(sa.union(*lookups)))
    if exclude_id is not None:
        query = query.where(Customer.id != optional_uuid(exclude_id))
    if len(wanted) == 1:
        query = query.limit(s.MAX_DUPLICATES)
    customers = session.scalars(query.order_by(Customer.created_at, Customer.id)).all()
    contact_keys: dict = {}
    by_key: dict = {}  # ("name" | "email" | "phone", key) -> the customers that have it
    for customer in customers:
        by_key.setdefault(("name", customer.name_key), []).append(customer)
    if by_contact and customers:
        by_id = {customer.id: customer for customer in customers}
        for customer_id, email, phone in session.execute(live_contacts.where(
                Contact.customer_id.in_(list(by_id)))):
            keys = contact_keys.setdefault(customer_id, set())
            keys |= {("email", email), ("phone", phone)}
            for key in (("email", email), ("phone", phone)):
                by_key.setdefault(key, []).append(by_id[customer_id])
    order = {customer.id: place for place, customer in enumerate(customers)}
    found = []
    for one in wanted:
        candidates = {customer.id: customer for key in one.keys()
                      for customer in by_key.get(key, ())}
        matches = []
        for customer in sorted(candidates.values(), key=lambda customer: order[customer.id]):
            matches.append((customer, one.matched(customer.name_key,
                                                  contact_keys.get(customer.id, set()))))
        found.append(matches[:s.MAX_DUPLICATES])
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
    return list_duplicates_many(uow, [query_args])[0]


def list_duplicates_many(uow: UnitOfWork, queries) -> list[dict]:
    """What :func:`list_duplicates` answers for each of ``queries`` (at most
    ``MAX_QUERIES``), in one query for them all: a lead import asks for a batch of rows."""
    if not isinstance(queries, list) or len(queries) > MAX_QUERIES:
        raise ValidationError("Invalid input.", {"queries": [
            f"A list of at most {MAX_QUERIES} queries."]})
    wanted = []
    for args in (load(s.DuplicateQuerySchema, query) for query in queries):
        wanted.append(Wanted.of(args.get("name"), [args["email"]] if args.get("email") else (),
                                [args["phone"]] if args.get("phone") else ()))
    return [{"items": [{"customer": customer_out.dump(customer), "matched": matched}
                       for customer, matched in matches]}
            for matches in find_many(uow.session, uow.actor, wanted)]
