"""Duplicate detection and merge through HTTP on the running stack: the customers service
decides, sales and notifications follow the merge from its events."""
import datetime as dt
import random

import pytest

from services.customers.schemas import EVENTS
from tests.support.broker import EventTap, assert_valid_event
from tests.support.http import ok, refused
from tests.support.stack import wait_until

SOON = (dt.date.today() + dt.timedelta(days=20)).isoformat()
LATER = (dt.date.today() + dt.timedelta(days=400)).isoformat()


def tag() -> str:
    """Letters only, so a name's key stays one word: ``Zeta{tag}`` is never ``Zeta``."""
    return "".join(random.choices("bcdfghjklmnpqrstvwxz", k=8))


def mobile() -> str:
    return f"139{random.randrange(10 ** 8):08d}"


def customer(client, name, **fields):
    return ok(client.post("/customers", json={"name": name, **fields}), 201)


def duplicates(client, **query):
    return [(match["customer"]["id"], match["matched"])
            for match in ok(client.get("/customers/duplicates", params=query))["items"]]


def test_duplicates_by_name_in_any_case_width_spacing_and_legal_form(users):
    sam, word = users["sam"], tag()
    acme = customer(sam, f"{word.title()} Co., Ltd.")
    wide = word.upper().translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})
    for variant in (f"{word} 有限公司", wide, f"  {word.upper()}  inc. ", f"{word}, LLC",
                    f"{word[:4]} {word[4:]}"):
        assert duplicates(sam, name=variant) == [(acme["id"], ["name"])], variant
    assert duplicates(sam, name=f"{word} West") == []

    chinese = customer(sam, f"杭州{word}科技有限公司")
    assert duplicates(sam, name=f"杭州 {word} 科技") == [(chinese["id"], ["name"])]

    body = refused(sam.post("/customers", json={"name": f"{word.upper()} 有限公司"}), 409)
    assert body["code"] == "duplicate" and body["title"] == "Duplicate"
    assert [(m["customer"]["id"], m["matched"]) for m in body["matches"]] == [
        (acme["id"], ["name"])]
    assert body["matches"][0]["customer"]["name"] == acme["name"]
    assert "allow_duplicate" in body["detail"]
    chinese_body = refused(sam.post("/customers", json={"name": wide},
                                    headers={"Accept-Language": "zh-CN"}), 409)
    assert chinese_body["title"] == "疑似重复"
    assert chinese_body["detail"].startswith("已有您可查看的客户名称、邮箱或电话相同")

    allowed = customer(sam, f"{word.upper()} 有限公司", allow_duplicate=True)
    assert {m[0] for m in duplicates(sam, name=word)} == {acme["id"], allowed["id"]}


def test_duplicates_by_a_contact_email_or_phone_the_country_code_optional(users):
    sam, word, phone = users["sam"], tag(), mobile()
    with_plus = customer(sam, f"Email {word}")
    ok(sam.post(f"/customers/{with_plus['id']}/contacts", json={
        "name": "Li", "email": f"Li.{word}@Example.com", "phone": f"+86 {phone[:3]} {phone[3:]}"}),
        201)
    without = customer(sam, f"Phone {word}")
    landline = f"0571-{random.randrange(10 ** 8):08d}"
    ok(sam.post(f"/customers/{without['id']}/contacts", json={"name": "Wu", "phone": landline}),
       201)

    assert duplicates(sam, email=f"LI.{word}@example.COM") == [
        (with_plus["id"], ["email"])]
    for written in (phone, f"+86{phone}", f"0086 {phone}", f"({phone[:3]}) {phone[3:]}"):
        assert duplicates(sam, phone=written) == [(with_plus["id"], ["phone"])], written
    assert duplicates(sam, phone=f"+86 {landline[1:]}") == [(without["id"], ["phone"])]
    assert duplicates(sam, name=f"phone {word}", email=f"li.{word}@example.com") == [
        (with_plus["id"], ["email"]), (without["id"], ["name"])]


def test_the_duplicates_query_names_what_to_send(users):
    sam = users["sam"]
    missing = refused(sam.get("/customers/duplicates"), 400)
    assert set(missing["errors"]) == {"name", "email", "phone"}
    assert "at least one" in missing["errors"]["name"][0]
    refused(sam.get("/customers/duplicates", params={"phone": "call me"}), 400, "phone")
    refused(sam.get("/customers/duplicates", params={"email": "nobody"}), 400, "email")


def test_a_lead_is_checked_against_leads_and_customers(users):
    sam, sara, word, phone = users["sam"], users["sara"], tag(), mobile()
    first = ok(sam.post("/leads", json={"name": "Wang", "company": f"{word} Inc."}), 201)
    same_company = refused(sam.post("/leads", json={"name": "Zhao", "company": f"{word}有限公司"}),
                           409)
    assert same_company["code"] == "duplicate"
    assert [(m["lead"]["id"], m["matched"]) for m in same_company["matches"]] == [
        (first["id"], ["company"])]

    known = customer(sam, f"Known {word}")
    ok(sam.post(f"/customers/{known['id']}/contacts", json={"name": "Qian", "phone": phone}), 201)
    same_phone = refused(sam.post("/leads", json={"name": "Sun", "phone": f"+86 {phone}"},
                                  headers={"Accept-Language": "zh-CN"}), 409)
    assert same_phone["detail"].startswith("已有您可查看的线索或客户公司、邮箱或电话相同")
    assert [(m["customer"]["id"], m["matched"]) for m in same_phone["matches"]] == [
        (known["id"], ["phone"])]
    both = refused(sam.post("/leads", json={"name": "Zhou", "company": f"KNOWN {word}",
                                            "phone": phone}), 409)
    assert [m["customer"]["id"] for m in both["matches"]] == [known["id"]]
    assert both["matches"][0]["matched"] == ["company", "phone"]

    allowed = ok(sam.post("/leads", json={"name": "Zhao", "company": f"{word} 有限公司",
                                          "allow_duplicate": True}), 201)
    assert [(d["id"], d["matched_on"]) for d in allowed["duplicates"]] == [
        (first["id"], ["company"])]
    # Sara sees neither Sam's leads nor his customers: nothing to match.
    ok(sara.post("/leads", json={"name": "Sun", "company": f"Known {word}", "phone": phone}), 201)


@pytest.fixture
def merged_tap(stack):
    tap = EventTap(stack.amqp_uri, "customers", "customer.merged")
    yield tap
    tap.close()


@pytest.fixture
def quotes_tap(stack):
    tap = EventTap(stack.amqp_uri, "sales", "quote.updated")
    yield tap
    tap.close()


def reminders_about(client, entity_id):
    return [(item["kind"], item["status"]) for item in
            ok(client.get("/reminders", params={"per_page": 200}))["items"]
            if item["entity_id"] == entity_id]


def test_a_merge_moves_everything_and_every_service_follows(
        users, admin, merged_tap, quotes_tap):
    sam, word = users["sam"], tag()
    kept = customer(sam, f"Kilo {word}", city="Shaoxing", tags=[f"kept-{word}"])
    kept_primary = ok(sam.post(f"/customers/{kept['id']}/contacts",
                               json={"name": "Kim", "is_primary": True}), 201)

    # The merged customer comes from a lead's conversion: a contact, a deal and the lead.
    lead = ok(sam.post("/leads", json={"name": "Fei", "company": f"Foxtrot {word}",
                                       "email": f"fei.{word}@example.com"}), 201)
    converted = ok(sam.post(f"/leads/{lead['id']}/convert",
                            json={"deal": {"title": "First order", "amount": "100.00"}}), 200)
    gone_id = converted["customer_id"]
    gone = ok(sam.get(f"/customers/{gone_id}"))
    ok(sam.patch(f"/customers/{gone_id}", json={"version": gone["version"], "industry": "Retail",
                                                "tier": "C", "city": "Ningbo",
                                                "tags": [f"gone-{word}"]}))
    second = ok(sam.post(f"/customers/{gone_id}/contacts", json={"name": "Gao"}), 201)
    due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    activity = ok(sam.post(f"/customers/{gone_id}/activities", json={
        "type": "call", "content": "Asked for a quote", "next_follow_up_at": due.isoformat()}), 201)
    manual = ok(sam.post("/reminders", json={
        "due_at": (due + dt.timedelta(days=1)).isoformat(), "subject": "Send the catalogue",
        "entity_type": "customer", "entity_id": gone_id}), 201)
    widget = ok(admin.post("/products", json={"sku": f"MRG-{word}", "name": "Widget",
                                              "list_price": "50.00"}), 201)
    lined = ok(sam.post("/deals", json={"customer_id": gone_id, "title": "Lined", "lines": [
        {"product_id": widget["id"], "quantity": "2"}]}), 201)
    quote = ok(sam.post(f"/deals/{lined['id']}/quotes", json={"valid_until": SOON}), 201)
    contract = ok(sam.post("/contracts", json={"customer_id": gone_id, "amount": "900.00",
                                               "start_date": SOON, "end_date": LATER}), 201)
    wait_until(lambda: set(reminders_about(sam, gone_id)) == {
        ("follow_up", "pending"), ("manual", "pending")}, message="the reminders planned")

    merged = ok(sam.post(f"/customers/{kept['id']}/merge",
                         json={"from_id": gone_id, "version": kept["version"]}))

    # The kept customer: its own values, the empty ones filled, tags joined.
    assert merged["id"] == kept["id"] and merged["version"] == kept["version"] + 1
    assert (merged["city"], merged["industry"], merged["tier"]) == ("Shaoxing", "Retail", "C")
    assert merged["tags"] == [f"gone-{word}", f"kept-{word}"]
    contacts = ok(sam.get(f"/customers/{kept['id']}/contacts"))["items"]
    assert contacts[0]["id"] == kept_primary["id"] and contacts[0]["is_primary"]
    assert {c["id"] for c in contacts} == {kept_primary["id"], converted["contact_id"],
                                           second["id"]}
    assert [c["is_primary"] for c in contacts].count(True) == 1
    timeline = ok(sam.get(f"/customers/{kept['id']}/activities"))["items"]
    assert [a["id"] for a in timeline] == [activity["id"]]
    refused(sam.get(f"/customers/{gone_id}"), 404)
    trash = ok(sam.get("/customers/trash", params={"per_page": 200}))["items"]
    assert gone_id in [c["id"] for c in trash]

    kept_history = ok(sam.get(f"/customers/{kept['id']}/history"))["items"]
    assert any(h["action"] == "merged" and h["new_value"]["from_id"] == gone_id
               for h in kept_history)
    gone_history = ok(sam.get(f"/customers/{gone_id}/history"))["items"]
    assert [h["action"] for h in gone_history[:2]] == ["deleted", "merged"]
    assert gone_history[1]["new_value"]["into_id"] == kept["id"]

    # customer.merged, once.
    event = merged_tap.wait_for(lambda e: e["data"].get("from_id") == gone_id)
    assert_valid_event(event, EVENTS)
    assert event["entity_id"] == kept["id"] and event["entity_version"] == merged["version"]
    assert event["data"]["into_id"] == kept["id"]
    assert not [e for e in merged_tap.drain(quiet_for=1.0) if e["data"]["from_id"] == gone_id]

    # Sales: deals, their quotes, contracts and the lead point at the kept customer.
    def sales_follow():
        deals = ok(sam.get("/deals", params={"customer_id": kept["id"], "per_page": 200}))
        return ({d["id"] for d in deals["items"]} == {converted["deal_id"], lined["id"]}
                and ok(sam.get(f"/contracts/{contract['id']}"))["customer_id"] == kept["id"]
                and ok(sam.get(f"/leads/{lead['id']}"))["customer_id"] == kept["id"])

    wait_until(sales_follow, message="sales re-points what pointed at the merged customer")
    assert ok(sam.get("/deals", params={"customer_id": gone_id}))["total"] == 0
    assert not ok(sam.get(f"/deals/{lined['id']}"))["customer_deleted"]
    moved_quote = quotes_tap.wait_for(lambda e: e["entity_id"] == quote["id"])
    assert moved_quote["data"]["customer_id"] == kept["id"]
    assert [q["id"] for q in ok(sam.get(f"/deals/{lined['id']}/quotes"))["items"]] == [quote["id"]]

    # Notifications: the pending reminders are about the kept customer now.
    wait_until(lambda: set(reminders_about(sam, kept["id"])) == {
        ("follow_up", "pending"), ("manual", "pending")} and reminders_about(sam, gone_id) == [],
        message="the pending reminders re-pointed")
    assert ok(sam.get(f"/reminders/{manual['id']}"))["entity_id"] == kept["id"]

    # The merged customer restores alone: its contacts and follow-ups stay where they went.
    restored = ok(sam.post(f"/customers/{gone_id}/restore"))
    assert restored["name"] == f"Foxtrot {word}" and restored["city"] == "Ningbo"
    assert ok(sam.get(f"/customers/{gone_id}/contacts"))["total"] == 0
    assert ok(sam.get(f"/customers/{kept['id']}/contacts"))["total"] == 3
    assert ok(sam.get(f"/customers/{kept['id']}/activities"))["total"] == 1


def test_a_merge_needs_both_customers_and_the_current_version(users):
    sam, sara, maria, alex = users["sam"], users["sara"], users["maria"], users["alex"]
    word = tag()
    kept = customer(sam, f"Mike {word}")
    other = customer(sam, f"Mike {word} Ltd", allow_duplicate=True)
    saras = customer(sara, f"Mike {word} Inc.")

    # Sara sees neither of Sam's: not found, and not among her duplicates either.
    refused(sara.post(f"/customers/{kept['id']}/merge",
                      json={"from_id": saras["id"], "version": 1}), 404)
    refused(sara.post(f"/customers/{saras['id']}/merge",
                      json={"from_id": other["id"], "version": 1}), 404)
    assert duplicates(sara, name=f"mike {word}") == [(saras["id"], ["name"])]
    refused(sam.post(f"/customers/{kept['id']}/merge",
                     json={"from_id": saras["id"], "version": 1}), 404)
    refused(alex.post(f"/customers/{kept['id']}/merge",
                      json={"from_id": other["id"], "version": 1}), 403)

    refused(sam.post(f"/customers/{kept['id']}/merge", json={"version": 1}), 400, "from_id")
    refused(sam.post(f"/customers/{kept['id']}/merge", json={"from_id": kept["id"],
                                                             "version": 1}), 400, "from_id")
    refused(sam.post(f"/customers/{kept['id']}/merge", json={"from_id": other["id"]}),
            400, "version")
    ok(sam.patch(f"/customers/{kept['id']}", json={"version": 1, "tier": "B"}))
    stale = refused(sam.post(f"/customers/{kept['id']}/merge",
                             json={"from_id": other["id"], "version": 1}), 409)
    assert stale["code"] == "conflict" and stale["current_version"] == 2
    assert ok(sam.get(f"/customers/{other['id']}"))["deleted_at"] is None

    merged = ok(maria.post(f"/customers/{kept['id']}/merge", json={"from_id": other["id"]},
                           headers={"If-Match": '"2"'}))
    assert merged["version"] == 3
    refused(sam.get(f"/customers/{other['id']}"), 404)
