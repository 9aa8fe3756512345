"""Reports over a small story told in events, checked against figures worked out by hand."""
import uuid

from common.actor import Actor
from tests.reports import events as ev
from tests.reports.conftest import at

EAST, WEST = uuid.uuid4(), uuid.uuid4()
SAM, SUE, SARA, MARIA = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
LAPTOP, SUPPORT = uuid.uuid4(), uuid.uuid4()
NOW = at("2026-06-30T12:00:00")


def story(read_model):
    """East: Sam and Sue (reps), Maria (manager); West: Sara. Two products."""
    read_model.apply(ev.pipeline(), ev.team(EAST, "East"), ev.team(WEST, "West"),
                     ev.user(SAM, "Sam", EAST), ev.user(SUE, "Sue", EAST),
                     ev.user(SARA, "Sara", WEST), ev.user(MARIA, "Maria", EAST, "manager"),
                     ev.product(LAPTOP, "Laptop"), ev.product(SUPPORT, "Support"))
    hangzhou = ev.Customer(SAM, EAST, at("2026-01-02T00:00:00"), name="Acme",
                           province="Zhejiang", city="Hangzhou", industry="Retail", tier="A")
    shanghai = ev.Customer(SUE, EAST, at("2026-01-03T00:00:00"), name="Bolt",
                           province="Shanghai", city="Shanghai", industry="Energy", tier="B")
    chengdu = ev.Customer(SARA, WEST, at("2026-01-04T00:00:00"), name="Chen",
                          province="Sichuan", city="Chengdu", industry="Retail", tier="A")
    read_model.apply(hangzhou.created(), shanghai.created(), chengdu.created())
    # Sam: a deal with two lines, won on 31 January at 23:30 UTC (1 February in Shanghai).
    d1 = ev.Deal(hangzhou, SAM, EAST, at("2026-01-10T09:00:00"), lines=[
        ev.line(LAPTOP, 2, "1000.00", "0.10"), ev.line(SUPPORT, 1, "500.00")])
    read_model.apply(d1.created(), d1.move("proposal", at("2026-01-20T00:00:00")),
                     d1.move("won", at("2026-01-31T23:30:00")))
    # Sue: lost from needs analysis in March.
    d2 = ev.Deal(shanghai, SUE, EAST, at("2026-02-01T00:00:00"), amount="3000.00")
    read_model.apply(d2.created(), d2.move("needs_analysis", at("2026-02-10T00:00:00")),
                     d2.move("lost", at("2026-03-03T00:00:00")))
    # Sara: won in March (laptops only), and one open in negotiation closing in August.
    d3 = ev.Deal(chengdu, SARA, WEST, at("2026-02-15T00:00:00"),
                 lines=[ev.line(LAPTOP, 1, "1200.00")])
    d4 = ev.Deal(chengdu, SARA, WEST, at("2026-03-01T00:00:00"), amount="4000.00",
                 expected_close_date="2026-08-15")
    read_model.apply(d3.created(), d3.move("won", at("2026-03-05T00:00:00")),
                     d4.created(), d4.move("negotiation", at("2026-04-01T00:00:00")))
    # A deal in another currency never adds to CNY figures.
    d5 = ev.Deal(chengdu, SARA, WEST, at("2026-03-01T00:00:00"), amount="999.00",
                 currency="USD")
    read_model.apply(d5.created(), d5.move("won", at("2026-03-02T00:00:00")))
    read_model.apply(
        ev.activity(hangzhou, SAM, "call", at("2026-06-20T10:00:00"), d1.id),
        ev.activity(hangzhou, SAM, "visit", at("2026-06-21T10:00:00")),
        ev.activity(shanghai, SUE, "call", at("2026-04-01T10:00:00")),
        ev.contact(shanghai, "Li Lei", "+86 21 5555 0000"))
    return {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "hangzhou": hangzhou,
            "shanghai": shanghai, "chengdu": chengdu}


def rows(answer, *keys):
    return [tuple(row[key] for key in keys) for row in answer["rows"]]


def test_funnel_counts_stages_reached_and_win_rate(read_model):
    story(read_model)
    answer = read_model.report("funnel", now=NOW, from_="2026-01-01", to="2026-06-30")
    assert answer["filters"] == {"from": "2026-01-01", "to": "2026-06-30", "currency": "CNY"}
    assert rows(answer, "stage", "count", "amount", "weighted_amount", "reached",
                "conversion_rate") == [
        ("qualification", 0, "0.00", "0.00", 4, "1.0000"),
        ("needs_analysis", 0, "0.00", "0.00", 4, "0.7500"),
        ("proposal", 0, "0.00", "0.00", 3, "1.0000"),
        ("negotiation", 1, "4000.00", "3000.00", 3, "0.6667"),
        ("won", 2, "3500.00", "3500.00", 2, None),
        ("lost", 1, "3000.00", "0.00", 1, None),
    ]
    assert answer["totals"]["won"] == 2 and answer["totals"]["lost"] == 1
    assert answer["totals"]["win_rate"] == "0.6667"
    assert answer["totals"]["amount"] == "10500.00"


def test_revenue_by_month_and_region_in_shanghai_time(read_model, monkeypatch):
    story(read_model)
    monkeypatch.setenv("CRM_BUSINESS_TZ", "Asia/Shanghai")
    answer = read_model.report("revenue", now=NOW, from_="2026-01-01", to="2026-03-31",
                               group_by="region")
    assert answer["time_zone"] == "Asia/Shanghai"
    assert rows(answer, "period", "region", "won_amount", "won_count") == [
        ("2026-02", "Zhejiang", "2300.00", 1), ("2026-03", "Sichuan", "1200.00", 1)]
    monkeypatch.setenv("CRM_BUSINESS_TZ", "UTC")
    answer = read_model.report("revenue", now=NOW, from_="2026-01-01", to="2026-03-31")
    assert rows(answer, "period", "won_amount", "won_count") == [
        ("2026-01", "2300.00", 1), ("2026-02", "0.00", 0), ("2026-03", "1200.00", 1)]
    assert answer["totals"] == {"won_amount": "3500.00", "won_count": 2}


def test_revenue_by_product_adds_up_to_the_deals(read_model):
    story(read_model)
    answer = read_model.report("revenue", now=NOW, from_="2026-01-01", to="2026-03-31",
                               period="quarter", group_by="product")
    assert rows(answer, "period", "product", "won_amount", "won_count") == [
        ("2026-Q1", "Laptop", "3000.00", 2), ("2026-Q1", "Support", "500.00", 1)]
    only = read_model.report("revenue", now=NOW, from_="2026-01-01", to="2026-03-31",
                             period="quarter", product_id=str(SUPPORT))
    assert rows(only, "won_amount", "won_count") == [("500.00", 1)]


def test_win_rate_sales_cycle_and_leaderboard(read_model):
    story(read_model)
    win = read_model.report("win-rate", now=NOW, from_="2026-01-01", to="2026-06-30",
                            group_by="team")
    assert rows(win, "team", "won", "lost", "win_rate") == [
        ("East", 1, 1, "0.5000"), ("West", 1, 0, "1.0000")]
    cycle = read_model.report("sales-cycle", now=NOW, from_="2026-01-01", to="2026-06-30")
    assert rows(cycle, "outcome", "count", "median_days") == [("won", 2, "19.8"),
                                                               ("lost", 1, "30.0")]
    board = read_model.report("leaderboard", now=NOW, from_="2026-01-01", to="2026-06-30")
    assert rows(board, "rank", "owner", "won_amount", "won_count", "open_pipeline",
                "activities") == [
        (1, "Sam", "2300.00", 1, "0.00", 2), (2, "Sara", "1200.00", 1, "4000.00", 0),
        (3, "Sue", "0.00", 0, "0.00", 1)]


def test_scope_a_rep_sees_only_their_own_numbers(read_model):
    story(read_model)
    sam = Actor(user_id=str(SAM), role="sales", team_id=str(EAST))
    theirs = read_model.report("revenue", actor=sam, now=NOW, from_="2026-01-01",
                               to="2026-06-30", period="year", owner_id=str(SARA))
    assert theirs["totals"] == {"won_amount": "0.00", "won_count": 0}
    maria = Actor(user_id=str(MARIA), role="manager", team_id=str(EAST))
    team = read_model.report("win-rate", actor=maria, now=NOW, from_="2026-01-01",
                             to="2026-06-30")
    assert rows(team, "owner", "won", "lost") == [("Sam", 1, 0), ("Sue", 0, 1)]


def test_activities_and_dormant_customers(read_model):
    told = story(read_model)
    answer = read_model.report("activities", now=NOW, from_="2026-04-01", to="2026-06-30")
    assert rows(answer, "period", "user", "type", "count") == [
        ("2026-04", "Sue", "call", 1), ("2026-06", "Sam", "call", 1),
        ("2026-06", "Sam", "visit", 1)]
    assert answer["totals"] == {"call": 2, "visit": 1, "all": 3}
    dormant = read_model.report("dormant-customers", now=NOW, days=30)
    assert rows(dormant, "customer", "owner", "days_since", "primary_contact") == [
        ("Chen", "Sara", 177, None), ("Bolt", "Sue", 90, "Li Lei")]
    assert dormant["filters"] == {"to": "2026-06-30", "currency": "CNY", "days": 30,
                                  "limit": 500}
    read_model.apply(told["chengdu"].deleted(at("2026-06-01T00:00:00")))
    dormant = read_model.report("dormant-customers", now=NOW, days=30)
    assert rows(dormant, "customer") == [("Bolt",)]


def test_forecast_pipeline_and_trend(read_model):
    story(read_model)
    answer = read_model.report("forecast", now=NOW, from_="2026-01-01", to="2026-03-31")
    pipeline = [row for row in answer["rows"] if row["kind"] == "pipeline"]
    assert [(r["period"], r["count"], r["amount"], r["weighted_amount"]) for r in pipeline] == [
        ("2026-08", 1, "4000.00", "3000.00")]
    trend = [(row["period"], row["amount"]) for row in answer["rows"] if row["kind"] == "trend"]
    # history 2300, 0, 1200: slope -550, intercept 1716.67; next 66.67, 0, 0
    assert trend == [("2026-04", "66.67"), ("2026-05", "0.00"), ("2026-06", "0.00")]
    assert answer["method"]["inputs"] == [{"period": "2026-01", "won_amount": "2300.00"},
                                          {"period": "2026-02", "won_amount": "0.00"},
                                          {"period": "2026-03", "won_amount": "1200.00"}]


def test_events_twice_and_out_of_order_change_nothing(read_model):
    told = story(read_model)
    before = read_model.report("funnel", now=NOW, from_="2026-01-01", to="2026-06-30")
    d1 = told["d1"]
    stale = d1.state.copy()
    read_model.apply(ev.envelope("sales", "deal.updated", {**stale, "status": "open",
                                                           "stage": "proposal"}, 2))
    customer = told["chengdu"]
    gone = customer.deleted(at("2026-06-01T00:00:00"))
    read_model.apply(gone, ev.envelope("customers", "customer.created",
                                       {**customer.state, "deleted_at": None}, 1))
    after = read_model.report("funnel", now=NOW, from_="2026-01-01", to="2026-06-30")
    assert after["totals"]["won"] == before["totals"]["won"] - 1  # Sara's won deal: trashed
    # The stale update of Sam's deal did not reopen it; Sara's deals left with her customer.
    assert rows(after, "stage", "count", "reached")[-2:] == [("won", 1, 1), ("lost", 1, 1)]
    assert after["rows"][0]["reached"] == 2


def test_leads_in_a_region_by_their_top_level_place(read_model):
    """A lead's country, province and city are top-level in its events, as a customer's; an
    event published before they were (nested under ``region``) still places its lead."""
    read_model.apply(ev.pipeline(), ev.team(EAST, "East"), ev.user(SAM, "Sam", EAST))
    hangzhou = ev.Lead(SAM, EAST, at("2026-02-01T00:00:00"), country="China",
                       province="Zhejiang", city="Hangzhou")
    chengdu = ev.Lead(SAM, EAST, at("2026-02-02T00:00:00"), province="Sichuan", city="Chengdu")
    earlier = ev.Lead(SAM, EAST, at("2026-02-03T00:00:00"))
    nested = {key: value for key, value in earlier.created()["data"].items()
              if key not in ("country", "province", "city")}
    nested["region"] = {"country": "China", "province": "Zhejiang", "city": "Ningbo"}
    read_model.apply(hangzhou.created(), hangzhou.converted(at("2026-03-01T00:00:00")),
                     chengdu.created(), ev.envelope("sales", "lead.created", nested, 1))

    def leads(**region):
        totals = read_model.report("funnel", now=NOW, from_="2026-01-01", to="2026-06-30",
                                   **region)["totals"]
        return totals["leads"], totals["leads_converted"]

    assert leads() == (3, 1)
    assert leads(region="zhejiang") == (2, 1)
    assert leads(region="Chengdu") == (1, 0)
    assert leads(region="Ningbo") == (1, 0)


def test_per_product_of_one_product(read_model):
    story(read_model)
    for name, extra in (("revenue", {"period": "year"}), ("win-rate", {}), ("sales-cycle", {})):
        answer = read_model.report(name, now=NOW, from_="2026-01-01", to="2026-06-30",
                                   group_by="product", product_id=str(LAPTOP), **extra)
        assert [row["product"] for row in answer["rows"]] == ["Laptop"], name
    revenue = read_model.report("revenue", now=NOW, from_="2026-01-01", to="2026-06-30",
                                period="year", group_by="product", product_id=str(LAPTOP))
    assert rows(revenue, "won_amount", "won_count") == [("3000.00", 2)]


def test_a_merge_reaches_the_reports_through_the_events_it_comes_with(read_model):
    """``customer.merged`` itself changes nothing here (first, or twice); the moved contacts
    and follow-ups, the kept customer's update, the trashed one's deletion and sales' re-pointed
    deals carry the merge into every report."""
    told = story(read_model)
    kept, gone, lost = told["hangzhou"], told["shanghai"], told["d2"]
    def funnel():
        answer = read_model.report("funnel", now=NOW, from_="2026-01-01", to="2026-06-30")
        return answer["totals"], answer["rows"]

    before = funnel()
    call = ev.activity(gone, SUE, "call", at("2026-05-01T10:00:00"))
    read_model.apply(call)
    merged = ev.envelope("customers", "customer.merged", {
        "into_id": kept.id, "from_id": gone.id, "from_version": gone.state["version"] + 1},
        kept.state["version"] + 1)
    merged["entity_id"] = kept.id
    read_model.apply(merged, merged)
    assert funnel() == before

    moved = ev.envelope("customers", "activity.updated", {
        **call["data"], "customer_id": kept.id, "version": 2,
        "customer_name": kept.state["name"], "owner_id": kept.state["owner_id"]}, 2)
    read_model.apply(moved, kept.event("customer.updated"),
                     gone.deleted(at("2026-06-30T00:00:00")),
                     lost.update(customer_id=kept.id))
    assert funnel() == before  # Sue's lost deal counts on, now the kept customer's
    dormant = read_model.report("dormant-customers", now=NOW, days=30)
    assert rows(dormant, "customer") == [("Chen",)]
    activities = read_model.report("activities", now=NOW, from_="2026-05-01", to="2026-05-31")
    assert rows(activities, "user", "type", "count") == [("Sue", "call", 1)]
