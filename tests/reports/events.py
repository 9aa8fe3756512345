"""Events as the owners publish them, for driving the read model in tests: each builder keeps
the entity's state and version, so a test writes the story and gets the envelopes."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

DEFAULT_STAGES = [("qualification", "Qualification", 10), ("needs_analysis", "Needs analysis", 25),
                  ("proposal", "Proposal", 50), ("negotiation", "Negotiation", 75),
                  ("won", "Won", 100), ("lost", "Lost", 0)]
PROBABILITY = {key: probability for key, _, probability in DEFAULT_STAGES}
_clock = itertools.count()


def envelope(source, event_type, data, version, occurred_at=None):
    return {"id": str(uuid.uuid4()), "type": event_type, "schema_version": 1,
            "occurred_at": (occurred_at or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
                            + dt.timedelta(seconds=next(_clock))).isoformat(),
            "source": source, "actor": {"user_id": None, "role": "system", "request_id": None},
            "entity_id": str(data.get("id", "pipeline")), "entity_version": version,
            "data": data}


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat()


def pipeline(version=1, stages=DEFAULT_STAGES):
    return envelope("sales", "pipeline.updated", {"stages": [
        {"key": key, "name": name, "probability": probability}
        for key, name, probability in stages], "version": version}, version)


def user(user_id, name, team_id=None, role="sales", version=1):
    return envelope("gateway", "user.created" if version == 1 else "user.updated", {
        "id": str(user_id), "username": name.lower(), "display_name": name, "role": role,
        "team_id": str(team_id) if team_id else None, "active": True, "version": version},
        version)


def team(team_id, name, version=1):
    return envelope("gateway", "team.created", {"id": str(team_id), "name": name,
                                                "version": version}, version)


def product(product_id, name, version=1):
    return envelope("sales", "product.created", {"id": str(product_id), "sku": name.upper(),
                                                 "name": name, "category": None,
                                                 "version": version}, version)


class Entity:
    """An entity's state and version; each ``event`` bumps the version."""

    source = ""
    state: dict

    @property
    def id(self):
        return self.state["id"]

    def event(self, event_type, **changes):
        self.state.update(changes)
        self.state["version"] += 1
        return envelope(self.source, event_type, dict(self.state), self.state["version"])


class Customer(Entity):
    source = "customers"

    def __init__(self, owner_id, team_id, created_at, **fields):
        self.state = {"id": str(uuid.uuid4()), "name": "Customer", "type": "company",
                      "industry": None, "country": "China", "province": None, "city": None,
                      "tier": None, "status": "active", "owner_id": str(owner_id),
                      "team_id": str(team_id) if team_id else None, "deleted_at": None,
                      "created_at": iso(created_at), "version": 0, **fields}

    def created(self):
        return self.event("customer.created")

    def deleted(self, when):
        return self.event("customer.deleted", deleted_at=iso(when))

    def restored(self):
        return self.event("customer.restored", deleted_at=None)


class Lead(Entity):
    """A lead as ``lead.*`` events carry it: country, province and city top-level, as a
    customer's."""

    source = "sales"

    def __init__(self, owner_id, team_id, created_at, **fields):
        self.state = {"id": str(uuid.uuid4()), "name": "Lead", "company": None, "phone": None,
                      "email": None, "source": None, "country": None, "province": None,
                      "city": None, "status": "new", "notes": None, "owner_id": str(owner_id),
                      "team_id": str(team_id) if team_id else None, "customer_id": None,
                      "contact_id": None, "deal_id": None, "converted_at": None,
                      "created_by": str(owner_id), "created_at": iso(created_at),
                      "updated_at": iso(created_at), "version": 0, "previous_owner_id": None,
                      **fields}

    def created(self):
        return self.event("lead.created")

    def converted(self, when):
        return self.event("lead.converted", status="converted", converted_at=iso(when),
                          customer_id=str(uuid.uuid4()), contact_id=str(uuid.uuid4()),
                          deal_id=str(uuid.uuid4()))


def activity(customer, user_id, kind, occurred_at, deal_id=None, version=1):
    data = {"id": str(uuid.uuid4()), "customer_id": customer.id, "type": kind,
            "content": "x", "occurred_at": iso(occurred_at), "next_follow_up_at": None,
            "deal_id": str(deal_id) if deal_id else None, "user_id": str(user_id),
            "version": version, "customer_name": customer.state["name"],
            "owner_id": customer.state["owner_id"], "team_id": customer.state["team_id"]}
    return envelope("customers", "activity.logged", data, version)


def contact(customer, name, phone, primary=True):
    return envelope("customers", "contact.created", {
        "id": str(uuid.uuid4()), "customer_id": customer.id, "name": name, "title": None,
        "phone": phone, "email": None, "is_primary": primary, "version": 1}, 1)


def line(product_id, quantity, unit_price, discount="0"):
    quantity, unit_price, discount = Decimal(quantity), Decimal(unit_price), Decimal(discount)
    subtotal = (quantity * unit_price).quantize(Decimal("0.01"))
    amount = subtotal - (subtotal * discount).quantize(Decimal("0.01"))
    return {"product_id": str(product_id), "quantity": str(quantity),
            "unit_price": str(unit_price), "discount": str(discount), "amount": str(amount)}


class Deal(Entity):
    source = "sales"

    def __init__(self, customer, owner_id, team_id, created_at, amount="0.00", currency="CNY",
                 stage="qualification", lines=(), expected_close_date=None):
        self.state = {"id": str(uuid.uuid4()), "customer_id": customer.id, "title": "Deal",
                      "amount": str(amount), "currency": currency, "stage": stage,
                      "probability": PROBABILITY[stage], "status": "open",
                      "expected_close_date": expected_close_date,
                      "owner_id": str(owner_id), "team_id": str(team_id) if team_id else None,
                      "lost_reason": None, "closed_at": None, "lines": list(lines),
                      "created_at": iso(created_at), "version": 0, "from_stage": None}
        if lines:
            self.state["amount"] = str(sum(Decimal(item["amount"]) for item in lines))

    def created(self):
        return self.event("deal.created")

    def move(self, stage, when):
        status = stage if stage in ("won", "lost") else "open"
        kind = {"won": "deal.won", "lost": "deal.lost"}.get(stage, "deal.stage_changed")
        return self.event(kind, from_stage=self.state["stage"], stage=stage,
                          probability=PROBABILITY[stage], status=status,
                          closed_at=iso(when) if status != "open" else None)

    def update(self, **changes):
        if "lines" in changes:
            changes["amount"] = str(sum(Decimal(item["amount"]) for item in changes["lines"]))
        return self.event("deal.updated", from_stage=None, **changes)
