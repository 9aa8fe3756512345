"""Sales through HTTP on the running stack: a lead to a contract, a lost deal, the moves the
rules refuse, conversion at most once, and reps who cannot see each other's work."""
import concurrent.futures
import datetime as dt
import uuid

from tests.support.http import ok, refused
from tests.support.stack import wait_until

SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def new_product(admin, price="100.00"):
    return ok(admin.post("/products", json={"sku": f"SKU-{uuid.uuid4().hex[:8]}",
                                            "name": "Widget", "list_price": price}), 201)


def team_lead(maria, **fields):
    """A lead Maria puts in her team without an owner: assigned by the team's rule (once the
    sales service has learnt the team's members from the gateway's events; each try is a
    lead of its own, so a duplicate of the one before)."""
    body = {"name": f"Lead {uuid.uuid4().hex[:6]}", "team_id": maria.me["team_id"],
            "allow_duplicate": True, **fields}
    return wait_until(lambda: (lead := ok(maria.post("/leads", json=body), 201))["owner_id"] and lead,
                      timeout=30, interval=0.5, message="a lead assigned by the team's rule")


def test_lead_to_contract(users, admin):
    sam, maria = users["sam"], users["maria"]
    widget = new_product(admin)
    lead = team_lead(maria, company=f"Acme {uuid.uuid4().hex[:6]}", email="li@acme.example",
                     phone="+86 571 5555 0101", country="China", province="Zhejiang")
    assert lead["owner_id"] == sam.me["id"] and lead["status"] == "new"
    ok(sam.patch(f"/leads/{lead['id']}", json={"version": lead["version"], "status": "qualified"}))

    converted = ok(sam.post(f"/leads/{lead['id']}/convert", json={"deal": {
        "title": "Acme rollout", "amount": "1000", "currency": "CNY", "expected_close_date": SOON}}))
    customer = ok(sam.get(f"/customers/{converted['customer_id']}"))
    assert (customer["name"], customer["province"], customer["owner_id"]) == (
        lead["company"], "Zhejiang", sam.me["id"])
    contacts = ok(sam.get(f"/customers/{converted['customer_id']}/contacts"))["items"]
    assert [(c["id"], c["is_primary"]) for c in contacts] == [(converted["contact_id"], True)]
    assert ok(sam.get(f"/leads/{lead['id']}"))["status"] == "converted"
    twice = refused(sam.post(f"/leads/{lead['id']}/convert", json={}), 409)
    assert twice["detail"] == "The lead is already converted."

    deal_url = f"/deals/{converted['deal_id']}"
    deal = ok(sam.get(deal_url))
    assert (deal["amount"], deal["stage"], deal["probability"], deal["expected_close_date"]) == (
        "1000.00", "qualification", 10, SOON)
    deal = ok(sam.patch(deal_url, json={"version": deal["version"], "lines": [
        {"product_id": widget["id"], "quantity": "3", "discount": "0.10"}]}))
    assert deal["amount"] == "270.00"
    for stage, probability in (("needs_analysis", 25), ("proposal", 50), ("negotiation", 75),
                               ("won", 100)):
        deal = ok(sam.post(f"{deal_url}/stage", json={"stage": stage}))
        assert (deal["stage"], deal["probability"]) == (stage, probability)
    assert deal["status"] == "won"
    history = ok(sam.get(f"{deal_url}/history"))["items"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "qualification"), ("qualification", "needs_analysis"),
        ("needs_analysis", "proposal"), ("proposal", "negotiation"), ("negotiation", "won")]
    assert {h["changed_by"] for h in history} == {sam.me["id"]}
    frozen = refused(sam.patch(deal_url, json={"version": deal["version"], "lines": []}), 409)
    assert "frozen" in frozen["detail"]

    quote = ok(sam.post(f"{deal_url}/quotes", json={"tax_rate": "0.13", "valid_until": SOON}), 201)
    year = dt.date.today().year
    assert quote["number"].startswith(f"Q-{year}-") and quote["status"] == "draft"
    assert (quote["subtotal"], quote["discount_total"], quote["tax"], quote["total"]) == (
        "300.00", "30.00", "35.10", "305.10")
    other = ok(sam.post(f"{deal_url}/quotes", json={"valid_until": SOON}), 201)
    assert int(other["number"][-4:]) == int(quote["number"][-4:]) + 1
    sent = ok(sam.patch(f"/quotes/{quote['id']}", json={"version": quote["version"], "status": "sent"}))
    accepted = ok(sam.patch(f"/quotes/{quote['id']}", json={"status": "accepted"},
                            headers={"If-Match": f'"{sent["version"]}"'}))
    assert accepted["status"] == "accepted"
    assert ok(sam.get(f"/quotes/{other['id']}"))["status"] == "rejected"
    assert ok(sam.get(f"{deal_url}/quotes"))["total"] == 2

    contract = ok(sam.post("/contracts", json={"deal_id": deal["id"], "start_date": SOON,
                                               "end_date": f"{year + 2}-12-31"}), 201)
    assert contract["number"].startswith(f"C-{year}-")
    assert (contract["customer_id"], contract["amount"], contract["currency"], contract["status"]) == (
        converted["customer_id"], "270.00", "CNY", "active")
    assert contract["owner_id"] == sam.me["id"]
    listed = ok(sam.get("/contracts", params={"deal_id": deal["id"]}))
    assert [c["id"] for c in listed["items"]] == [contract["id"]]


def test_a_lost_deal_needs_a_reason(users):
    sam = users["sam"]
    customer = ok(sam.post("/customers", json={"name": f"Lost {uuid.uuid4().hex[:6]}"}), 201)
    deal = ok(sam.post("/deals", json={"customer_id": customer["id"], "title": "Maybe"}), 201)
    assert (deal["owner_id"], deal["team_id"], deal["amount"]) == (
        sam.me["id"], sam.me["team_id"], "0.00")
    no_reason = refused(sam.post(f"/deals/{deal['id']}/stage", json={"stage": "lost"}), 400,
                        "lost_reason")
    assert no_reason["errors"]["lost_reason"] == ["Required when the stage is lost."]
    lost = ok(sam.post(f"/deals/{deal['id']}/stage",
                       json={"stage": "lost", "lost_reason": "Chose a competitor"}))
    assert (lost["status"], lost["probability"], lost["lost_reason"]) == (
        "lost", 0, "Chose a competitor")
    reopened = ok(sam.post(f"/deals/{deal['id']}/stage", json={"stage": "proposal"}))
    assert reopened["status"] == "open" and reopened["lost_reason"] is None
    history = ok(sam.get(f"/deals/{deal['id']}/history"))["items"]
    assert [(h["to_stage"], h["lost_reason"]) for h in history][-2:] == [
        ("lost", "Chose a competitor"), ("proposal", None)]


def test_illegal_moves_say_why(users, admin):
    sam, sara = users["sam"], users["sara"]
    customer = ok(sam.post("/customers", json={"name": f"Rules {uuid.uuid4().hex[:6]}"}), 201)
    deal = ok(sam.post("/deals", json={"customer_id": customer["id"], "title": "T"}), 201)
    url = f"/deals/{deal['id']}/stage"
    no_amount = refused(sam.post(url, json={"stage": "won"}), 409)
    assert no_amount["code"] == "precondition_failed"
    assert no_amount["detail"] == "A deal is won only with an amount greater than zero."
    chinese = refused(sam.post(url, json={"stage": "won"}, headers={"Accept-Language": "zh-CN"}), 409)
    assert chinese["detail"] == "商机金额大于零才能赢单。"
    unknown = refused(sam.post(url, json={"stage": "nowhere"}), 400, "stage")
    assert unknown["errors"]["stage"][0].startswith("Unknown stage nowhere; use one of:")
    refused(admin.post("/products", json={"sku": "NEG-1", "name": "x", "list_price": "-5"}),
            400, "list_price")
    refused(sam.post("/products", json={"sku": "S-1", "name": "x", "list_price": "5"}), 403)
    refused(sam.post("/deals", json={"customer_id": customer["id"], "title": "x",
                                     "lines": [{"product_id": str(uuid.uuid4()), "quantity": "0"}]}),
            400, "lines.0.quantity")
    hidden = refused(sara.post("/deals", json={"customer_id": customer["id"], "title": "x"}), 400,
                     "customer_id")
    assert customer["name"] not in str(hidden)
    refused(sam.patch(f"/deals/{deal['id']}", json={"version": deal["version"] + 5, "title": "x"}),
            409)
    stages = ok(sam.get("/pipeline/stages"))["stages"]
    refused(sam.put("/pipeline/stages", json={"stages": stages}), 403)
    in_use = refused(admin.put("/pipeline/stages", json={
        "stages": [s for s in stages if s["key"] != "qualification"]}), 409)
    assert "qualification" in in_use["detail"]


def test_conversion_at_the_same_moment_makes_one_customer(users):
    sam = users["sam"]
    company = f"Twice {uuid.uuid4().hex[:8]}"
    lead = ok(sam.post("/leads", json={"name": "Wang", "company": company}), 201)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: sam.post(f"/leads/{lead['id']}/convert", json={}),
                                range(2)))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    again = refused(sam.post(f"/leads/{lead['id']}/convert", json={}), 409)
    assert again["code"] == "precondition_failed"
    found = ok(sam.get("/customers", params={"q": company}))
    assert found["total"] == 1


def test_reps_cannot_see_each_others_leads_and_deals(users):
    sam, sara, maria, alex = users["sam"], users["sara"], users["maria"], users["alex"]
    lead = ok(sam.post("/leads", json={"name": f"Mine {uuid.uuid4().hex[:6]}",
                                       "email": "mine@example.com"}), 201)
    customer = ok(sam.post("/customers", json={"name": f"Mine {uuid.uuid4().hex[:6]}"}), 201)
    deal = ok(sam.post("/deals", json={"customer_id": customer["id"], "title": "Mine"}), 201)
    for response in (
        sara.get(f"/leads/{lead['id']}"),
        sara.patch(f"/leads/{lead['id']}", json={"version": 1, "name": "Stolen"}),
        sara.post(f"/leads/{lead['id']}/convert", json={}),
        sara.get(f"/deals/{deal['id']}"),
        sara.patch(f"/deals/{deal['id']}", json={"version": 1, "title": "Stolen"}),
        sara.post(f"/deals/{deal['id']}/stage", json={"stage": "proposal"}),
        sara.get(f"/deals/{deal['id']}/history"),
        sara.get(f"/deals/{deal['id']}/quotes"),
    ):
        assert response.status_code == 404, response.text
        assert lead["name"] not in response.text
    assert lead["id"] not in [x["id"] for x in ok(sara.get("/leads", params={"per_page": 200}))["items"]]
    assert deal["id"] not in [x["id"] for x in ok(sara.get("/deals", params={"per_page": 200}))["items"]]
    duplicate = ok(sara.post("/leads", json={"name": "Same", "email": "MINE@example.com"}), 201)
    assert lead["id"] not in [d["id"] for d in duplicate["duplicates"]]
    refused(sam.post("/leads", json={"name": "Same", "email": "mine@example.com"}), 409)
    again = ok(sam.post("/leads", json={"name": "Same", "email": "mine@example.com",
                                        "allow_duplicate": True}), 201)
    assert lead["id"] in [d["id"] for d in again["duplicates"]]
    assert ok(maria.get(f"/deals/{deal['id']}"))["id"] == deal["id"]
    assert ok(alex.get(f"/leads/{lead['id']}"))["id"] == lead["id"]
    refused(alex.post(f"/deals/{deal['id']}/stage", json={"stage": "proposal"}), 403)
