"""Leads: capture with a duplicate check (against leads here and customers, asked of the
customers service), assignment by the team's rule, and conversion into a customer, a contact
and a deal in one step, at most once."""
from __future__ import annotations

import sqlalchemy as sa

from common.db import utcnow
from common import normalize
from common.errors import Duplicate, Forbidden, PreconditionFailed, ValidationError
from common.listing import order_by, paginate, where_equal
from common.placement import place
from common.records import optional_uuid, update, visible
from common.uow import UnitOfWork
from common.validation import load
from services.sales import access, assignment, deals
from services.sales import schemas as s
from services.sales.events import emit_lead
from services.sales.models import Lead

lead_out = s.LeadSchema()
duplicate_out = s.DuplicateLeadSchema()
REGION_FIELDS = ("country", "province", "city")


def conversion_key(lead_id) -> str:
    """The idempotency key of a lead's conversion: a retry finds the customer made before."""
    return f"sales.lead-conversion:{lead_id}"


# -- owner and team --------------------------------------------------------------------------
def _placement(uow: UnitOfWork, owner_id, team_id, current_owner=None):
    """``(owner_id, team_id)`` by the placement rule; an owner of ``None`` with a team means
    "by the team's assignment rule"."""
    return place(uow, owner_id, team_id, "leads", current_owner=current_owner,
                 by_team_rule=True)


def _place(uow: UnitOfWork, lead: Lead, owner_id, team_id) -> None:
    """Set owner and team; with a team and no owner, the team's assignment rule chooses."""
    lead.owner_id, lead.team_id = owner_id, team_id
    if owner_id is None and team_id is not None:
        lead.owner_id = assignment.choose_owner(uow, lead)


def _announce_owner(uow: UnitOfWork, lead: Lead, previous_owner_id) -> None:
    """``lead.assigned`` tells a new owner who did not pick the lead up themselves."""
    if lead.owner_id is not None and str(lead.owner_id) != str(uow.actor.user_id):
        emit_lead(uow, "lead.assigned", lead, previous_owner_id=previous_owner_id)


def _apply_fields(lead: Lead, data: dict) -> None:
    for field, value in data.items():
        if field in REGION_FIELDS:  # top-level, as on a customer; blank is no place
            setattr(lead, field, (value or "").strip() or None)
        elif field not in ("version", "owner_id", "team_id"):
            setattr(lead, field, value.strip() if isinstance(value, str) else value)
    lead.company_key = normalize.name_key(lead.company)
    lead.phone_normalized = normalize.phone(lead.phone)
    lead.email_normalized = normalize.email(lead.email)


# A lead is compared by its company (a person's name alone is too common to call anyone a
# duplicate), email and phone, by the rules customers are compared by (``common.normalize``).
KEYS = (("company", "company_key"), ("email", "email_normalized"), ("phone", "phone_normalized"))
REFUSED = ("Leads or customers you may see have the same company, email or phone; see "
           "matches, or send allow_duplicate: true to create it all the same.")


def similar_leads(uow: UnitOfWork, lead: Lead) -> list[tuple[Lead, list[str]]]:
    """Leads the caller may see with the same company, email or phone as ``lead`` (not yet
    stored: of :func:`new_lead`), oldest first, each with what matched."""
    wanted = [(field, column, getattr(lead, column)) for field, column in KEYS
              if getattr(lead, column)]
    if not wanted:
        return []
    query = visible(uow.actor, sa.select(Lead), Lead).where(
        sa.or_(*[getattr(Lead, column) == value for _, column, value in wanted])
    ).order_by(Lead.created_at, Lead.id).limit(20)
    return [(other, [field for field, column, value in wanted if getattr(other, column) == value])
            for other in uow.session.scalars(query)]


def customer_query(company, email, phone) -> dict:
    """What the customers service is asked (``find_duplicates``) of a lead's company, email
    and phone: the customers it would duplicate; ``{}`` when it has none of them."""
    return {field: value for field, value in (
        ("name", company), ("email", email), ("phone", phone)) if value}


def _refuse_duplicates(customers, lead: Lead, similar) -> None:
    """409 ``duplicate`` when leads (``similar``) or customers the caller may see (asked of
    the customers service) match ``lead``: each match with the lead's fields that matched."""
    query = customer_query(lead.company, lead.email, lead.phone)
    found = customers.find_duplicates(query)["items"] if query else []
    matches = [{"lead": lead_out.dump(other), "matched": matched} for other, matched in similar]
    matches += [{"customer": match["customer"],
                 "matched": ["company" if field == "name" else field for field in match["matched"]]}
                for match in found]
    if matches:
        raise Duplicate(REFUSED, matches=matches)


def placement(uow: UnitOfWork, payload: dict):
    """``(owner_id, team_id)`` of a new lead of ``payload`` (a create payload, valid) by the
    placement rule, as :func:`create_lead` places it (an owner of ``None`` with a team: the
    team's assignment rule chooses when it is stored); refused where the caller may not."""
    return _placement(uow, payload.get("owner_id"), payload.get("team_id"))


def new_lead(uow: UnitOfWork, payload: dict) -> Lead:
    """A lead of ``payload`` (a create payload, valid), not stored yet: its duplicate keys
    made, so :func:`similar_leads` can compare it, and :func:`add_lead` store it."""
    lead = Lead(created_by=uow.actor.user_uuid)
    _apply_fields(lead, {field: value for field, value in payload.items()
                         if field != "allow_duplicate"})
    return lead


def add_lead(uow: UnitOfWork, lead: Lead, owner_id, team_id) -> None:
    """Store ``lead`` (of :func:`new_lead`) with the owner and team of :func:`placement`,
    and announce it: what every lead's capture does once its duplicates are dealt with."""
    _place(uow, lead, owner_id, team_id)
    uow.session.add(lead)
    uow.session.flush()
    emit_lead(uow, "lead.created", lead)
    _announce_owner(uow, lead, None)


# -- use cases -------------------------------------------------------------------------------
def create_lead(uow: UnitOfWork, customers, payload) -> dict:
    """A new lead; one that matches leads or customers the caller may see is refused (409
    ``duplicate``) unless the payload says ``allow_duplicate``, and then answered with the
    matching leads as ``duplicates``."""
    data = load(s.LeadCreateSchema, payload)
    owner_id, team_id = placement(uow, data)
    lead = new_lead(uow, data)
    similar = similar_leads(uow, lead)
    if not data["allow_duplicate"]:
        _refuse_duplicates(customers, lead, similar)
    add_lead(uow, lead, owner_id, team_id)
    result = {**lead_out.dump(lead), "duplicates": [
        {**duplicate_out.dump(other), "matched_on": matched} for other, matched in similar]}
    uow.commit()
    return result


def get_lead(uow: UnitOfWork, lead_id) -> dict:
    return lead_out.dump(access.find(uow, Lead, lead_id, "lead"))


def list_leads(uow: UnitOfWork, query_args) -> dict:
    args = load(s.LeadListQuerySchema, query_args)
    query = leads_query(uow, args).order_by(*order_by(Lead, args["sort"], s.LEAD_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=lead_out.dump)


def leads_query(uow: UnitOfWork, args: dict):
    """The leads the caller may see that match the list filters ``args`` (loaded), in no
    order: what the list pages and the export writes."""
    query = visible(uow.actor, sa.select(Lead), Lead)
    query = where_equal(query, Lead, args,
                        ("status", "owner_id", "team_id", "source", *REGION_FIELDS))
    if "q" in args:
        needle = args["q"].strip().casefold()
        conditions = [sa.func.lower(Lead.name).contains(needle, autoescape=True),
                      sa.func.lower(Lead.company).contains(needle, autoescape=True),
                      Lead.email_normalized.contains(needle, autoescape=True)]
        phone = normalize.phone_in_search(needle)
        if phone:
            conditions.append(Lead.phone_normalized.contains(phone, autoescape=True))
        query = query.where(sa.or_(*conditions))
    return query


def update_lead(uow: UnitOfWork, lead_id, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.LeadUpdateSchema, payload)
    lead = access.find(uow, Lead, lead_id, "lead")
    previous_owner = lead.owner_id

    def apply():
        if lead.status == "converted":
            raise PreconditionFailed("A converted lead cannot be changed.")
        placed = "owner_id" in data or "team_id" in data
        if placed:  # refused before any field changes: an import's failed row writes nothing
            owner_id, team_id = _placement(uow, data.get("owner_id", lead.owner_id),
                                           data.get("team_id", lead.team_id), previous_owner)
        _apply_fields(lead, data)
        if placed:
            _place(uow, lead, owner_id, team_id)

    change = update(uow, lead, data["version"], lead_out.dump, apply)
    if change is None:
        return lead_out.dump(lead)
    emit_lead(uow, "lead.updated", lead)
    if lead.owner_id != previous_owner:
        _announce_owner(uow, lead, previous_owner)
    uow.commit()
    return change.after


def _customer_payload(lead: Lead) -> dict:
    customer = {
        "name": lead.company or lead.name,
        "type": "company" if lead.company else "person",
        "source": lead.source,
        "owner_id": str(lead.owner_id) if lead.owner_id else None,
        "team_id": str(lead.team_id) if lead.team_id else None,
        **{field: getattr(lead, field) for field in REGION_FIELDS},
    }
    contact = {"name": lead.name, "phone": lead.phone, "email": lead.email, "is_primary": True}
    return {"customer": customer, "contact": contact}


def _check_heirs(uow: UnitOfWork, lead: Lead) -> None:
    """The customer and deal go to the lead's owner and team, so the caller must be able to
    place records with them now, by the rule the customers service applies too: an owner who
    left or moved to another team since is replaced on the lead first."""
    try:
        place(uow, lead.owner_id, lead.team_id, "customers")
    except (Forbidden, ValidationError):
        raise PreconditionFailed(
            "The lead's owner can no longer be given its customer (inactive, or in another "
            "team now); reassign the lead first.") from None


def convert_lead(uow: UnitOfWork, customers, lead_id, payload) -> dict:
    """Customer and contact (by the customers service, idempotent on the lead's key), then
    the deal and the lead's new status here, in one transaction: a retry after a failure
    anywhere finds the customer made the first time and makes no second one."""
    access.can_write(uow.actor)
    data = load(s.ConvertLeadSchema, payload)["deal"]
    lead = access.find(uow, Lead, lead_id, "lead", lock=True)
    if lead.status == "converted":
        raise PreconditionFailed("The lead is already converted.")
    if lead.status == "disqualified":
        raise PreconditionFailed("A disqualified lead cannot be converted; requalify it first.")
    _check_heirs(uow, lead)
    made = customers.create_customer_with_contact(_customer_payload(lead), conversion_key(lead.id))
    deal = deals.open_deal(
        uow,
        {"title": lead.company or lead.name, **data, "customer_id": optional_uuid(made["customer_id"])},
        owner_id=lead.owner_id, team_id=lead.team_id, lead_id=lead.id,
    )
    lead.status, lead.converted_at = "converted", utcnow()
    lead.customer_id = optional_uuid(made["customer_id"])
    lead.contact_id = optional_uuid(made["contact_id"])
    lead.deal_id = deal.id
    uow.session.flush()
    emit_lead(uow, "lead.converted", lead)
    uow.commit()
    return {"customer_id": made["customer_id"], "contact_id": made["contact_id"],
            "deal_id": str(deal.id)}
