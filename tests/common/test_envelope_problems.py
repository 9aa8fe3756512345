"""``common.events.envelope_problems``: what a consumer refuses of a message before applying
it, the same on every call (one schema instance checks them all)."""
import uuid

from common.events import envelope, envelope_problems


def an_event(**changes) -> dict:
    event = envelope(source="customers", event_type="customer.updated", entity_id=uuid.uuid4(),
                     entity_version=2, data={"id": "c1", "name": "Acme"}, actor=None)
    return {**event, **changes}


def test_an_envelope_passes_and_what_is_wrong_is_named_each_time():
    assert envelope_problems(an_event()) == {}
    assert envelope_problems(["not", "an", "object"]) == {"_schema": ["Not a JSON object."]}
    broken = an_event(id="not-a-uuid", schema_version=0)
    del broken["data"]
    assert set(envelope_problems(broken)) == {"id", "schema_version", "data"}
    assert set(envelope_problems(an_event(occurred_at="2026-12-07T16:00:00"))) == {"occurred_at"}
    assert envelope_problems(an_event()) == {}  # nothing kept from the calls before
