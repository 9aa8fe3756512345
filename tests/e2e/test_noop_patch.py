"""A PATCH that changes nothing answers 200 with the same version, writes nothing and
publishes nothing: for every entity of the API, with only its version, and with a body that
repeats its current values (a client sending back what it read)."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.support.broker import EventTap
from tests.support.http import ok
from tests.support.stack import Client

SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()
LATER = (dt.date.today() + dt.timedelta(days=400)).isoformat()
FAR = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=300)).replace(microsecond=0)
QUIET = 1.0  # seconds without any event on the exchange after the PATCH


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# -- how each entity is made (by whom, through the API) ---------------------------------------
def customer(sam: Client, admin: Client) -> dict:
    return ok(sam.post("/customers", json={"name": unique("No-op"), "tier": "B"}), 201)


def contact(sam, admin):
    parent = customer(sam, admin)
    return ok(sam.post(f"/customers/{parent['id']}/contacts",
                       json={"name": unique("Contact"), "title": "Buyer"}), 201)


def activity(sam, admin):
    parent = customer(sam, admin)
    return ok(sam.post(f"/customers/{parent['id']}/activities",
                       json={"type": "note", "content": "Met at the fair"}), 201)


def lead(sam, admin):
    return ok(sam.post("/leads", json={"name": unique("Lead"), "company": unique("No-op Co"),
                                       "email": f"{uuid.uuid4().hex[:8]}@noop.example"}), 201)


def deal(sam, admin):
    parent = customer(sam, admin)
    return ok(sam.post("/deals", json={"customer_id": parent["id"], "title": unique("Deal"),
                                       "amount": "1200.00", "expected_close_date": SOON}), 201)


def product(sam, admin):
    return ok(admin.post("/products", json={"sku": f"NOOP-{uuid.uuid4().hex[:8]}",
                                            "name": "No-op widget", "list_price": "100.00"}), 201)


def quote(sam, admin):
    widget = product(sam, admin)
    parent = customer(sam, admin)
    lined = ok(sam.post("/deals", json={
        "customer_id": parent["id"], "title": unique("Quoted"),
        "lines": [{"product_id": widget["id"], "quantity": "2", "discount": "0.10"}]}), 201)
    return ok(sam.post(f"/deals/{lined['id']}/quotes",
                       json={"tax_rate": "0.13", "valid_until": SOON}), 201)


def contract(sam, admin):
    parent = customer(sam, admin)
    return ok(sam.post("/contracts", json={"customer_id": parent["id"], "amount": "5000.00",
                                           "start_date": SOON, "end_date": LATER}), 201)


def reminder(sam, admin):
    return ok(sam.post("/reminders", json={"due_at": FAR.isoformat(),
                                           "subject": unique("Call back")}), 201)


def webhook(sam, admin):
    # Inactive: nothing is ever sent to it; a public literal address needs no DNS.
    return ok(admin.post("/webhooks", json={"url": "https://93.184.216.34/noop",
                                            "event_types": ["deal.won"], "active": False}), 201)


def user(sam, admin):
    # An analyst without a team: no team's lead assignment counts them.
    return ok(admin.post("/users", json={"username": f"noop-{uuid.uuid4().hex[:8]}",
                                         "password": "noop-password-1", "role": "analyst",
                                         "display_name": "No-op User"}), 201)


def team(sam, admin):
    return ok(admin.post("/teams", json={"name": unique("No-op team")}), 201)


@dataclass(frozen=True)
class Entity:
    path: str  # the PATCH route, as the OpenAPI document names it (without /api/v1)
    make: Callable[[Client, Client], dict]
    source: str  # the service whose exchange would carry its events
    by: str  # "sam" or "admin": who creates it and patches it
    repeat: tuple[str, ...]  # fields sent again with their current values
    announced: bool = True  # its creation publishes an event about it

    def url(self, record: dict) -> str:
        return self.path.replace(self.path[self.path.index("{"):], record["id"])


ENTITIES = {
    "customer": Entity("/customers/{customer_id}", customer, "customers", "sam",
                       ("name", "tier", "owner_id")),
    "contact": Entity("/contacts/{contact_id}", contact, "customers", "sam", ("name", "title")),
    "activity": Entity("/activities/{activity_id}", activity, "customers", "sam",
                       ("type", "content")),
    "lead": Entity("/leads/{lead_id}", lead, "sales", "sam", ("name", "email", "owner_id")),
    "deal": Entity("/deals/{deal_id}", deal, "sales", "sam",
                   ("title", "amount", "expected_close_date", "owner_id")),
    "product": Entity("/products/{product_id}", product, "sales", "admin", ("name", "list_price")),
    "quote": Entity("/quotes/{quote_id}", quote, "sales", "sam", ("tax_rate", "valid_until")),
    "contract": Entity("/contracts/{contract_id}", contract, "sales", "sam",
                       ("amount", "end_date")),
    "reminder": Entity("/reminders/{reminder_id}", reminder, "notifications", "sam",
                       ("subject", "due_at")),
    "webhook": Entity("/webhooks/{webhook_id}", webhook, "notifications", "admin",
                      ("url", "event_types", "active"), announced=False),
    "user": Entity("/users/{user_id}", user, "gateway", "admin", ("display_name", "role")),
    "team": Entity("/teams/{team_id}", team, "gateway", "admin", ("name", "manager_id")),
}


def about(record_id: str):
    return lambda event: record_id in (event.get("entity_id"), (event.get("data") or {}).get("id"))


def test_every_patch_route_is_covered(stack):
    spec = ok(Client(stack.base_url).get("/openapi.json"))
    patched = {path.removeprefix("/api/v1") for path, operations in spec["paths"].items()
               if "patch" in operations}
    assert patched == {entity.path for entity in ENTITIES.values()}


@pytest.fixture
def made(request, stack, admin, users):
    """The entity named by the test's parameter, created through the API while a queue of
    the test's own is bound to its service's exchange; the creation's events consumed."""
    entity = ENTITIES[request.param]
    client = users["sam"] if entity.by == "sam" else admin
    tap = EventTap(stack.amqp_uri, entity.source)
    record = None
    try:
        record = entity.make(users["sam"], admin)
        if entity.announced:
            tap.wait_for(about(record["id"]))
        tap.drain(quiet_for=0.3)
        yield entity, client, record, tap
    finally:
        if request.param == "webhook" and record is not None:
            admin.delete(entity.url(record))
        tap.close()


@pytest.mark.parametrize("body", ["version-only", "same-values"])
@pytest.mark.parametrize("made", list(ENTITIES), indirect=True)
def test_a_patch_that_changes_nothing_keeps_the_version_and_publishes_nothing(made, body):
    entity, client, record, tap = made
    url = entity.url(record)
    before = ok(client.get(url))
    patch = {"version": before["version"]}
    if body == "same-values":
        patch.update({field: before[field] for field in entity.repeat})

    answer = ok(client.patch(url, json=patch), 200)

    assert answer["version"] == before["version"], answer
    published = [event for event in tap.drain(quiet_for=QUIET) if about(record["id"])(event)]
    assert published == [], f"a no-op PATCH published {[e['type'] for e in published]}"
    assert ok(client.get(url)) == before, "a no-op PATCH wrote to the record"
