"""One placement rule, applied by each service to its own records, whoever calls.

The gateway checks no owner: the customers and sales services decide who may own a record and
in which team, so a caller on the broker (another service, a script) that skips the gateway
meets the same refusals as a client of the API. Maria manages East (with Sam); Sara sells in
West. Over RPC the caller is named by the context data, as the gateway names it.
"""
import types
import uuid

import pytest

from tests.support.http import ok, refused
from tests.support.rpc import actor_of, outcome, refusal, rpc_as
from tests.support.stack import wait_until

LEARN_TIMEOUT = 30  # how long a service may take to learn a user change from the gateway's events


def name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def people(admin, users):
    sam, sara, maria = users["sam"].me, users["sara"].me, users["maria"].me
    assert sam["team_id"] == maria["team_id"] != sara["team_id"]
    return types.SimpleNamespace(
        sam=sam["id"], sara=sara["id"], maria=maria["id"],
        east=sam["team_id"], west=sara["team_id"],
        maria_actor=actor_of(maria), admin_actor=actor_of(ok(admin.get("/me"))),
    )


@pytest.fixture(scope="module")
def as_maria(stack, people):
    with rpc_as(stack.amqp_uri, people.maria_actor) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def as_admin(stack, people):
    with rpc_as(stack.amqp_uri, people.admin_actor) as cluster:
        yield cluster


@pytest.fixture(scope="module", autouse=True)
def directory_learnt(as_admin, people):
    """Each service learns the demo users from the gateway's events a moment after the stack
    starts: wait until both place records with Sam and with Sara."""
    for owner in (people.sam, people.sara):
        wait_until(lambda: as_admin.customers.create_customer(
            {"name": name("Warm-up"), "owner_id": owner}), timeout=LEARN_TIMEOUT,
            interval=0.3, message=f"customers knows user {owner}")
        wait_until(lambda: as_admin.sales.create_lead(
            {"name": name("Warm-up"), "owner_id": owner}), timeout=LEARN_TIMEOUT,
            interval=0.3, message=f"sales knows user {owner}")


@pytest.fixture(scope="module")
def sams_customer(users):
    """A customer Maria may see (Sam's, in her team)."""
    return ok(users["sam"].post("/customers", json={"name": name("Sam's")}), 201)


def assert_forbidden(call, *args):
    kind, details = refusal(call, *args)
    assert kind == "Forbidden", (kind, details)


def assert_owner_refused(call, *args):
    kind, details = refusal(call, *args)
    assert kind == "ValidationError" and "owner_id" in details, (kind, details)


# -- a manager places records only in their own team, over RPC -------------------------------
def test_customers_refuse_a_manager_placing_outside_her_team(as_maria, people):
    customers = as_maria.customers
    assert_forbidden(customers.create_customer, {"name": name("Gift"), "owner_id": people.sara})
    assert_forbidden(customers.create_customer, {"name": name("Gift"), "team_id": people.west})


def test_customers_refuse_a_manager_giving_a_customer_to_another_team(as_maria, people,
                                                                       sams_customer):
    customers = as_maria.customers
    current = customers.get_customer(sams_customer["id"])
    assert_forbidden(customers.update_customer, current["id"],
                     {"version": current["version"], "owner_id": people.sara})
    assert_forbidden(customers.update_customer, current["id"],
                     {"version": current["version"], "team_id": people.west})
    after = customers.get_customer(current["id"])
    assert (after["owner_id"], after["team_id"], after["version"]) == (
        people.sam, people.east, current["version"])


def test_sales_refuses_a_manager_placing_a_lead_outside_her_team(as_maria, people):
    sales = as_maria.sales
    assert_forbidden(sales.create_lead, {"name": name("Lead"), "owner_id": people.sara})
    assert_forbidden(sales.create_lead, {"name": name("Lead"), "team_id": people.west})
    lead = sales.create_lead({"name": name("Lead"), "owner_id": people.sam})
    assert_forbidden(sales.update_lead, lead["id"],
                     {"version": lead["version"], "owner_id": people.sara})
    assert_forbidden(sales.update_lead, lead["id"],
                     {"version": lead["version"], "team_id": people.west})
    after = sales.get_lead(lead["id"])
    assert (after["owner_id"], after["team_id"], after["version"]) == (
        people.sam, people.east, lead["version"])


def test_sales_refuses_a_manager_placing_a_deal_outside_her_team(as_maria, people,
                                                                 sams_customer):
    sales = as_maria.sales
    body = {"customer_id": sams_customer["id"], "title": name("Deal")}
    assert_forbidden(sales.create_deal, {**body, "owner_id": people.sara})
    assert_forbidden(sales.create_deal, {**body, "team_id": people.west})
    deal = sales.create_deal({**body, "owner_id": people.sam})
    assert_forbidden(sales.update_deal, deal["id"],
                     {"version": deal["version"], "owner_id": people.sara})
    after = sales.get_deal(deal["id"])
    assert (after["owner_id"], after["team_id"], after["version"]) == (
        people.sam, people.east, deal["version"])


# -- owners must be active users, whoever places ---------------------------------------------
@pytest.fixture(scope="module")
def any_customer(users):
    return ok(users["sara"].post("/customers", json={"name": name("Sara's")}), 201)


def creations(cluster, customer, owner_id):
    """Each service's creating call placing a record with ``owner_id``."""
    return {
        "customer": lambda: cluster.customers.create_customer(
            {"name": name("Placed"), "owner_id": owner_id}),
        "lead": lambda: cluster.sales.create_lead({"name": name("Placed"), "owner_id": owner_id}),
        "deal": lambda: cluster.sales.create_deal(
            {"customer_id": customer["id"], "title": name("Placed"), "owner_id": owner_id}),
    }


@pytest.mark.parametrize("record", ["customer", "lead", "deal"])
def test_an_owner_who_is_no_user_is_refused_on_owner_id(as_admin, any_customer, record):
    assert_owner_refused(creations(as_admin, any_customer, str(uuid.uuid4()))[record])


def test_a_deactivated_user_can_no_longer_be_given_records(stack, admin, as_admin, any_customer):
    user = ok(admin.post("/users", json={
        "username": f"leaver-{uuid.uuid4().hex[:8]}", "password": "leaver-password-1",
        "role": "sales", "team_id": None}), 201)
    attempts = creations(as_admin, any_customer, user["id"])
    # While active, every service places records with them, once it has heard of them.
    for record, attempt in attempts.items():
        placed = wait_until(attempt, timeout=LEARN_TIMEOUT, interval=0.3,
                            message=f"{record}: placed with the new user")
        assert placed["owner_id"] == user["id"]

    ok(admin.patch(f"/users/{user['id']}", json={"version": user["version"], "active": False}))

    def refused_on_owner(attempt):
        def check():
            kind, details = outcome(attempt)
            if kind == "ok":
                return False  # still accepted: the service has not learnt it yet
            assert kind == "ValidationError" and "owner_id" in details, (kind, details)
            return True
        return check

    for record, attempt in attempts.items():
        wait_until(refused_on_owner(attempt), timeout=LEARN_TIMEOUT, interval=0.3,
                   message=f"{record}: refused with the deactivated user as owner")


# -- what the rule allows ----------------------------------------------------------------------
def test_a_manager_places_records_with_a_member_of_her_team(as_maria, people, sams_customer):
    customer = as_maria.customers.create_customer({"name": name("Team"), "owner_id": people.sam})
    lead = as_maria.sales.create_lead({"name": name("Team"), "owner_id": people.sam})
    deal = as_maria.sales.create_deal({"customer_id": sams_customer["id"], "title": name("Team"),
                                       "owner_id": people.sam})
    for record in (customer, lead, deal):
        assert (record["owner_id"], record["team_id"]) == (people.sam, people.east), record
    mine = as_maria.customers.create_customer({"name": name("Mine")})
    assert (mine["owner_id"], mine["team_id"]) == (people.maria, people.east)
    given = as_maria.customers.update_customer(
        mine["id"], {"version": mine["version"], "owner_id": people.sam})
    assert (given["owner_id"], given["team_id"]) == (people.sam, people.east)


def test_an_admin_places_records_in_the_owners_team(as_admin, people, any_customer):
    customer = as_admin.customers.create_customer({"name": name("Admin's"), "owner_id": people.sara})
    lead = as_admin.sales.create_lead({"name": name("Admin's"), "owner_id": people.sara})
    deal = as_admin.sales.create_deal({"customer_id": any_customer["id"], "title": name("Admin's"),
                                       "owner_id": people.sara})
    for record in (customer, lead, deal):
        assert (record["owner_id"], record["team_id"]) == (people.sara, people.west), record


# -- the same refusals through the gateway ---------------------------------------------------
def test_http_customers_refuse_a_manager_placing_outside_her_team(users, people):
    maria = users["maria"]
    refused(maria.post("/customers", json={"name": name("Gift"), "owner_id": people.sara}), 403)
    refused(maria.post("/customers", json={"name": name("Gift"), "team_id": people.west}), 403)
    refused(maria.post("/customers", json={"name": name("Gift"), "owner_id": str(uuid.uuid4())}),
            400, "owner_id")


def test_http_leads_refuse_a_manager_placing_outside_her_team(users, people):
    maria = users["maria"]
    refused(maria.post("/leads", json={"name": name("Lead"), "owner_id": people.sara}), 403)
    refused(maria.post("/leads", json={"name": name("Lead"), "team_id": people.west}), 403)
    refused(maria.post("/leads", json={"name": name("Lead"), "owner_id": str(uuid.uuid4())}),
            400, "owner_id")


def test_http_deals_refuse_a_manager_placing_outside_her_team(users, people, sams_customer):
    maria = users["maria"]
    body = {"customer_id": sams_customer["id"], "title": name("Deal")}
    refused(maria.post("/deals", json={**body, "owner_id": people.sara}), 403)
    refused(maria.post("/deals", json={**body, "team_id": people.west}), 403)
    refused(maria.post("/deals", json={**body, "owner_id": str(uuid.uuid4())}), 400, "owner_id")
