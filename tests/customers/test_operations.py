"""The customers service layer: access, ownership, concurrency, history, search, trash."""
import uuid

import pytest

from common.errors import Conflict, Forbidden, NotFound, ValidationError
from services.customers import operations as op
from tests.customers.conftest import (
    ADMIN, ALEX, EAST, LONER, MARIA, SAM, SARA, WEST, outbox_types,
)


def test_create_writes_the_event_in_the_same_transaction(run):
    customer = run(SAM, op.create_customer, {"name": "  Acme  ", "tags": ["a", "a", "b"]})
    assert customer["name"] == "Acme" and customer["tags"] == ["a", "b"]
    assert outbox_types(run.factory) == ["customer.created"]


def test_a_failed_write_leaves_neither_row_nor_event(run):
    with pytest.raises(ValidationError) as error:
        run(SAM, op.create_customer, {"name": "ok", "tier": "Z"})
    assert error.value.details == {"tier": ["Must be one of: A, B, C."]}
    assert run(SAM, op.list_customers, {})["total"] == 0
    assert outbox_types(run.factory) == []


def test_visibility_rules(run):
    sams = run(SAM, op.create_customer, {"name": "Sam's"})
    run(SARA, op.create_customer, {"name": "Sara's"})
    assert run(SAM, op.list_customers, {})["total"] == 1
    assert run(MARIA, op.list_customers, {})["total"] == 1
    assert run(ALEX, op.list_customers, {})["total"] == 2
    assert run(LONER, op.list_customers, {})["total"] == 0
    with pytest.raises(NotFound):
        run(SARA, op.get_customer, sams["id"])
    with pytest.raises(Forbidden):
        run(ALEX, op.update_customer, sams["id"], {"version": 1, "name": "x"})


def test_ownership_rules(run):
    with pytest.raises(Forbidden):
        run(SAM, op.create_customer, {"name": "x", "owner_id": SARA.user_id})
    with pytest.raises(Forbidden):
        run(MARIA, op.create_customer, {"name": "x", "team_id": WEST})
    assigned = run(MARIA, op.create_customer, {"name": "x", "owner_id": SAM.user_id})
    assert assigned["owner_id"] == SAM.user_id and assigned["team_id"] == EAST


def test_the_placement_rule_holds_whoever_calls(run):
    """The service decides (not the gateway): a manager cannot give a customer to another
    team's rep, an unknown owner is refused, an admin's placement follows the owner's team."""
    with pytest.raises(Forbidden):
        run(MARIA, op.create_customer, {"name": "x", "owner_id": SARA.user_id})
    sams = run(SAM, op.create_customer, {"name": "Sam's"})
    with pytest.raises(Forbidden):
        run(MARIA, op.update_customer, sams["id"], {"version": 1, "owner_id": SARA.user_id})
    with pytest.raises(ValidationError) as unknown:
        run(ADMIN, op.create_customer, {"name": "x", "owner_id": str(uuid.uuid4())})
    assert set(unknown.value.details) == {"owner_id"}
    given = run(ADMIN, op.create_customer, {"name": "x", "owner_id": SARA.user_id})
    assert (given["owner_id"], given["team_id"]) == (SARA.user_id, WEST)
    # a body sent back as read names the current owner again: allowed
    again = run(MARIA, op.update_customer, sams["id"], {"version": 1, "owner_id": SAM.user_id,
                                                         "name": "Sam's again"})
    assert again["owner_id"] == SAM.user_id


def test_stale_version_is_a_conflict_and_changes_nothing(run):
    customer = run(SAM, op.create_customer, {"name": "v"})
    run(SAM, op.update_customer, customer["id"], {"version": 1, "city": "A"})
    with pytest.raises(Conflict) as error:
        run(SAM, op.update_customer, customer["id"], {"version": 1, "city": "B"})
    assert error.value.details == {"current_version": "2"}
    assert run(SAM, op.get_customer, customer["id"])["city"] == "A"


def test_an_update_that_changes_nothing_writes_nothing(run):
    customer = run(SAM, op.create_customer, {"name": "same"})
    again = run(SAM, op.update_customer, customer["id"], {"version": 1, "name": "same"})
    assert again["version"] == 1
    assert outbox_types(run.factory) == ["customer.created"]


def test_search_matches_contacts(run):
    customer = run(SAM, op.create_customer, {"name": "Globex"})
    run(SAM, op.create_contact, customer["id"],
        {"name": "Zhang Wei", "phone": "+86 (21) 5555-0100", "email": "Zhang@Globex.com"})
    for needle in ("globex", "zhang wei", "zhang@globex", "2155550100", "5555-0100",
                   "５５５５－０１００"):  # full-width, as a Chinese keyboard types it
        assert run(SAM, op.list_customers, {"q": needle})["total"] == 1, needle
    assert run(SAM, op.list_customers, {"q": "%"})["total"] == 0
    # A name with digits in it is not a phone number: it finds no contact by those digits.
    for needle in ("Order 5555-0100", "a0100", "010", "+86 10", "+44 (0) 7"):
        assert run(SAM, op.list_customers, {"q": needle})["total"] == 0, needle


def test_follow_up_must_be_after_the_activity(run):
    customer = run(SAM, op.create_customer, {"name": "t"})
    with pytest.raises(ValidationError) as error:
        run(SAM, op.log_activity, customer["id"], {
            "type": "call", "content": "x", "occurred_at": "2026-01-02T00:00:00Z",
            "next_follow_up_at": "2026-01-01T00:00:00Z"})
    assert "next_follow_up_at" in error.value.details


def test_trashed_customers_hide_their_contacts(run):
    customer = run(SAM, op.create_customer, {"name": "t"})
    contact = run(SAM, op.create_contact, customer["id"], {"name": "c"})
    run(SAM, op.delete_customer, customer["id"])
    with pytest.raises(NotFound):
        run(SAM, op.get_contact, contact["id"])
    run(SAM, op.restore_customer, customer["id"])
    assert run(SAM, op.get_contact, contact["id"])["name"] == "c"
    assert outbox_types(run.factory) == [
        "customer.created", "contact.created", "customer.deleted", "customer.restored"]


def test_a_tags_only_change_moves_the_version(run):
    customer = run(SAM, op.create_customer, {"name": "tagged"})
    changed = run(SAM, op.update_customer, customer["id"], {"version": 1, "tags": ["a", "b"]})
    assert changed["version"] == 2 and changed["tags"] == ["a", "b"]
    with pytest.raises(Conflict):
        run(SAM, op.update_customer, customer["id"], {"version": 1, "tags": ["c"]})
    assert run(SAM, op.get_customer, customer["id"])["tags"] == ["a", "b"]


def test_a_demoted_primary_contact_is_recorded_and_published(run):
    customer = run(SAM, op.create_customer, {"name": "two contacts"})
    first = run(SAM, op.create_contact, customer["id"], {"name": "First", "is_primary": True})
    run(SAM, op.create_contact, customer["id"], {"name": "Second", "is_primary": True})
    assert run(SAM, op.get_contact, first["id"])["is_primary"] is False
    assert outbox_types(run.factory).count("contact.updated") == 1
    history = run(SAM, op.customer_history, customer["id"], {})["items"]
    assert any(h["entity_id"] == first["id"] and h["field"] == "is_primary" for h in history)


@pytest.mark.parametrize("payload, field", [
    ({"name": "nul\x00byte"}, "name"),
    ({"name": "ok", "custom_fields": {"score": float("nan")}}, "custom_fields.score"),
    ({"name": "ok", "custom_fields": {"score": float("inf")}}, "custom_fields.score"),
])
def test_values_no_database_stores_are_refused(run, payload, field):
    with pytest.raises(ValidationError) as error:
        run(SAM, op.create_customer, payload)
    assert field in error.value.details


def test_dates_far_outside_the_calendar_are_refused(run):
    with pytest.raises(ValidationError) as error:
        run(SAM, op.list_customers, {"created_from": "0001-01-01T00:00:00+01:00"})
    assert "created_from" in error.value.details


def test_a_name_that_grows_when_normalised_still_fits(run):
    customer = run(SAM, op.create_customer, {"name": "ß" * 200})
    assert run(SAM, op.list_customers, {"q": "ss"})["total"] == 1
    assert len(customer["name"]) == 200
