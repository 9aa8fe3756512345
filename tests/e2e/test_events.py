"""Another system bound to customers.events receives each fact with the full envelope."""
import uuid

import pytest

from services.customers.schemas import EVENTS
from tests.support.broker import EventTap, assert_valid_event


@pytest.fixture
def tap(stack):
    tap = EventTap(stack.amqp_uri, "customers")
    yield tap
    tap.close()


def assert_valid(event):
    assert_valid_event(event, EVENTS)


def test_customer_created_reaches_a_bound_consumer(stack, users, tap):
    sam = users["sam"]
    name = f"Evented {uuid.uuid4().hex[:6]}"
    customer = sam.post("/customers", json={"name": name, "tier": "B"}).json()
    event = tap.wait_for(lambda e: e["type"] == "customer.created" and e["entity_id"] == customer["id"])
    assert_valid(event)
    assert event["source"] == "customers" and event["schema_version"] == 1
    assert event["entity_version"] == 1
    assert event["actor"]["user_id"] == sam.me["id"] and event["actor"]["role"] == "sales"
    assert event["actor"]["request_id"]
    assert event["data"]["name"] == name and event["data"]["owner_id"] == sam.me["id"]


def test_every_change_publishes_its_event(stack, users, tap):
    sam = users["sam"]
    customer = sam.post("/customers", json={"name": "Lifecycle"}).json()
    sam.patch(f"/customers/{customer['id']}", json={"version": 1, "tier": "A"})
    contact = sam.post(f"/customers/{customer['id']}/contacts", json={"name": "C"}).json()
    sam.patch(f"/contacts/{contact['id']}", json={"version": 1, "title": "Boss"})
    sam.delete(f"/contacts/{contact['id']}")
    activity = sam.post(f"/customers/{customer['id']}/activities",
                        json={"type": "call", "content": "hi",
                              "next_follow_up_at": "2030-01-01T00:00:00Z"}).json()
    sam.patch(f"/activities/{activity['id']}", json={"version": 1, "next_follow_up_at": None})
    sam.delete(f"/customers/{customer['id']}")
    sam.post(f"/customers/{customer['id']}/restore")

    expected = ["customer.created", "customer.updated", "contact.created", "contact.updated",
                "contact.deleted", "activity.logged", "activity.updated", "customer.deleted",
                "customer.restored"]
    ids = {customer["id"], contact["id"], activity["id"]}
    seen = []
    tap.wait_for(lambda e: e["entity_id"] in ids and seen.append(e) is None
                 and {x["type"] for x in seen} >= set(expected))
    assert sorted(e["type"] for e in seen) == sorted(expected)
    for event in seen:
        assert_valid(event)
    logged = next(e for e in seen if e["type"] == "activity.logged")
    assert logged["data"]["owner_id"] == sam.me["id"]
    assert logged["data"]["customer_id"] == customer["id"]
    assert logged["data"]["next_follow_up_at"] == "2030-01-01T00:00:00+00:00"
