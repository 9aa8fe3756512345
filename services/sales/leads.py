"""Leads: capture with a duplicate warning, assignment by the team's rule, and conversion
into a customer, a contact and a deal in one step, at most once."""
from __future__ import annotations

import re

import sqlalchemy as sa

from common.db import utcnow
from common.errors import Forbidden, PreconditionFailed
from common.listing import order_by, paginate
from common.records import check_version, optional_uuid, ownership, visible
from common.uow import UnitOfWork
from common.validation import load
from services.sales import access, assignment, deals, members
from services.sales import schemas as s
from services.sales.events import emit_lead
from services.sales.models import Lead

lead_out = s.LeadSchema()
duplicate_out = s.DuplicateLeadSchema()
REGION_FIELDS = ("country", "province", "city")


def normalize_phone(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def conversion_key(lead_id) -> str:
    """The idempotency key of a lead's conversion: a retry finds the customer made before."""
    return f"sales.lead-conversion:{lead_id}"


# -- owner and team --------------------------------------------------------------------------
def _placement(uow: UnitOfWork, owner_id, team_id):
    """``(owner_id, team_id)`` for a write; an owner of ``None`` with a team means "by the
    team's rule". A rep keeps what they create; a manager places leads in their team."""
    actor = uow.actor
    access.can_write(actor)
    owner_id, team_id = optional_uuid(owner_id), optional_uuid(team_id)
    if actor.role == "sales" or (owner_id is None and team_id is None):
        return ownership(actor, owner_id, team_id, "leads")
    if actor.role == "manager":
        my_team = optional_uuid(actor.team_id)
        if team_id not in (None, my_team) or members.team_of(uow.session, owner_id) not in (
                None, my_team):
            raise Forbidden("You may only assign leads to your own team.")
        return owner_id, my_team
    if owner_id is not None and team_id is None:
        team_id = members.team_of(uow.session, owner_id)
    return owner_id, team_id


def _place(uow: UnitOfWork, lead: Lead, owner_id, team_id) -> bool:
    """Set owner and team (by the rule when no owner is named); True when the owner is new."""
    previous = lead.owner_id
    lead.owner_id, lead.team_id = owner_id, team_id
    if owner_id is None and team_id is not None:
        lead.owner_id = assignment.choose_owner(uow, lead)
    return lead.owner_id != previous


def _announce_owner(uow: UnitOfWork, lead: Lead, previous_owner_id) -> None:
    """``lead.assigned`` tells a new owner who did not pick the lead up themselves."""
    if lead.owner_id is not None and str(lead.owner_id) != str(uow.actor.user_id):
        emit_lead(uow, "lead.assigned", lead, previous_owner_id=previous_owner_id)


def _apply_fields(lead: Lead, data: dict) -> None:
    for field, value in data.items():
        if field == "region":
            for key in REGION_FIELDS:
                if key in value:
                    setattr(lead, key, value[key].strip() if value[key] else None)
        elif field not in ("version", "owner_id", "team_id"):
            setattr(lead, field, value.strip() if isinstance(value, str) else value)
    lead.phone_normalized = normalize_phone(lead.phone)
    lead.email_normalized = normalize_email(lead.email)


def _duplicates(uow: UnitOfWork, lead: Lead) -> list[dict]:
    """Leads the caller may see with the same email or phone: a warning, never a refusal."""
    matches = []
    if lead.email_normalized:
        matches.append(("email", Lead.email_normalized == lead.email_normalized))
    if lead.phone_normalized:
        matches.append(("phone", Lead.phone_normalized == lead.phone_normalized))
    if not matches:
        return []
    query = visible(uow.actor, sa.select(Lead), Lead).where(
        Lead.id != lead.id, sa.or_(*[condition for _, condition in matches])
    ).order_by(Lead.created_at).limit(20)
    found = []
    for other in uow.session.scalars(query):
        on = [name for name, _ in matches
              if getattr(other, f"{name}_normalized") == getattr(lead, f"{name}_normalized")]
        found.append({**duplicate_out.dump(other), "matched_on": on})
    return found


# -- use cases -------------------------------------------------------------------------------
def create_lead(uow: UnitOfWork, payload) -> dict:
    data = load(s.LeadCreateSchema(), payload)
    owner_id, team_id = _placement(uow, data.get("owner_id"), data.get("team_id"))
    lead = Lead(created_by=access.actor_id(uow.actor))
    _apply_fields(lead, data)
    _place(uow, lead, owner_id, team_id)
    uow.session.add(lead)
    uow.session.flush()
    emit_lead(uow, "lead.created", lead)
    _announce_owner(uow, lead, None)
    result = {**lead_out.dump(lead), "duplicates": _duplicates(uow, lead)}
    uow.commit()
    return result


def get_lead(uow: UnitOfWork, lead_id) -> dict:
    return lead_out.dump(access.find(uow, Lead, lead_id, "lead"))


def list_leads(uow: UnitOfWork, query_args) -> dict:
    args = load(s.LeadListQuerySchema(), query_args)
    query = visible(uow.actor, sa.select(Lead), Lead)
    for field in ("status", "owner_id", "team_id", "source", *REGION_FIELDS):
        if field in args:
            query = query.where(getattr(Lead, field) == args[field])
    if "q" in args:
        needle = args["q"].strip().casefold()
        conditions = [sa.func.lower(Lead.name).contains(needle, autoescape=True),
                      sa.func.lower(Lead.company).contains(needle, autoescape=True),
                      Lead.email_normalized.contains(needle, autoescape=True)]
        if normalize_phone(needle):
            conditions.append(Lead.phone_normalized.contains(normalize_phone(needle),
                                                             autoescape=True))
        query = query.where(sa.or_(*conditions))
    query = query.order_by(*order_by(Lead, args["sort"], s.LEAD_SORT_FIELDS))
    return paginate(uow.session, query, page=args["page"], per_page=args["per_page"],
                    dump=lead_out.dump)


def update_lead(uow: UnitOfWork, lead_id, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.LeadUpdateSchema(), payload)
    lead = access.find(uow, Lead, lead_id, "lead")
    check_version(lead, data["version"])
    if lead.status == "converted":
        raise PreconditionFailed("A converted lead cannot be changed.")
    before = lead_out.dump(lead)
    previous_owner = lead.owner_id
    _apply_fields(lead, data)
    reassigned = False
    if "owner_id" in data or "team_id" in data:
        owner_id, team_id = _placement(uow, data.get("owner_id", lead.owner_id),
                                       data.get("team_id", lead.team_id))
        reassigned = _place(uow, lead, owner_id, team_id)
    uow.session.flush()
    after = lead_out.dump(lead)
    if after == before:
        return before
    emit_lead(uow, "lead.updated", lead)
    if reassigned:
        _announce_owner(uow, lead, previous_owner)
    uow.commit()
    return after


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


def convert_lead(uow: UnitOfWork, customers, lead_id, payload) -> dict:
    """Customer and contact (by the customers service, idempotent on the lead's key), then
    the deal and the lead's new status here, in one transaction: a retry after a failure
    anywhere finds the customer made the first time and makes no second one."""
    access.can_write(uow.actor)
    data = load(s.ConvertLeadSchema(), payload)["deal"]
    lead = access.find(uow, Lead, lead_id, "lead", lock=True)
    if lead.status == "converted":
        raise PreconditionFailed("The lead is already converted.")
    if lead.status == "disqualified":
        raise PreconditionFailed("A disqualified lead cannot be converted; requalify it first.")
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
