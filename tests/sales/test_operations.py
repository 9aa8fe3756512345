"""The sales service layer: rules, totals, numbering, access, assignment and conversion."""
import collections
import datetime as dt
import uuid

import pytest

from common import directory
from common.errors import (
    Conflict, Duplicate, Forbidden, NotFound, PreconditionFailed, ValidationError,
)
from services.sales import assignment, catalogue, deals, documents, leads
from services.sales import schemas as s
from tests.sales.conftest import ADMIN, ALEX, EAST, MARIA, SAM, SARA, SYSTEM, WEST, outbox
from tests.support.directory import user_event

TOMORROW = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def product(run, sku=None, price="100.00", **fields):
    return run(ADMIN, catalogue.create_product,
               {"sku": sku or uuid.uuid4().hex[:8], "name": "Widget", "list_price": price, **fields})


def deal(run, actor=SAM, **fields):
    customer_id = run.customers.add()
    return run(actor, deals.create_deal, run.customers,
               {"customer_id": customer_id, "title": "Deal", **fields})


def handle(run, apply, *args):
    """Run an event handler's body as ``common.service.handles`` does: then commit."""
    def handler(uow):
        apply(uow, *args)
        uow.commit()

    run(SYSTEM, handler)


def member(run, team=EAST, role="sales", **kwargs) -> str:
    user_id = str(uuid.uuid4())
    handle(run, directory.apply_user, user_event(user_id, role=role, team_id=team, **kwargs))
    return user_id


def assert_events_valid(run):
    for event in outbox(run.factory):
        schema, _ = s.EVENTS[event["type"]]
        assert schema().validate(event["data"]) == {}, event


# -- products and pipeline -------------------------------------------------------------------
def test_products_sku_unique_price_not_negative_and_catalogue_roles(run):
    created = product(run, sku="W-1", price="12.345")
    assert created["list_price"] == "12.35" and created["currency"] == "CNY"
    with pytest.raises(Conflict):
        product(run, sku="w-1")
    with pytest.raises(ValidationError) as error:
        product(run, price="-1")
    assert "list_price" in error.value.details
    with pytest.raises(Forbidden):
        run(SAM, catalogue.create_product, {"sku": "X", "name": "x", "list_price": "1"})
    assert run(SAM, catalogue.list_products, {"q": "w-1"})["total"] == 1


def test_default_pipeline_and_a_stage_in_use_cannot_go(run):
    stages = run(SAM, catalogue.get_pipeline)["stages"]
    assert [(x["key"], x["probability"]) for x in stages] == [
        ("qualification", 10), ("needs_analysis", 25), ("proposal", 50), ("negotiation", 75),
        ("won", 100), ("lost", 0)]
    deal(run)  # in qualification
    keep = [x for x in stages if x["key"] != "qualification"]
    with pytest.raises(Conflict):
        run(ADMIN, catalogue.set_pipeline, {"stages": keep})
    with pytest.raises(Forbidden):
        run(MARIA, catalogue.set_pipeline, {"stages": stages})
    with pytest.raises(ValidationError):
        run(ADMIN, catalogue.set_pipeline, {"stages": [x for x in stages if x["key"] != "won"]})
    changed = [{**x, "probability": 20} if x["key"] == "qualification" else x for x in stages]
    run(ADMIN, catalogue.set_pipeline, {"stages": changed + [
        {"key": "legal", "name": "Legal review", "probability": 90}]})
    assert [x["key"] for x in run(SAM, catalogue.get_pipeline)["stages"]][-1] == "legal"
    assert run(SAM, deals.list_deals, {})["items"][0]["probability"] == 20


# -- deals -----------------------------------------------------------------------------------
def test_amount_is_the_sum_of_lines_after_discount(run):
    widget = product(run, price="100.00")
    gadget = product(run, price="33.33")
    created = deal(run, lines=[
        {"product_id": widget["id"], "quantity": "3", "discount": "0.10"},
        {"product_id": gadget["id"], "quantity": "1", "unit_price": "10.005"},
    ])
    assert created["amount"] == "280.01"  # 300 - 30 + 10.01
    assert created["lines"][0]["unit_price"] == "100.00"
    assert created["lines"][0]["amount"] == "270.00"
    with pytest.raises(ValidationError) as error:
        deal(run, lines=[{"product_id": widget["id"], "quantity": "1"}], amount="5.00")
    assert "amount" in error.value.details
    with pytest.raises(ValidationError) as error:
        deal(run, lines=[{"product_id": str(uuid.uuid4()), "quantity": "1"}])
    assert "lines.0.product_id" in error.value.details
    with pytest.raises(ValidationError):
        deal(run, lines=[{"product_id": widget["id"], "quantity": "1", "discount": "1.5"}])


def test_stage_moves_won_lost_reopen_and_history(run):
    item = deal(run)
    with pytest.raises(PreconditionFailed):
        run(SAM, deals.move_stage, item["id"], {"stage": "won"})
    with pytest.raises(ValidationError) as error:
        run(SAM, deals.move_stage, item["id"], {"stage": "lost"})
    assert "lost_reason" in error.value.details
    with pytest.raises(ValidationError) as error:
        run(SAM, deals.move_stage, item["id"], {"stage": "nowhere"})
    assert "stage" in error.value.details
    run(SAM, deals.update_deal, item["id"], {"version": 1, "amount": "500"})
    won = run(SAM, deals.move_stage, item["id"], {"stage": "won"})
    assert (won["status"], won["probability"], won["closed_at"] is not None) == ("won", 100, True)
    with pytest.raises(PreconditionFailed):
        run(SAM, deals.update_deal, item["id"],
            {"version": won["version"], "lines": []})
    reopened = run(SAM, deals.move_stage, item["id"], {"stage": "negotiation"})
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    lost = run(SAM, deals.move_stage, item["id"], {"stage": "lost", "lost_reason": " price "})
    assert lost["lost_reason"] == "price" and lost["status"] == "lost"
    history = run(SAM, deals.deal_history, item["id"], {})["items"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "qualification"), ("qualification", "won"), ("won", "negotiation"),
        ("negotiation", "lost")]
    assert all(h["changed_by"] == SAM.user_id for h in history)
    types = [e["type"] for e in outbox(run.factory) if e["entity_id"] == item["id"]]
    assert types == ["deal.created", "deal.updated", "deal.stage_changed", "deal.won",
                     "deal.stage_changed", "deal.stage_changed", "deal.lost"]
    assert_events_valid(run)


def test_deal_customer_must_be_visible_and_versions_checked(run):
    hidden = run.customers.add(hidden=True)
    with pytest.raises(ValidationError) as error:
        run(SAM, deals.create_deal, run.customers, {"customer_id": hidden, "title": "x"})
    assert "customer_id" in error.value.details
    item = deal(run)
    run(SAM, deals.update_deal, item["id"], {"version": 1, "title": "A"})
    with pytest.raises(Conflict) as error:
        run(SAM, deals.update_deal, item["id"], {"version": 1, "title": "B"})
    assert error.value.details == {"current_version": "2"}


def test_record_access_on_deals(run):
    sams = deal(run, actor=SAM)
    deal(run, actor=SARA)
    assert run(SAM, deals.list_deals, {})["total"] == 1
    assert run(MARIA, deals.list_deals, {})["total"] == 1
    assert run(ALEX, deals.list_deals, {})["total"] == 2
    for operation, args in ((deals.get_deal, ()), (deals.deal_history, ({},)),
                            (deals.move_stage, ({"stage": "proposal"},))):
        with pytest.raises(NotFound):
            run(SARA, operation, sams["id"], *args)
    with pytest.raises(Forbidden):
        run(ALEX, deals.move_stage, sams["id"], {"stage": "proposal"})


def test_the_board_counts_and_totals_every_deal_and_shows_the_latest_of_each_stage(run):
    """Three deals in one stage, one shown per stage: the count and totals are of the three."""
    for amount in ("100.00", "200.00", "300.50"):
        deal(run, actor=SAM, amount=amount, stage="proposal")
    deal(run, actor=SAM, amount="50", currency="USD", stage="proposal")
    deal(run, actor=SARA, amount="999", stage="proposal")  # not Sam's to see
    latest = deal(run, actor=SAM, title="Latest", stage="won", amount="10")
    board = run(SAM, deals.pipeline_board, {"per_stage": 1})
    by_key = {stage["key"]: stage for stage in board["stages"]}
    with run.factory() as session:
        assert [stage["key"] for stage in board["stages"]] == [
            stage.key for stage in catalogue.stages(session)]
    proposal = by_key["proposal"]
    assert (proposal["count"], len(proposal["deals"])) == (4, 1)
    assert proposal["totals"] == [
        {"currency": "CNY", "amount": "600.50", "weighted_amount": "300.25"},
        {"currency": "USD", "amount": "50.00", "weighted_amount": "25.00"}]
    assert [item["id"] for item in by_key["won"]["deals"]] == [latest["id"]]
    assert by_key["qualification"] == {**by_key["qualification"], "count": 0, "deals": [],
                                       "totals": []}
    assert run(ALEX, deals.pipeline_board, {})["stages"][2]["count"] == 5  # sees everyone's


def customer_event(customer_id, event_type, version) -> dict:
    return {"id": str(uuid.uuid4()), "type": event_type, "entity_id": customer_id,
            "entity_version": version, "data": {"id": customer_id}}


def test_customer_deleted_restored_and_merged(run):
    item = deal(run)
    closed = deal(run, amount="10")
    run(SAM, deals.move_stage, closed["id"], {"stage": "won"})
    survivor = str(uuid.uuid4())
    handle(run, deals.flag_customer_deleted,
           customer_event(item["customer_id"], "customer.deleted", 2), True)
    handle(run, deals.flag_customer_deleted,
           customer_event(closed["customer_id"], "customer.deleted", 2), True)
    assert run(SAM, deals.get_deal, item["id"])["customer_deleted"] is True
    assert run(SAM, deals.get_deal, closed["id"])["customer_deleted"] is False  # not open
    handle(run, deals.flag_customer_deleted,
           customer_event(item["customer_id"], "customer.restored", 3), False)
    assert run(SAM, deals.get_deal, item["id"])["customer_deleted"] is False
    handle(run, deals.repoint_customer, survivor, item["customer_id"])
    assert run(SAM, deals.get_deal, item["id"])["customer_id"] == survivor
    assert_events_valid(run)


def test_a_restore_handled_before_its_deletion_is_not_undone_by_it(run):
    """customer.deleted and customer.restored come on different queues: whichever is handled
    first, the newer version wins and the older one changes nothing."""
    item = deal(run)
    customer = item["customer_id"]
    handle(run, deals.flag_customer_deleted, customer_event(customer, "customer.restored", 3),
           False)
    handle(run, deals.flag_customer_deleted, customer_event(customer, "customer.deleted", 2),
           True)
    assert run(SAM, deals.get_deal, item["id"])["customer_deleted"] is False
    handle(run, deals.flag_customer_deleted, customer_event(customer, "customer.deleted", 4),
           True)
    handle(run, deals.flag_customer_deleted, customer_event(customer, "customer.deleted", 4),
           True)  # a repeat
    assert run(SAM, deals.get_deal, item["id"])["customer_deleted"] is True


# -- leads and assignment --------------------------------------------------------------------
def test_round_robin_30_leads_over_3_reps_is_10_each(run):
    reps = [member(run) for _ in range(3)]
    member(run, active=False)
    member(run, role="manager")
    member(run, team=WEST)
    owners = [run(ADMIN, leads.create_lead, run.customers,
                  {"name": f"L{i}", "team_id": EAST})["owner_id"] for i in range(30)]
    assert collections.Counter(owners) == {rep: 10 for rep in reps}
    assigned = outbox(run.factory, "lead.assigned")
    assert len(assigned) == 30 and all(e["data"]["previous_owner_id"] is None for e in assigned)
    assert_events_valid(run)


def test_region_and_least_open_rules(run):
    north, south = member(run), member(run)
    with pytest.raises(Forbidden):
        run(SARA, assignment.put_rule, EAST, {"strategy": "least_open"})
    with pytest.raises(ValidationError):
        run(MARIA, assignment.put_rule, EAST, {"strategy": "region"})
    run(MARIA, assignment.put_rule, EAST, {"strategy": "region", "region_map": {
        "Zhejiang": north, "Guangzhou": south}})
    lead = lambda **region: run(MARIA, leads.create_lead, run.customers,
                                {"name": "x", "team_id": EAST, **region})
    with pytest.raises(ValidationError) as nested:  # the old shape is told the new one
        lead(region={"province": "Zhejiang"})
    assert "top-level" in nested.value.details["region"][0]
    assert lead(country="China", province="zhejiang", city="Hangzhou")["owner_id"] == north
    assert lead(province="Guangdong", city="Guangzhou")["owner_id"] == south
    assert lead(province="Tibet")["owner_id"] in (north, south)  # falls back to round-robin

    run(MARIA, assignment.put_rule, EAST, {"strategy": "least_open"})
    loads = collections.Counter(
        run(MARIA, leads.list_leads, {"per_page": 200})["items"][i]["owner_id"] for i in range(3))
    fewer = min((north, south), key=lambda user: loads[user])
    assert lead()["owner_id"] == fewer
    assert run(ALEX, assignment.list_rules, {})["items"][0]["strategy"] == "least_open"


def test_leads_owned_by_their_creator_with_duplicate_check_and_access(run):
    create = lambda actor, payload: run(actor, leads.create_lead, run.customers, payload)
    first = create(SAM, {"name": "A", "email": "A@x.com", "phone": "+86 21 5555"})
    assert first["owner_id"] == SAM.user_id and first["team_id"] == EAST
    assert first["duplicates"] == [] and outbox(run.factory, "lead.assigned") == []
    with pytest.raises(Duplicate) as refused:
        create(SAM, {"name": "B", "email": "a@x.com", "phone": "021-5555"})
    assert [(m["lead"]["id"], m["matched"]) for m in refused.value.matches] == [
        (first["id"], ["email", "phone"])]
    again = create(SAM, {"name": "B", "email": "a@x.com", "allow_duplicate": True})
    assert [(d["id"], d["matched_on"]) for d in again["duplicates"]] == [(first["id"], ["email"])]
    assert create(SARA, {"name": "C", "phone": "+86 21 5555"})["duplicates"] == []
    with pytest.raises(NotFound):
        run(SARA, leads.get_lead, first["id"])
    with pytest.raises(Forbidden):
        run(SAM, leads.create_lead, run.customers, {"name": "x", "owner_id": SARA.user_id})
    assert run(SAM, leads.list_leads, {})["total"] == 2
    assert run(MARIA, leads.list_leads, {})["total"] == 2
    assert run(ALEX, leads.list_leads, {"q": "5555"})["total"] == 2
    assert run(ALEX, leads.list_leads, {"q": "Batch 5555 a"})["total"] == 0  # not a phone


def test_a_lead_matching_a_customer_is_refused_unless_allowed(run):
    """The customers service is asked (with the lead's company, email and phone) which of
    its customers the caller may see match; a lead without a company is not matched by its
    person's name."""
    existing = run.customers.add(name="Acme Co., Ltd.")
    with pytest.raises(Duplicate) as refused:
        run(SAM, leads.create_lead, run.customers, {"name": "Li Lei", "company": "ＡＣＭＥ 有限公司"})
    assert [(m["customer"]["id"], m["matched"]) for m in refused.value.matches] == [
        (existing, ["company"])]
    assert run.customers.asked[-1] == {"name": "ＡＣＭＥ 有限公司"}
    allowed = run(SAM, leads.create_lead, run.customers,
                  {"name": "Li Lei", "company": "Acme Ltd", "allow_duplicate": True})
    assert allowed["company"] == "Acme Ltd" and "allow_duplicate" not in allowed
    assert run(SAM, leads.create_lead, run.customers, {"name": "Acme"})["duplicates"] == []


def test_conversion_once_and_idempotent_after_a_failed_deal_step(run, monkeypatch):
    lead = run(SAM, leads.create_lead, run.customers,
               {"name": "Li Lei", "company": "Acme", "email": "l@a.cn", "province": "Zhejiang"})
    real_open_deal = deals.open_deal

    def failing(*args, **kwargs):
        raise RuntimeError("the deal step failed")

    monkeypatch.setattr(deals, "open_deal", failing)
    with pytest.raises(RuntimeError):
        run(SAM, leads.convert_lead, run.customers, lead["id"], {"deal": {"amount": "9"}})
    assert run(SAM, leads.get_lead, lead["id"])["status"] == "new"
    monkeypatch.setattr(deals, "open_deal", real_open_deal)

    result = run(SAM, leads.convert_lead, run.customers, lead["id"],
                 {"deal": {"amount": "9", "expected_close_date": TOMORROW}})
    assert len(run.customers.by_key) == 1
    (made,) = run.customers.by_key.values()
    assert result["customer_id"] == made["customer_id"]
    payload = run.customers.customers[made["customer_id"]]
    assert payload["name"] == "Acme" and payload["province"] == "Zhejiang"
    converted = run(SAM, leads.get_lead, lead["id"])
    assert converted["status"] == "converted" and converted["deal_id"] == result["deal_id"]
    new_deal = run(SAM, deals.get_deal, result["deal_id"])
    assert new_deal["title"] == "Acme" and new_deal["amount"] == "9.00"
    assert new_deal["owner_id"] == SAM.user_id and new_deal["lead_id"] == lead["id"]
    with pytest.raises(PreconditionFailed):
        run(SAM, leads.convert_lead, run.customers, lead["id"], {})
    with pytest.raises(PreconditionFailed):
        run(SAM, leads.update_lead, lead["id"], {"version": converted["version"], "name": "x"})
    assert len(run.customers.by_key) == 1
    assert_events_valid(run)


def test_a_manager_converts_a_team_leads_unless_its_owner_has_left(run):
    """The customer goes to the lead's owner: a manager converts a member's lead; once the
    owner is deactivated the conversion is refused with what to do, and nothing is made."""
    rep = member(run)
    kept = run(MARIA, leads.create_lead, run.customers, {"name": "Kept", "owner_id": rep})
    result = run(MARIA, leads.convert_lead, run.customers, kept["id"], {})
    made = run.customers.customers[result["customer_id"]]
    assert (made["owner_id"], made["team_id"]) == (rep, EAST)
    orphan = run(MARIA, leads.create_lead, run.customers, {"name": "Orphan", "owner_id": rep})
    handle(run, directory.apply_user, user_event(rep, team_id=EAST, version=2, active=False))
    with pytest.raises(PreconditionFailed) as refused:
        run(MARIA, leads.convert_lead, run.customers, orphan["id"], {})
    assert "reassign the lead first" in refused.value.message
    assert len(run.customers.by_key) == 1
    assert run(MARIA, leads.get_lead, orphan["id"])["status"] == "new"


def test_manager_reassigns_and_member_events_apply_only_when_newer(run):
    rep = member(run)
    handle(run, directory.apply_user, user_event(SAM.user_id, team_id=EAST))
    lead = run(MARIA, leads.create_lead, run.customers, {"name": "x", "owner_id": SAM.user_id})
    moved = run(MARIA, leads.update_lead, lead["id"], {"version": 1, "owner_id": rep})
    assert moved["owner_id"] == rep
    assigned = outbox(run.factory, "lead.assigned")[-1]["data"]
    assert (assigned["owner_id"], assigned["previous_owner_id"]) == (rep, SAM.user_id)
    west_rep = member(run, team=WEST)
    with pytest.raises(Forbidden):
        run(MARIA, leads.update_lead, lead["id"], {"version": 2, "owner_id": west_rep})
    handle(run, directory.apply_user, user_event(rep, team_id=WEST, version=3))
    handle(run, directory.apply_user, user_event(rep, team_id=EAST, version=2))  # older: ignored
    marias = run(MARIA, leads.create_lead, run.customers, {"name": "y"})
    with pytest.raises(Forbidden):  # the rep is in West now
        run(MARIA, leads.update_lead, marias["id"], {"version": 1, "owner_id": rep})


# -- quotes and contracts --------------------------------------------------------------------
def won_deal_with_lines(run):
    widget = product(run, price="100.00")
    item = deal(run, lines=[{"product_id": widget["id"], "quantity": "2", "discount": "0.25"}])
    return item


def test_quote_totals_numbering_and_acceptance(run):
    item = won_deal_with_lines(run)
    first = run(SAM, documents.create_quote, item["id"], {"tax_rate": "0.13", "valid_until": TOMORROW})
    year = dt.date.today().year
    assert first["number"] == f"Q-{year}-0001" and first["status"] == "draft"
    assert (first["subtotal"], first["discount_total"], first["tax"], first["total"]) == (
        "200.00", "50.00", "19.50", "169.50")
    second = run(SAM, documents.create_quote, item["id"], {"valid_until": TOMORROW})
    assert second["number"] == f"Q-{year}-0002"
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.update_quote, first["id"], {"version": 1, "status": "accepted"})
    sent = run(SAM, documents.update_quote, first["id"], {"version": 1, "status": "sent"})
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.update_quote, first["id"], {"version": sent["version"], "tax_rate": "0"})
    run(SAM, documents.update_quote, first["id"], {"version": sent["version"], "status": "accepted"})
    assert run(SAM, documents.get_quote, second["id"])["status"] == "rejected"
    with pytest.raises(NotFound):
        run(SARA, documents.get_quote, first["id"])
    types = [e["type"] for e in outbox(run.factory) if e["type"].startswith("quote.")]
    assert types == ["quote.created", "quote.created", "quote.sent", "quote.accepted",
                     "quote.rejected"]
    assert_events_valid(run)


def test_quote_needs_lines_and_expires(run):
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.create_quote, deal(run)["id"], {"valid_until": TOMORROW})
    with pytest.raises(ValidationError):
        run(SAM, documents.create_quote, won_deal_with_lines(run)["id"],
            {"valid_until": "2000-01-01"})
    quote = run(SAM, documents.create_quote, won_deal_with_lines(run)["id"],
                {"valid_until": TOMORROW})
    with run.factory() as session:
        from services.sales.models import Quote
        session.get(Quote, uuid.UUID(quote["id"])).valid_until = dt.date(2000, 1, 1)
        session.commit()
    assert run(SAM, documents.get_quote, quote["id"])["status"] == "expired"
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.update_quote, quote["id"], {"version": 2, "status": "sent"})
    assert run(SYSTEM, documents.expire_due) == 1
    assert outbox(run.factory, "quote.expired")[0]["entity_id"] == quote["id"]


def test_contracts_from_won_deals_or_directly(run):
    item = won_deal_with_lines(run)
    dates = {"start_date": "2026-01-01", "end_date": "2099-12-31"}
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.create_contract, run.customers, {"deal_id": item["id"], **dates})
    run(SAM, deals.move_stage, item["id"], {"stage": "won"})
    contract = run(SAM, documents.create_contract, run.customers, {"deal_id": item["id"], **dates})
    assert contract["number"].startswith("C-") and contract["amount"] == "150.00"
    assert contract["customer_id"] == item["customer_id"] and contract["owner_id"] == SAM.user_id
    with pytest.raises(ValidationError):
        run(SAM, documents.create_contract, run.customers,
            {"deal_id": item["id"], "start_date": "2026-02-01", "end_date": "2026-01-01"})
    with pytest.raises(ValidationError):
        run(SAM, documents.create_contract, run.customers,
            {"customer_id": run.customers.add(hidden=True), "amount": "1", **dates})
    direct = run(SAM, documents.create_contract, run.customers,
                 {"customer_id": run.customers.add(), "amount": "1", **dates})
    assert direct["deal_id"] is None and direct["status"] == "active"
    ended = run(SAM, documents.update_contract, direct["id"], {"version": 1, "status": "terminated"})
    assert ended["status"] == "terminated"
    with pytest.raises(PreconditionFailed):
        run(SAM, documents.update_contract, direct["id"], {"version": 2, "amount": "2"})
    with pytest.raises(NotFound):
        run(SARA, documents.get_contract, contract["id"])
    assert run(ALEX, documents.list_contracts, {})["total"] == 2
    assert_events_valid(run)


# -- found in review ---------------------------------------------------------------------------
def test_a_deal_created_won_without_an_amount_is_refused_not_crashed(run):
    with pytest.raises(PreconditionFailed):
        deal(run, stage="won")


def test_totals_the_money_columns_cannot_hold_are_refused(run):
    dear = product(run, price="999999999999.00")
    with pytest.raises(ValidationError) as error:
        deal(run, lines=[{"product_id": dear["id"], "quantity": "100000000", "discount": "0"}])
    assert "lines" in error.value.details


def test_a_manager_assigns_deals_only_within_the_team(run):
    east_rep, west_rep = member(run), member(run, team=WEST)
    assert deal(run, actor=MARIA, owner_id=east_rep)["owner_id"] == east_rep
    with pytest.raises(Forbidden):
        deal(run, actor=MARIA, owner_id=west_rep)
