"""Another system bound to sales.events receives every fact with a valid payload; the sales
service learns teams from the gateway's events and assigns leads by each team's rule."""
import collections
import datetime as dt
import uuid

import pytest

from services.sales.schemas import EVENTS
from tests.support.broker import EventTap, assert_valid_event
from tests.support.stack import wait_until

SOON = (dt.date.today() + dt.timedelta(days=10)).isoformat()


@pytest.fixture
def tap(stack):
    tap = EventTap(stack.amqp_uri, "sales")
    yield tap
    tap.close()


def test_every_sales_fact_is_published_with_its_schema(users, admin, tap):
    sam, maria = users["sam"], users["maria"]
    product = admin.post("/products", json={"sku": f"EV-{uuid.uuid4().hex[:8]}", "name": "P",
                                            "list_price": "50"}).json()
    lead = maria.post("/leads", json={"name": "Evented", "owner_id": sam.me["id"],
                                      "city": "Hangzhou"}).json()
    maria.patch(f"/leads/{lead['id']}", json={"version": 1, "status": "working"})
    made = sam.post(f"/leads/{lead['id']}/convert", json={"deal": {
        "amount": "10", "expected_close_date": SOON}}).json()
    deal_url = f"/deals/{made['deal_id']}"
    deal = sam.patch(deal_url, json={"version": 1, "lines": [
        {"product_id": product["id"], "quantity": "2"}]}).json()
    sam.post(f"{deal_url}/stage", json={"stage": "proposal"})
    quote = sam.post(f"{deal_url}/quotes", json={"valid_until": SOON}).json()
    sam.patch(f"/quotes/{quote['id']}", json={"version": 1, "status": "sent"})
    sam.patch(f"/quotes/{quote['id']}", json={"version": 2, "status": "accepted"})
    sam.post(f"{deal_url}/stage", json={"stage": "won"})
    contract = sam.post("/contracts", json={"deal_id": deal["id"], "start_date": SOON,
                                            "end_date": SOON}).json()
    sam.patch(f"/contracts/{contract['id']}", json={"version": 1, "status": "terminated"})
    other = sam.post(f"/customers/{made['customer_id']}/contacts", json={"name": "x"})
    assert other.status_code == 201

    expected = {"product.created", "lead.created", "lead.assigned", "lead.updated",
                "lead.converted", "deal.created", "deal.updated", "deal.stage_changed",
                "deal.won", "quote.created", "quote.sent", "quote.accepted", "contract.created",
                "contract.updated"}
    ids = {product["id"], lead["id"], deal["id"], quote["id"], contract["id"]}
    seen = []
    tap.wait_for(lambda e: e["entity_id"] in ids and seen.append(e) is None
                 and {x["type"] for x in seen} >= expected)
    for event in seen:
        assert_valid_event(event, EVENTS)
        assert event["source"] == "sales"
    by_type = {e["type"]: e for e in seen}
    assigned = by_type["lead.assigned"]["data"]
    assert (assigned["owner_id"], assigned["previous_owner_id"]) == (sam.me["id"], None)
    assert (assigned["country"], assigned["province"], assigned["city"]) == (
        None, None, "Hangzhou")
    assert "region" not in assigned
    won = by_type["deal.won"]
    assert won["data"]["status"] == "won" and won["data"]["from_stage"] == "proposal"
    assert won["data"]["amount"] == "100.00" and won["data"]["lines"][0]["quantity"]
    assert won["data"]["expected_close_date"] == SOON and won["data"]["stage_changed_at"]
    assert won["entity_version"] == won["data"]["version"]
    changed = [e for e in seen if e["type"] == "deal.stage_changed"]
    assert [(e["data"]["from_stage"], e["data"]["stage"]) for e in changed] == [
        ("qualification", "proposal"), ("proposal", "won")]
    ended = [e for e in seen if e["type"] == "contract.updated"][-1]["data"]
    assert ended["status"] == "terminated" and ended["owner_id"] == sam.me["id"]


def test_round_robin_over_three_new_reps_and_region_routing(admin):
    """Three reps created through the API reach the sales service as ``user.created``."""
    team = admin.post("/teams", json={"name": f"RR {uuid.uuid4().hex[:6]}"}).json()
    reps = []
    for n in range(3):
        created = admin.post("/users", json={
            "username": f"rr{uuid.uuid4().hex[:8]}", "password": "rr-password-123",
            "display_name": f"Rep {n}", "role": "sales", "team_id": team["id"]})
        assert created.status_code == 201, created.text
        reps.append(created.json()["id"])
    rule_url = f"/assignment-rules/{team['id']}"
    put = admin.put(rule_url, json={"strategy": "region",
                                    "region_map": {f"probe-{rep}": rep for rep in reps}})
    assert put.status_code == 200, put.text

    def routed(rep):
        lead = admin.post("/leads", json={"name": "probe", "team_id": team["id"],
                                          "city": f"probe-{rep}"}).json()
        return lead["owner_id"] == rep

    for rep in reps:  # each rep known to the sales service (from the gateway's events)
        wait_until(lambda: routed(rep), timeout=30, interval=0.5, message=f"sales knows {rep}")

    assert admin.put(rule_url, json={"strategy": "round_robin"}).status_code == 200
    owners = []
    for n in range(30):
        response = admin.post("/leads", json={"name": f"RR {n}", "team_id": team["id"]})
        assert response.status_code == 201, response.text
        owners.append(response.json()["owner_id"])
    assert collections.Counter(owners) == {rep: 10 for rep in reps}

    rules = admin.get("/assignment-rules", params={"per_page": 200}).json()["items"]
    assert {"team_id": team["id"], "strategy": "round_robin"}.items() <= next(
        r for r in rules if r["team_id"] == team["id"]).items()
