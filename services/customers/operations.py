"""The customers service layer: each function is one use case run inside a unit of work.

Plain Python over SQLAlchemy: tests drive it without a broker. Every write checks access,
validates with the contract in ``schemas.py``, records field history, emits its domain event
into the outbox and commits once.
"""
from __future__ import annotations

import datetime as dt
import functools
import uuid
from types import SimpleNamespace
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from common.db import insert_many, new_id, new_row, sorted_json_array, utcnow
from common.errors import NotFound, ValidationError
from common.listing import order_by, page_answer, page_statements, paginate, run_page, where_equal
from common import normalize, records, snapshots
from common.records import as_uuid, found, update
from common.uow import UnitOfWork
from common.validation import load
from services.customers import access, duplicates, history
from services.customers import schemas as s
from services.customers.models import (
    Activity,
    Contact,
    Customer,
    CustomerTag,
    FieldChange,
    IdempotentResult,
)

customer_out = s.customer_out
contact_out = s.ContactSchema()
activity_out = s.ActivitySchema()
change_out = s.FieldChangeSchema()


# -- customers -------------------------------------------------------------------------------
# A customer by id: built once (building a statement per read cost more than running it),
# the caller's access checked on the row loaded (``access.may_see``); its tags read in the
# same query (with_tags: a use case that shows the customer) or only if touched (a contact or
# an activity written needs the customer's name and owner, not its tags).
_BY_ID_WHERE = sa.select(Customer).where(Customer.id == sa.bindparam("customer_id"))
_BY_ID = _BY_ID_WHERE.options(lazyload(Customer.tag_rows))
_BY_ID_WITH_TAGS = _BY_ID_WHERE.options(joinedload(Customer.tag_rows))


def _customer(uow: UnitOfWork, customer_id, *, deleted: bool = False, with_tags: bool = False):
    statement = _BY_ID_WITH_TAGS if with_tags else _BY_ID
    customer = uow.session.scalars(
        statement, {"customer_id": as_uuid(customer_id, "customer")}).unique().first()
    if (customer is None or (customer.deleted_at is not None) != deleted
            or not access.may_see(uow.actor, customer)):
        where = "in the trash" if deleted else ""
        raise NotFound(f"No customer with id {customer_id} {where}".strip() + ".")
    return customer


def _customer_event(uow: UnitOfWork, event_type: str, customer: Customer, schema=customer_out):
    uow.emit(event_type, customer.id, customer.version, schema.dump(customer))


def _apply_customer_fields(customer: Customer, data: dict) -> None:
    for field, value in data.items():
        if field == "tags":
            customer.tag_rows = [CustomerTag(tag=tag) for tag in _tags(value)]
        elif field not in ("version", "owner_id", "team_id", "allow_duplicate"):
            setattr(customer, field, value)
    if "name" in data:
        for field, value in _name_columns(data["name"]).items():
            setattr(customer, field, value)


def _name_columns(name: str) -> dict:
    """A customer's name as stored, with the forms it is searched and deduplicated by."""
    name = name.strip()
    return {"name": name, "name_normalized": normalize.name(name),
            "name_key": normalize.name_key(name)}


def _tags(value) -> list[str]:
    """Tags as stored: trimmed, no empty one, each once, in order."""
    return sorted({tag.strip() for tag in value if tag.strip()})


def create_customer(uow: UnitOfWork, payload) -> dict:
    """A new customer; one with the name of others the caller may see is refused (409
    ``duplicate``, with them) unless the payload says ``allow_duplicate``."""
    data = load(s.CustomerCreateSchema, payload)
    customer, _ = _new_customer(uow, data, refuse_duplicates=not data["allow_duplicate"])
    snapshot = customer_out.dump(customer)
    uow.commit()
    return snapshot


def _new_customer(uow: UnitOfWork, data: dict, *, refuse_duplicates: bool = False,
                  contact: dict | None = None) -> tuple:
    """A customer (with ``contact`` as its primary contact) created, recorded and announced
    (not committed); with ``refuse_duplicates``, not when customers the caller may see have
    its name."""
    owner_id, team_id = access.placement(uow, data.get("owner_id"), data.get("team_id"))
    if refuse_duplicates:
        duplicates.refuse_duplicates(uow, name=data["name"])
    return add_customers(uow, [NewCustomer(data, owner_id, team_id, contact)])[0]


class NewCustomer(NamedTuple):
    """A customer to add: its fields as the create schema loaded them, the owner and team
    the placement rule gave it, and its primary contact's fields (or ``None``)."""

    fields: dict
    owner_id: uuid.UUID | None
    team_id: uuid.UUID | None
    contact: dict | None = None


# What a create's loaded fields may set of a new customer or contact (not its id, version,
# owner, team or times, which the create decides).
CUSTOMER_FIELDS = frozenset(Customer.__table__.columns.keys()) - {
    "id", "version", "owner_id", "team_id", "created_by", "created_at", "updated_at",
    "deleted_at", "deleted_by", "name_normalized", "name_key"}
CONTACT_FIELDS = frozenset(Contact.__table__.columns.keys()) - {
    "id", "customer_id", "version", "is_primary", "created_at", "updated_at", "deleted_at",
    "phone_normalized", "email_normalized"}


def add_customers(uow: UnitOfWork, new: list[NewCustomer]) -> list[tuple]:
    """Customers, each with its primary contact if it has one, created, recorded and
    announced (not committed): every create's path, one customer or an import's batch
    (:func:`prepare_customers`, then :func:`write_customers`). Access, placement and
    duplicates are the caller's, checked before. Answers ``(customer, contact or None)`` per
    customer: the rows as written, read as the models are (``customer.id``,
    ``customer.tags``)."""
    return write_customers(uow, prepare_customers(uow.actor, new))


class PreparedCustomer(NamedTuple):
    """A new customer made ready to write (:func:`prepare_customers`): its rows, its
    snapshot and its contact's (what its history and events carry), its history rows."""

    row: dict
    contact_row: dict | None
    customer: SimpleNamespace  # ``row`` read as a Customer is (with ``tags``)
    contact: SimpleNamespace | None
    snapshot: dict
    contact_snapshot: dict | None
    history: list[dict]  # its field_changes rows


def prepare_customers(actor, new: list[NewCustomer]) -> list[PreparedCustomer]:
    """What adding ``new`` writes, made without the database, so that an import prepares a
    batch while the one before it is being written (``imports.CustomerRows.prepare``): ids,
    times a microsecond apart in the order given (creation order, what lists and exports
    sort by, is that order: an import's rows in the file's order), rows and snapshots."""
    started, actor_id = utcnow(), actor.user_uuid
    prepared = []
    for position, one in enumerate(new):
        now = started + dt.timedelta(microseconds=position)
        fields = {field: value for field, value in one.fields.items()
                  if field in CUSTOMER_FIELDS}
        row = new_row(Customer.__table__, {
            **fields, **_name_columns(fields["name"]), "id": new_id(),
            "owner_id": one.owner_id, "team_id": one.team_id, "created_by": actor_id,
            "created_at": now, "updated_at": now})
        wanted = _tags(one.fields.get("tags", ()))
        customer = SimpleNamespace(**row, tags=wanted)
        snapshot = customer_out.dump(customer)
        created = [(customer.id, "customer", customer, snapshot)]
        contact_row = contact = contact_snapshot = None
        if one.contact is not None:
            # Primary from the start: a new customer has no other primary contact to step down.
            values = {field: _stripped(value) for field, value in one.contact.items()
                      if field in CONTACT_FIELDS}
            contact_row = new_row(Contact.__table__, {
                **values, **_contact_keys(values.get("phone"), values.get("email")),
                "id": new_id(), "customer_id": row["id"], "is_primary": True,
                "created_at": now, "updated_at": now})
            contact = SimpleNamespace(**contact_row)
            contact_snapshot = contact_out.dump(contact)
            created.append((customer.id, "contact", contact, contact_snapshot))
        prepared.append(PreparedCustomer(row, contact_row, customer, contact, snapshot,
                                         contact_snapshot,
                                         history.created_rows(actor, created, now)))
    return prepared


def write_customers(uow: UnitOfWork, prepared: list[PreparedCustomer]) -> list[tuple]:
    """The ``prepared`` customers written with their history and events (not committed),
    one statement per table for them all (``common.db.insert_many``, not the ORM, whose
    bookkeeping of thousands of new objects was most of an import's time): ``(customer,
    contact or None)`` per customer."""
    for table, rows in ((Customer, [one.row for one in prepared]),
                        (CustomerTag, [{"customer_id": one.row["id"], "tag": tag}
                                       for one in prepared for tag in one.customer.tags]),
                        (Contact, [one.contact_row for one in prepared
                                   if one.contact_row is not None])):
        insert_many(uow.session, table.__table__, rows)
    for one in prepared:
        uow.emit("customer.created", one.customer.id, one.customer.version, one.snapshot)
        if one.contact is not None:
            uow.emit("contact.created", one.contact.id, one.contact.version,
                     {**one.contact_snapshot, **_customer_ref(one.customer)})
    insert_many(uow.session, FieldChange.__table__,
                [change for one in prepared for change in one.history])
    return [(one.customer, one.contact) for one in prepared]


def create_customer_with_contact(uow: UnitOfWork, payload, idempotency_key) -> dict:
    """A customer and its primary contact in one step, at most once per ``idempotency_key``:
    a caller retrying (after a timeout, or a failure of its own later step) gets the ids made
    the first time. Answers ``{"customer_id", "contact_id"}``."""
    key = load(s.IdempotencyKeySchema, {"key": idempotency_key})["key"]
    done = uow.session.get(IdempotentResult, key)
    if done is not None:
        return done.result
    data = load(s.CustomerWithContactSchema, payload)
    customer, contact = _new_customer(uow, data["customer"], contact=data["contact"])
    result = {"customer_id": str(customer.id), "contact_id": str(contact.id)}
    uow.session.add(IdempotentResult(key=key, result=result))
    try:
        uow.commit()
    except sa.exc.IntegrityError:
        # The same key committed by a concurrent call a moment ago: answer what it made.
        uow.rollback()
        return uow.session.get(IdempotentResult, key).result
    return result


def get_customer(uow: UnitOfWork, customer_id) -> dict:
    return customer_out.dump(_customer(uow, customer_id, with_tags=True))


# A page of the list is read as columns, not as Customer entities, with its tags in the same
# statement: entities (the identity map, a selectin load of tag rows) cost about a quarter of a
# page's CPU in the service, and a second query for the page's tags a fifth of what was left.
_LISTED_COLUMNS = tuple(getattr(Customer, field.attribute or name)
                        for name, field in customer_out.schema.dump_fields.items()
                        if name != "tags")
CUSTOMER_TAGS = sorted_json_array(CustomerTag.tag, CustomerTag.customer_id == Customer.id).label("tags")


def _list_customers(uow: UnitOfWork, query_args, *, deleted: bool) -> dict:
    args = load(s.CustomerListQuerySchema, query_args)
    scope = records.viewer_scope(uow.actor)
    viewer_id, viewer_team_id = records.viewer_ids(uow.actor, scope)
    filters = tuple(name for name in _FILTERS if name in args)
    search = _search_patterns(args["q"]) if "q" in args else None
    statements = _list_statements(scope, deleted, filters,
                                  None if search is None else tuple(sorted(search)),
                                  _sort_fields(args["sort"]))
    rows, total = run_page(uow.session, statements, args, {
        "viewer_id": viewer_id, "viewer_team_id": viewer_team_id,
        **{f"filter_{name}": args[name] for name in filters}, **(search or {})})
    return page_answer(args, [customer_out.dump(SimpleNamespace(**row._mapping)) for row in rows],
                       total)


@functools.lru_cache(maxsize=512)
def _list_statements(scope: str, deleted: bool, filters: tuple[str, ...],
                     search: tuple[str, ...] | None, sort: str) -> tuple:
    """The count and page statements of a list for viewers of ``scope`` with the ``filters``
    and ``search`` patterns given (their names), in the order ``sort``
    (:func:`_sort_fields`): built once for every caller asking a list of that shape
    (building them and their cache keys cost a third of a page's CPU in the service), the
    viewer's ids and the values bound when run."""
    where = access.visible_to(scope, sa.bindparam("viewer_id"), sa.bindparam("viewer_team_id"))
    query = sa.select(Customer) if where is None else sa.select(Customer).where(where)
    query = _filtered(query, {name: sa.bindparam(f"filter_{name}") for name in filters},
                      deleted=deleted,
                      search=None if search is None else {name: sa.bindparam(name)
                                                          for name in search})
    query = query.with_only_columns(*_LISTED_COLUMNS).order_by(
        *order_by(Customer, sort, s.CUSTOMER_SORT_FIELDS))
    return page_statements(query, page_columns=[CUSTOMER_TAGS], key=Customer.id)


def _sort_fields(sort: str) -> str:
    """``sort`` as the list orders by it: each field once (the first time it is named),
    without blanks; two sorts that order alike share a cached shape."""
    seen, fields = set(), []
    for part in (part.strip() for part in (sort or "").split(",")):
        if part and part.lstrip("-") not in seen:
            seen.add(part.lstrip("-"))
            fields.append(part)
    return ",".join(fields)


_EQUAL_FILTERS = ("owner_id", "team_id", "type", "industry", "country", "province", "city",
                  "source", "tier", "status")
_FILTERS = (*_EQUAL_FILTERS, "tag", "created_from", "created_to")


def customers_query(uow: UnitOfWork, args: dict, *, deleted: bool = False):
    """The customers the caller may see that match the list filters ``args`` (loaded), in no
    order: what the export writes. The list filters by the same :func:`_filtered` and the
    same visibility rule, its statements built once with the values bound."""
    return _filtered(access.visible_customers(uow.actor, sa.select(Customer)), args,
                     deleted=deleted,
                     search=_search_patterns(args["q"]) if "q" in args else None)


def _filtered(query, args: dict, *, deleted: bool, search: dict | None):
    """``query`` of customers in the trash or out of it, narrowed by the list filters in
    ``args`` and by ``search`` (:func:`_search_patterns`): values, or parameters bound when
    the statement runs."""
    query = query.where(Customer.deleted_at.is_not(None) if deleted else Customer.deleted_at.is_(None))
    query = where_equal(query, Customer, args, _EQUAL_FILTERS)
    if "tag" in args:
        query = query.where(
            sa.exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == args["tag"])
        )
    if "created_from" in args:
        query = query.where(Customer.created_at >= args["created_from"])
    if "created_to" in args:
        query = query.where(Customer.created_at <= args["created_to"])
    if search is not None:
        query = query.where(_matches(**search))
    return query


def _search_patterns(text: str) -> dict:
    """The LIKE patterns of a search for ``text``: ``search_text`` (its casefolded text), and
    ``search_phone`` (its digits) when it reads as part of a phone number."""
    patterns = {"search_text": _containing(text.strip().casefold())}
    phone = normalize.phone_in_search(text)
    if phone:
        patterns["search_phone"] = _containing(phone)
    return patterns


def _containing(text: str) -> str:
    """A LIKE pattern (escape ``/``) of the values containing ``text`` as it is."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _matches(search_text, search_phone=None):
    """Name, or any live contact's name, phone or email, like the patterns of
    :func:`_search_patterns`."""
    contact_match = [sa.func.lower(Contact.name).like(search_text, escape="/"),
                     Contact.email_normalized.like(search_text, escape="/")]
    if search_phone is not None:
        contact_match.append(Contact.phone_normalized.like(search_phone, escape="/"))
    return sa.or_(
        Customer.name_normalized.like(search_text, escape="/"),
        sa.exists().where(Contact.customer_id == Customer.id, Contact.deleted_at.is_(None),
                          sa.or_(*contact_match)),
    )


def list_customers(uow: UnitOfWork, query_args) -> dict:
    return _list_customers(uow, query_args, deleted=False)


def list_trash(uow: UnitOfWork, query_args) -> dict:
    return _list_customers(uow, query_args, deleted=True)


def update_customer(uow: UnitOfWork, customer_id, payload) -> dict:
    access.require_write(uow.actor)
    data = load(s.CustomerUpdateSchema, payload)
    customer = _customer(uow, customer_id, with_tags=True)

    def apply():
        if "owner_id" in data or "team_id" in data:
            customer.owner_id, customer.team_id = access.placement(
                uow, data.get("owner_id", customer.owner_id),
                data.get("team_id", customer.team_id), current_owner=customer.owner_id)
        _apply_customer_fields(customer, data)

    change = update(uow, customer, data["version"], customer_out.dump, apply)
    if change is None:
        return customer_out.dump(customer)
    history.record(uow.session, uow.actor, customer_id=customer.id, entity_type="customer",
                   entity_id=customer.id, entity_version=customer.version, action="updated",
                   before=change.before, after=change.after)
    _customer_event(uow, "customer.updated", customer)
    uow.commit()
    return change.after


def _move_to_trash(uow: UnitOfWork, customer_id, *, restore: bool) -> dict:
    access.require_write(uow.actor)
    customer = _customer(uow, customer_id, deleted=restore, with_tags=True)
    trash(uow, customer, restore=restore)
    uow.commit()
    return customer_out.dump(customer)


def trash(uow: UnitOfWork, customer: Customer, *, restore: bool = False) -> None:
    """Move ``customer`` to the trash (or back), recorded and announced (not committed)."""
    if restore:
        customer.deleted_at, customer.deleted_by = None, None
    else:
        customer.deleted_at = utcnow()
        customer.deleted_by = uow.actor.user_uuid
    uow.session.flush()
    action = "restored" if restore else "deleted"
    history.record(uow.session, uow.actor, customer_id=customer.id, entity_type="customer",
                   entity_id=customer.id, entity_version=customer.version, action=action,
                   before=None, after=None)
    if restore:
        _customer_event(uow, "customer.restored", customer)
    else:
        _customer_event(uow, "customer.deleted", customer, s.CustomerDeletedSchema())


def delete_customer(uow: UnitOfWork, customer_id) -> dict:
    return _move_to_trash(uow, customer_id, restore=False)


def restore_customer(uow: UnitOfWork, customer_id) -> dict:
    return _move_to_trash(uow, customer_id, restore=True)


def customer_history(uow: UnitOfWork, customer_id, query_args) -> dict:
    args = load(s.PageQuerySchema, query_args)
    customer = uow.session.scalars(
        access.visible_customers(
            uow.actor, sa.select(Customer).where(Customer.id == as_uuid(customer_id, "customer"))
        )
    ).first()
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.")
    query = (
        sa.select(FieldChange)
        .where(FieldChange.customer_id == customer.id)
        .order_by(FieldChange.changed_at.desc(), FieldChange.entity_version.desc(),
                  FieldChange.field)
    )
    return paginate(uow.session, query, args, dump=change_out.dump)


# -- contacts --------------------------------------------------------------------------------
def _customer_ref(customer: Customer) -> dict:
    return {
        "customer_name": customer.name,
        "owner_id": str(customer.owner_id) if customer.owner_id else None,
        "team_id": str(customer.team_id) if customer.team_id else None,
    }


def _child(uow: UnitOfWork, model, child_id, label: str):
    child = found(uow.session, model, child_id, label,
                  lambda row: getattr(row, "deleted_at", None) is None)
    # Visible only through a visible, live customer.
    try:
        customer = _customer(uow, child.customer_id)
    except NotFound:
        raise NotFound(f"No {label} with id {child_id}.") from None
    return child, customer


def _child_changed(uow, customer, entity, label, action, before, after, event_type, dump):
    history.record(uow.session, uow.actor, customer_id=customer.id, entity_type=label,
                   entity_id=entity.id, entity_version=entity.version, action=action,
                   before=before, after=after)
    uow.emit(event_type, entity.id, entity.version, {**dump(entity), **_customer_ref(customer)})


def _apply_contact_fields(uow: UnitOfWork, customer: Customer, contact: Contact,
                          data: dict) -> None:
    for field, value in data.items():
        if field not in ("version", "is_primary"):
            setattr(contact, field, _stripped(value))
    for field, value in _contact_keys(contact.phone, contact.email).items():
        setattr(contact, field, value)
    if data.get("is_primary") and not contact.is_primary:
        _step_down_primary(uow, customer, contact)
    if "is_primary" in data:
        contact.is_primary = data["is_primary"]


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _contact_keys(phone: str | None, email: str | None) -> dict:
    """The forms of a contact's phone and email that duplicates are found by."""
    return {"phone_normalized": normalize.phone(phone), "email_normalized": normalize.email(email)}


def _step_down_primary(uow: UnitOfWork, customer: Customer, contact: Contact) -> None:
    """One primary contact per customer (a unique index holds it): the current one steps
    down, written before ``contact`` becomes primary."""
    with uow.session.no_autoflush:
        others = uow.session.scalars(sa.select(Contact).where(
            Contact.customer_id == contact.customer_id,
            Contact.id != contact.id,
            Contact.is_primary.is_(True),
            Contact.deleted_at.is_(None),
        )).all()
    for other in others:
        before = contact_out.dump(other)
        other.is_primary = False
        uow.session.flush()
        _child_changed(uow, customer, other, "contact", "updated", before,
                       contact_out.dump(other), "contact.updated", contact_out.dump)


def list_contacts(uow: UnitOfWork, customer_id, query_args) -> dict:
    args = load(s.PageQuerySchema, {"sort": "name", **(query_args or {})})
    customer = _customer(uow, customer_id)
    query = (
        sa.select(Contact)
        .where(Contact.customer_id == customer.id, Contact.deleted_at.is_(None))
        .order_by(Contact.is_primary.desc(), *order_by(Contact, args["sort"], s.CONTACT_SORT_FIELDS))
    )
    return paginate(uow.session, query, args, dump=contact_out.dump)


def create_contact(uow: UnitOfWork, customer_id, payload) -> dict:
    access.require_write(uow.actor)
    data = load(s.ContactCreateSchema, payload)
    contact = _new_contact(uow, _customer(uow, customer_id), data)
    uow.commit()
    return contact_out.dump(contact)


def _new_contact(uow: UnitOfWork, customer: Customer, data: dict) -> Contact:
    """A contact created, recorded and announced (not committed)."""
    contact = Contact(id=new_id(), customer_id=customer.id)
    uow.session.add(contact)
    _apply_contact_fields(uow, customer, contact, data)
    uow.session.flush()
    after = contact_out.dump(contact)
    _child_changed(uow, customer, contact, "contact", "created", None, after,
                   "contact.created", contact_out.dump)
    return contact


def get_contact(uow: UnitOfWork, contact_id) -> dict:
    contact, _ = _child(uow, Contact, contact_id, "contact")
    return contact_out.dump(contact)


def update_contact(uow: UnitOfWork, contact_id, payload) -> dict:
    access.require_write(uow.actor)
    data = load(s.ContactUpdateSchema, payload)
    contact, customer = _child(uow, Contact, contact_id, "contact")
    change = update(uow, contact, data["version"], contact_out.dump,
                    lambda: _apply_contact_fields(uow, customer, contact, data))
    if change is None:
        return contact_out.dump(contact)
    _child_changed(uow, customer, contact, "contact", "updated", change.before, change.after,
                   "contact.updated", contact_out.dump)
    uow.commit()
    return change.after


def delete_contact(uow: UnitOfWork, contact_id) -> None:
    access.require_write(uow.actor)
    contact, customer = _child(uow, Contact, contact_id, "contact")
    contact.deleted_at = utcnow()
    uow.session.flush()
    _child_changed(uow, customer, contact, "contact", "deleted", None, None,
                   "contact.deleted", contact_out.dump)
    uow.commit()


# -- activities ------------------------------------------------------------------------------
def list_activities(uow: UnitOfWork, customer_id, query_args) -> dict:
    args = load(s.ActivityListQuerySchema, query_args)
    customer = _customer(uow, customer_id)
    query = sa.select(Activity).where(Activity.customer_id == customer.id).order_by(
        *order_by(Activity, args["sort"], s.ACTIVITY_SORT_FIELDS)
    )
    return paginate(uow.session, query, args, dump=activity_out.dump)


def log_activity(uow: UnitOfWork, customer_id, payload) -> dict:
    access.require_write(uow.actor)
    data = load(s.ActivityCreateSchema, payload)
    customer = _customer(uow, customer_id)
    activity = Activity(
        customer_id=customer.id,
        user_id=uow.actor.user_uuid,
        occurred_at=data.pop("occurred_at", None) or utcnow(),
        **data,
    )
    _check_follow_up(activity)
    uow.session.add(activity)
    uow.session.flush()
    after = activity_out.dump(activity)
    _child_changed(uow, customer, activity, "activity", "created", None, after,
                   "activity.logged", activity_out.dump)
    uow.commit()
    return after


def _check_follow_up(activity: Activity) -> None:
    if activity.next_follow_up_at and activity.next_follow_up_at <= activity.occurred_at:
        raise ValidationError(
            "Invalid input.",
            {"next_follow_up_at": ["Must be later than occurred_at."]},
        )


def get_activity(uow: UnitOfWork, activity_id) -> dict:
    activity, _ = _child(uow, Activity, activity_id, "activity")
    return activity_out.dump(activity)


def update_activity(uow: UnitOfWork, activity_id, payload) -> dict:
    access.require_write(uow.actor)
    data = load(s.ActivityUpdateSchema, payload)
    activity, customer = _child(uow, Activity, activity_id, "activity")

    def apply():
        for field, value in data.items():
            if field != "version":
                setattr(activity, field, value)
        _check_follow_up(activity)

    change = update(uow, activity, data["version"], activity_out.dump, apply)
    if change is None:
        return activity_out.dump(activity)
    _child_changed(uow, customer, activity, "activity", "updated", change.before, change.after,
                   "activity.updated", activity_out.dump)
    uow.commit()
    return change.after


# -- snapshots (the reports' rebuild) -------------------------------------------------------
SNAPSHOT_KINDS = {
    "customer": (Customer, customer_out.dump),
    "contact": (Contact, lambda contact: {
        **contact_out.dump(contact),
        "deleted_at": contact.deleted_at.isoformat() if contact.deleted_at else None}),
    "activity": (Activity, activity_out.dump),
}


def snapshot(uow: UnitOfWork, kind, after, limit) -> dict:
    """A page of every customer, contact or activity, trashed ones included (by id)."""
    return snapshots.page(uow.session, uow.actor, SNAPSHOT_KINDS, kind, after, limit)
