"""The reports, each a plain function of a read-model session and a :class:`ReportQuery`.

The rules every report shares, in one place:

- **Scope**: a rep counts their own records, a manager their team's (and their own), admins,
  analysts and API keys everything (``common.records.visible``); a filter outside one's scope
  finds nothing rather than others' numbers.
- **The trash**: records of a customer in the trash count nowhere until it is restored.
- **Money**: one currency per answer; with ``product_id`` a deal counts only when it has a
  line of that product, and its money is those lines' amount (after discount).
- **Won and lost** are counted when they closed (``closed_at``) within the range; the funnel's
  stages follow the deals created within it.

Each report returns ``(columns, rows, totals, extra)``; ``run`` wraps them in the one shape
every report answers.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import sqlalchemy as sa

from common.db import UTCDateTime
from common.records import visible
from services.reports import forecast as trend
from services.reports import periods as calendar
from services.reports.models import LIVE
from services.reports.query import ReportQuery

M = LIVE
WON, LOST = "won", "lost"
CENT, RATE = Decimal("0.01"), Decimal("0.0001")
NONE_LABEL = "(none)"


# -- values ----------------------------------------------------------------------------------
def exact(value) -> Decimal:
    """A figure as a decimal: a fraction exactly (to 60 digits), a float from the database by
    its shortest form (``30.65``, not ``30.649999...``), anything else as it is."""
    if isinstance(value, Fraction):
        with localcontext() as context:
            context.prec = 60
            return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value or 0)


def rounded(value, step: Decimal) -> Decimal:
    """Half up to ``step``; a figure that rounds to zero is zero, never ``-0.00``."""
    result = exact(value).quantize(step, rounding=ROUND_HALF_UP)
    return result.copy_abs() if result == 0 else result


def money(value) -> str:
    return str(rounded(value, CENT))


def ratio(part, whole) -> str | None:
    return str(rounded(Fraction(part) / Fraction(whole), RATE)) if whole else None


def days(value) -> str | None:
    return None if value is None else str(rounded(value, Decimal("0.1")))


def column(key: str, label: str, kind: str) -> dict:
    return {"key": key, "label": label, "type": kind}


# -- what every deal query shares ------------------------------------------------------------
# A deal's customer, as the conditions on it see it: its own alias, so a query needs no join
# with the customers unless it groups by one of their columns (a join costs a pass over all
# of them; an EXISTS a look-up by key).
DEAL_CUSTOMER = M.customers.alias("deal_customer")


def deal_in_trash():
    """The deal's customer is in the trash (a customer not known yet is not)."""
    return sa.exists().where(DEAL_CUSTOMER.c.id == M.deals.c.customer_id,
                             DEAL_CUSTOMER.c.deleted)


def deal_in_region(q: ReportQuery):
    return sa.exists().where(DEAL_CUSTOMER.c.id == M.deals.c.customer_id,
                             region_matches(q, DEAL_CUSTOMER))


def region_matches(q: ReportQuery, table):
    wanted = q.region.lower()
    return sa.or_(*[sa.func.lower(table.c[level]) == wanted
                    for level in ("country", "province", "city")])


def scoped(q: ReportQuery, select, table):
    """``select`` restricted to the caller's scope and the owner and team filters, by the
    ``owner_id`` and ``team_id`` of ``table``."""
    select = visible(q.actor, select, table.c)
    if q.owner_id:
        select = select.where(table.c.owner_id == q.owner_id)
    if q.team_id:
        select = select.where(table.c.team_id == q.team_id)
    return select


# The filtered product's lines, as a subquery sees them: an alias of its own, so that it
# correlates with the outer deal even where the outer query joins the lines too.
PRODUCT_LINES = M.deal_lines.alias("product_lines")


def product_lines(q: ReportQuery, deal_id=M.deals.c.id):
    """Conditions on :data:`PRODUCT_LINES`: the filtered product's lines of the deal."""
    return sa.and_(PRODUCT_LINES.c.deal_id == deal_id, PRODUCT_LINES.c.product_id == q.product_id)


def deal_money(q: ReportQuery):
    """A deal's money: its amount, or with ``product_id`` its lines of that product."""
    if q.product_id is None:
        return M.deals.c.amount
    return (sa.select(sa.func.coalesce(sa.func.sum(PRODUCT_LINES.c.amount), 0))
            .where(product_lines(q)).scalar_subquery())


def deal_filters(q: ReportQuery, select):
    """Scope, currency, trash, region and product conditions on a select over deals."""
    select = scoped(q, select, M.deals).where(M.deals.c.currency == q.currency,
                                              sa.not_(deal_in_trash()))
    if q.region:
        select = select.where(deal_in_region(q))
    if q.product_id:
        select = select.where(sa.exists().where(product_lines(q)))
    return select


def closed_within(q: ReportQuery, select, status: str | None = None):
    statuses = (status,) if status else (WON, LOST)
    return select.where(M.deals.c.status.in_(statuses), M.deals.c.closed_at >= q.start,
                        M.deals.c.closed_at < q.end)


# -- grouping --------------------------------------------------------------------------------
GROUP_LABELS = {"owner": "Owner", "team": "Team", "region": "Region", "product": "Product",
                "industry": "Industry", "tier": "Tier"}
ID_GROUPS = ("owner", "team", "product")
CUSTOMER_GROUPS = ("region", "industry", "tier")


def group_expression(q: ReportQuery, group_by: str):
    """The SQL value a deal is grouped by (with ``product``: its line's product)."""
    if group_by == "owner":
        return M.deals.c.owner_id
    if group_by == "team":
        return M.deals.c.team_id
    if group_by == "region":
        return M.customers.c[q.option("region_level") or "province"]
    if group_by == "product":
        return M.deal_lines.c.product_id
    return M.customers.c[group_by]


def grouped_deals(q: ReportQuery, group_by: str | None):
    """The FROM clause of a deal query grouped by ``group_by``: with ``product`` each of a
    deal's lines (of the filtered product, if any) is its own row, and a deal without lines
    one row of no product."""
    if group_by in CUSTOMER_GROUPS:
        return M.deals.outerjoin(M.customers, M.customers.c.id == M.deals.c.customer_id)
    if group_by != "product":
        return M.deals
    joined = M.deals
    condition = M.deal_lines.c.deal_id == M.deals.c.id
    if q.product_id:
        condition = sa.and_(condition, M.deal_lines.c.product_id == q.product_id)
    return joined.outerjoin(M.deal_lines, condition)


def grouped_money(q: ReportQuery, group_by: str | None):
    if group_by == "product":
        return sa.func.coalesce(M.deal_lines.c.amount, M.deals.c.amount)
    return deal_money(q)


def group_labels(session, group_by: str, keys) -> dict:
    """Readable names of group keys: users, teams and products by id; values as they are."""
    keys = {key for key in keys if key is not None}
    if group_by not in ID_GROUPS or not keys:
        return {key: str(key) for key in keys}
    if group_by == "owner":
        table, name = M.users, sa.func.coalesce(M.users.c.display_name, M.users.c.username)
    elif group_by == "team":
        table, name = M.teams, M.teams.c.name
    else:
        table, name = M.products, M.products.c.name
    found = dict(session.execute(sa.select(table.c.id, name).where(table.c.id.in_(keys))).all())
    return {key: found.get(key) or str(key) for key in keys}


def group_columns(group_by: str | None) -> list[dict]:
    if group_by is None:
        return []
    label = column(group_by, GROUP_LABELS[group_by], "string")
    if group_by in ID_GROUPS:
        return [column(f"{group_by}_id", f"{GROUP_LABELS[group_by]} id", "id"), label]
    return [label]


def group_cells(group_by: str | None, key, labels: dict) -> dict:
    if group_by is None:
        return {}
    cells = {group_by: labels.get(key, NONE_LABEL) if key is not None else NONE_LABEL}
    if group_by in ID_GROUPS:
        cells[f"{group_by}_id"] = str(key) if key is not None else None
    return cells


def group_sort_key(cells: dict, group_by: str | None):
    return "" if group_by is None else (cells[group_by] == NONE_LABEL, cells[group_by])


def period_of(instant, spans: list[calendar.Period]):
    """The label of the period ``instant`` falls in, as SQL: a balanced tree of comparisons
    with the periods' boundaries (a few per row even for a year of days), the same on every
    database. Instants outside the periods are the caller's to filter out."""
    if len(spans) == 1:
        return sa.literal(spans[0].label, sa.String)
    middle = len(spans) // 2
    return sa.case((instant < sa.literal(spans[middle].start, UTCDateTime),
                    period_of(instant, spans[:middle])),
                   else_=period_of(instant, spans[middle:]))


# Grouping by the output column ``period`` (a period's label is a constant when there is one
# period, and a constant cannot be grouped by).
BY_PERIOD = sa.literal_column("period")


def distinct_deals(group_by: str | None):
    """How many deals a group has: with ``product`` a deal may be on several of its rows."""
    return sa.func.count(sa.distinct(M.deals.c.id)) if group_by == "product" else sa.func.count()


# -- funnel ----------------------------------------------------------------------------------
def pipeline(session) -> list:
    return session.execute(sa.select(M.stages).order_by(M.stages.c.position)).all()


def funnel(session, q: ReportQuery):
    stages = pipeline(session)
    open_stages = [stage for stage in stages if stage.key not in (WON, LOST)]
    amount = deal_money(q)
    cohort = deal_filters(q, sa.select(M.deals.c.id).select_from(M.deals).where(
        M.deals.c.created_at >= q.start, M.deals.c.created_at < q.end))

    # How far each deal got: an open stage is reached by a deal that has been in it or in a
    # later one (pipeline order), or was ever won; won and lost by those ever in them. One
    # pass over the cohort, per current stage; the stage sums give the cohort's figures.
    position = {stage.key: index for index, stage in enumerate(open_stages)}
    past_all = len(open_stages)
    been_in = {key: M.deals.c.stages.contains(f",{key},", autoescape=True)
               for key in [*position, WON, LOST]}
    reached_columns = [
        sa.func.count().filter(sa.or_(*[been_in[key.key] for key in open_stages[index:]],
                                      been_in[WON])).label(f"reached_{index}")
        for index in range(past_all)]
    found = session.execute(cohort.with_only_columns(
        M.deals.c.stage, sa.func.count().label("count"),
        sa.func.coalesce(sa.func.sum(amount), 0).label("amount"),
        sa.func.coalesce(sa.func.sum(amount * M.deals.c.probability), 0).label("weighted"),
        *reached_columns,
        sa.func.count().filter(been_in[WON]).label("reached_won"),
        sa.func.count().filter(been_in[LOST]).label("reached_lost"))
        .group_by(M.deals.c.stage)).all()
    current = {row.stage: row for row in found}
    reached = {stage.key: sum(row._mapping[f"reached_{index}"] for row in found)
               for index, stage in enumerate(open_stages)}
    reached[WON] = sum(row.reached_won for row in found)
    reached[LOST] = sum(row.reached_lost for row in found)

    rows, totals = [], {"count": 0, "amount": Decimal(0), "weighted_amount": Decimal(0)}
    for index, stage in enumerate(stages):
        here = current.get(stage.key)
        count, value = (here.count, Decimal(here.amount)) if here else (0, Decimal(0))
        weighted = Decimal(here.weighted) / 100 if here else Decimal(0)
        following = (open_stages[position[stage.key] + 1].key
                     if stage.key in position and position[stage.key] + 1 < past_all else WON)
        rows.append({
            "stage": stage.key, "stage_name": stage.name, "probability": stage.probability,
            "count": count, "amount": money(value), "weighted_amount": money(weighted),
            "reached": reached.get(stage.key, 0),
            "conversion_rate": (ratio(reached[following], reached[stage.key])
                                if stage.key in position else None),
        })
        totals["count"] += count
        totals["amount"] += value
        totals["weighted_amount"] += weighted

    won, lost = closed_counts(session, q)
    leads = lead_counts(session, q)
    totals = {"count": totals["count"], "amount": money(totals["amount"]),
              "weighted_amount": money(totals["weighted_amount"]), "won": won, "lost": lost,
              "win_rate": ratio(won, won + lost), **leads}
    columns = [column("stage", "Stage key", "string"), column("stage_name", "Stage", "string"),
               column("probability", "Probability %", "integer"),
               column("count", "Deals now", "integer"), column("amount", "Amount", "money"),
               column("weighted_amount", "Weighted amount", "money"),
               column("reached", "Reached", "integer"),
               column("conversion_rate", "Conversion to next", "rate")]
    return columns, rows, totals, {}


def closed_counts(session, q: ReportQuery) -> tuple[int, int]:
    """How many deals were won and lost within the range."""
    closed = dict(session.execute(closed_within(q, deal_filters(q, sa.select(
        M.deals.c.status, sa.func.count()).select_from(M.deals)))
        .group_by(M.deals.c.status)).all())
    return closed.get(WON, 0), closed.get(LOST, 0)


def lead_counts(session, q: ReportQuery) -> dict:
    """Leads captured within the range and how many of them became customers."""
    leads = M.leads
    select = scoped(q, sa.select(sa.func.count(), sa.func.count(leads.c.converted_at))
                    .where(leads.c.created_at >= q.start, leads.c.created_at < q.end), leads)
    if q.region:
        select = select.where(region_matches(q, leads))
    captured, converted = session.execute(select).one()
    return {"leads": captured, "leads_converted": converted,
            "lead_conversion_rate": ratio(converted, captured)}


# -- revenue ---------------------------------------------------------------------------------
def revenue(session, q: ReportQuery):
    group_by, period = q.option("group_by"), q.option("period")
    spans = calendar.periods(q.first_day, q.last_day, period, q.tz)
    period_label = period_of(M.deals.c.closed_at, spans)
    key = group_expression(q, group_by) if group_by else sa.null()
    select = closed_within(q, deal_filters(q, sa.select(
        period_label.label("period"), key.label("key"),
        sa.func.coalesce(sa.func.sum(grouped_money(q, group_by)), 0).label("amount"),
        distinct_deals(group_by).label("count"))
        .select_from(grouped_deals(q, group_by))), WON).group_by(
        BY_PERIOD, *([key] if group_by else []))
    found = session.execute(select).all()
    labels = group_labels(session, group_by, [row.key for row in found]) if group_by else {}
    rows = []
    if group_by is None:
        by_period = {row.period: row for row in found}
        for span in spans:
            row = by_period.get(span.label)
            rows.append({"period": span.label, "won_amount": money(row.amount if row else 0),
                         "won_count": row.count if row else 0})
    else:
        order = {span.label: index for index, span in enumerate(spans)}
        for row in found:
            rows.append({"period": row.period, **group_cells(group_by, row.key, labels),
                         "won_amount": money(row.amount), "won_count": row.count})
        rows.sort(key=lambda row: (order[row["period"]], group_sort_key(row, group_by)))
    # Each won deal is on one row, except per product (a deal on several products' rows).
    totals = (won_totals(session, q) if group_by == "product" else
              {"won_amount": money(sum((Decimal(row.amount) for row in found), Decimal(0))),
               "won_count": sum(row.count for row in found)})
    columns = [column("period", "Period", "string"), *group_columns(group_by),
               column("won_amount", "Won amount", "money"),
               column("won_count", "Deals won", "integer")]
    return columns, rows, totals, {}


def won_totals(session, q: ReportQuery) -> dict:
    amount, count = session.execute(closed_within(q, deal_filters(q, sa.select(
        sa.func.coalesce(sa.func.sum(deal_money(q)), 0), sa.func.count())
        .select_from(M.deals)), WON)).one()
    return {"won_amount": money(amount), "won_count": count}


# -- win rate --------------------------------------------------------------------------------
def win_rate(session, q: ReportQuery):
    group_by = q.option("group_by")
    key = group_expression(q, group_by)
    select = closed_within(q, deal_filters(q, sa.select(
        key.label("key"),
        distinct_deals(group_by).filter(M.deals.c.status == WON).label("won"),
        distinct_deals(group_by).filter(M.deals.c.status == LOST).label("lost"))
        .select_from(grouped_deals(q, group_by)))).group_by(key)
    found = session.execute(select).all()
    labels = group_labels(session, group_by, [row.key for row in found])
    rows = sorted(({**group_cells(group_by, row.key, labels), "won": row.won, "lost": row.lost,
                    "win_rate": ratio(row.won, row.won + row.lost)} for row in found),
                  key=lambda row: group_sort_key(row, group_by))
    if group_by == "product":  # a deal may be on several products' rows
        won, lost = closed_counts(session, q)
    else:
        won, lost = sum(row.won for row in found), sum(row.lost for row in found)
    columns = [*group_columns(group_by), column("won", "Won", "integer"),
               column("lost", "Lost", "integer"), column("win_rate", "Win rate", "rate")]
    return columns, rows, {"won": won, "lost": lost, "win_rate": ratio(won, won + lost)}, {}


# -- sales cycle -----------------------------------------------------------------------------
def sales_cycle(session, q: ReportQuery):
    group_by = q.option("group_by")
    key = group_expression(q, group_by) if group_by else sa.null()
    closed = closed_within(q, deal_filters(q, sa.select(
        key.label("key"), M.deals.c.id, M.deals.c.status.label("outcome"),
        M.deals.c.created_at, M.deals.c.closed_at)
        .select_from(grouped_deals(q, group_by))))
    if group_by == "product":  # a deal with two lines of one product is one deal
        closed = closed.distinct()
    figures = (cycle_figures_in_sql if session.get_bind().dialect.name == "postgresql"
               else cycle_figures_in_python)
    groups, totals = figures(session, closed.subquery(), group_by == "product")
    labels = group_labels(session, group_by, [key for key, _ in groups]) if group_by else {}
    rows = sorted(({**group_cells(group_by, key, labels), "outcome": outcome, **figure}
                   for (key, outcome), figure in groups.items()),
                  key=lambda row: (group_sort_key(row, group_by), row["outcome"] != WON))
    empty = {"count": 0, "median_days": None, "mean_days": None}
    columns = [*group_columns(group_by), column("outcome", "Outcome", "string"),
               column("count", "Deals", "integer"),
               column("median_days", "Median days", "number"),
               column("mean_days", "Mean days", "number")]
    return columns, rows, {outcome: totals.get(outcome, empty) for outcome in (WON, LOST)}, {}


MICROSECOND = dt.timedelta(microseconds=1)
DAY_IN_MICROSECONDS = 86_400_000_000


def cycle_figure(count, median, mean) -> dict:
    return {"count": count, "median_days": days(median), "mean_days": days(mean)}


def cycle_figures_in_sql(session, closed, deal_on_several_rows: bool):
    """Medians by the database (PostgreSQL's ``percentile_cont``): per (group, outcome), and
    per outcome over the deals, in one pass (grouping sets) where each deal is one row."""

    def figures(source, *by):
        seconds = sa.extract("epoch", source.c.closed_at - source.c.created_at)
        return sa.select(*by, sa.func.count(),
                         sa.func.percentile_cont(0.5).within_group(seconds) / 86400,
                         sa.func.avg(seconds) / 86400)

    if not deal_on_several_rows:
        groups, totals = {}, {}
        for key, outcome, overall, *figure in session.execute(figures(
                closed, closed.c.key, closed.c.outcome, sa.func.grouping(closed.c.key))
                .group_by(sa.func.grouping_sets(sa.tuple_(closed.c.key, closed.c.outcome),
                                                sa.tuple_(closed.c.outcome)))):
            if overall:
                totals[outcome] = cycle_figure(*figure)
            else:
                groups[(key, outcome)] = cycle_figure(*figure)
        return groups, totals
    groups = {(key, outcome): cycle_figure(*figure) for key, outcome, *figure in session.execute(
        figures(closed, closed.c.key, closed.c.outcome).group_by(closed.c.key, closed.c.outcome))}
    deals = sa.select(closed.c.id, closed.c.outcome, closed.c.created_at,
                      closed.c.closed_at).distinct().subquery()
    totals = {outcome: cycle_figure(*figure) for outcome, *figure in session.execute(
        figures(deals, deals.c.outcome).group_by(deals.c.outcome))}
    return groups, totals


def cycle_figures_in_python(session, closed, _deal_on_several_rows: bool):
    """The same figures computed here (SQLite has no median)."""
    lengths, per_deal = defaultdict(list), {}
    for row in session.execute(sa.select(closed)):
        length = Fraction((row.closed_at - row.created_at) // MICROSECOND, DAY_IN_MICROSECONDS)
        lengths[(row.key, row.outcome)].append(length)
        per_deal[(row.id, row.outcome)] = length
    groups = {group: cycle_figure(len(found), statistics.median(found), statistics.mean(found))
              for group, found in lengths.items()}
    totals = {}
    for outcome in (WON, LOST):
        found = [length for (_, status), length in per_deal.items() if status == outcome]
        if found:
            totals[outcome] = cycle_figure(len(found), statistics.median(found),
                                           statistics.mean(found))
    return groups, totals


# -- leaderboard -----------------------------------------------------------------------------
def activities_in(q: ReportQuery, select):
    """Activities of customers the caller may see (by the customer's owner and team), out
    of the trash, logged within the range; ``owner_id`` names who logged them."""
    activities, customers = M.activities, M.customers
    select = visible(q.actor, select, customers.c).where(
        sa.not_(customers.c.deleted), activities.c.occurred_at >= q.start,
        activities.c.occurred_at < q.end)
    if q.owner_id:
        select = select.where(activities.c.user_id == q.owner_id)
    if q.team_id:
        select = select.where(customers.c.team_id == q.team_id)
    if q.region:
        select = select.where(region_matches(q, customers))
    if q.product_id:
        select = select.where(sa.exists().where(product_lines(q, activities.c.deal_id)))
    return select


def activities_with_customers():
    return M.activities.join(M.customers, M.customers.c.id == M.activities.c.customer_id)


def leaderboard(session, q: ReportQuery):
    amount = deal_money(q)
    won = dict((row.owner_id, row) for row in session.execute(closed_within(q, deal_filters(
        q, sa.select(M.deals.c.owner_id, sa.func.coalesce(sa.func.sum(amount), 0).label("amount"),
                     sa.func.count().label("count")).select_from(M.deals)), WON)
        .group_by(M.deals.c.owner_id)))
    pipeline_open = dict(session.execute(deal_filters(q, sa.select(
        M.deals.c.owner_id, sa.func.coalesce(sa.func.sum(amount), 0))
        .select_from(M.deals).where(M.deals.c.status == "open"))
        .group_by(M.deals.c.owner_id)).all())
    logged = dict(session.execute(activities_in(q, sa.select(
        M.activities.c.user_id, sa.func.count()).select_from(activities_with_customers()))
        .group_by(M.activities.c.user_id)).all())
    owners = set(won) | set(pipeline_open) | set(logged)
    labels = group_labels(session, "owner", owners)
    rows = [{**group_cells("owner", owner, labels),
             "won_amount": Decimal(won[owner].amount) if owner in won else Decimal(0),
             "won_count": won[owner].count if owner in won else 0,
             "open_pipeline": money(pipeline_open.get(owner, 0)),
             "activities": logged.get(owner, 0)} for owner in owners]
    rows.sort(key=lambda row: (-row["won_amount"], -row["won_count"], row["owner"],
                               row["owner_id"] or ""))
    for rank, row in enumerate(rows, start=1):
        row["won_amount"] = money(row["won_amount"])
        row["rank"] = rank
    totals = {"won_amount": money(sum((Decimal(row.amount) for row in won.values()), Decimal(0))),
              "won_count": sum(row.count for row in won.values()),
              "open_pipeline": money(sum((Decimal(v) for v in pipeline_open.values()),
                                         Decimal(0))),
              "activities": sum(logged.values())}
    columns = [column("rank", "Rank", "integer"), *group_columns("owner"),
               column("won_amount", "Won amount", "money"),
               column("won_count", "Deals won", "integer"),
               column("open_pipeline", "Open pipeline", "money"),
               column("activities", "Follow-ups", "integer")]
    return columns, rows, totals, {}


# -- activities ------------------------------------------------------------------------------
def activities(session, q: ReportQuery):
    spans = calendar.periods(q.first_day, q.last_day, q.option("period"), q.tz)
    period_label = period_of(M.activities.c.occurred_at, spans)
    select = activities_in(q, sa.select(
        period_label.label("period"), M.activities.c.user_id, M.activities.c.type,
        sa.func.count()).select_from(activities_with_customers()))
    found = session.execute(select.group_by(BY_PERIOD, M.activities.c.user_id,
                                            M.activities.c.type)).all()
    labels = group_labels(session, "owner", [user for _, user, _, _ in found])
    order = {span.label: index for index, span in enumerate(spans)}
    rows = sorted(({"period": period, "user_id": str(user) if user else None,
                    "user": labels.get(user, NONE_LABEL) if user else NONE_LABEL,
                    "type": kind, "count": count} for period, user, kind, count in found),
                  key=lambda row: (order[row["period"]], row["user"], row["type"]))
    per_type = defaultdict(int)
    for row in rows:
        per_type[row["type"]] += row["count"]
    totals = {**dict(sorted(per_type.items())), "all": sum(per_type.values())}
    columns = [column("period", "Period", "string"), column("user_id", "User id", "id"),
               column("user", "User", "string"), column("type", "Type", "string"),
               column("count", "Follow-ups", "integer")]
    return columns, rows, totals, {}


# -- dormant customers -----------------------------------------------------------------------
def dormant_customers(session, q: ReportQuery):
    customers, activities = M.customers, M.activities
    measured_at = min(q.end, q.now)
    cutoff = measured_at - dt.timedelta(days=q.option("days"))
    last_seen = (sa.select(activities.c.customer_id,
                           sa.func.max(activities.c.occurred_at).label("last"))
                 .where(activities.c.occurred_at < measured_at)
                 .group_by(activities.c.customer_id).subquery())
    since = sa.func.coalesce(last_seen.c.last, customers.c.created_at)
    select = scoped(q, sa.select(customers.c.id, customers.c.name, customers.c.owner_id,
                                 last_seen.c.last, customers.c.created_at,
                                 sa.func.count().over().label("dormant"))
                    .select_from(customers.outerjoin(
                        last_seen, last_seen.c.customer_id == customers.c.id)), customers).where(
        customers.c.deleted.is_(False), customers.c.created_at < measured_at, since < cutoff)
    if q.region:
        select = select.where(region_matches(q, customers))
    found = session.execute(select.order_by(since, customers.c.name, customers.c.id)
                            .limit(q.option("limit"))).all()
    count = found[0].dormant if found else 0
    labels = group_labels(session, "owner", [row.owner_id for row in found])
    primary = primary_contacts(session, [row.id for row in found])
    rows = []
    for row in found:
        contact = primary.get(row.id)
        rows.append({
            "customer_id": str(row.id), "customer": row.name,
            **group_cells("owner", row.owner_id, labels),
            "last_follow_up_at": row.last.isoformat() if row.last else None,
            "days_since": (measured_at - (row.last or row.created_at)).days,
            "primary_contact": contact.name if contact else None,
            "phone": contact.phone if contact else None})
    columns = [column("customer_id", "Customer id", "id"), column("customer", "Customer", "string"),
               *group_columns("owner"),
               column("last_follow_up_at", "Last follow-up", "datetime"),
               column("days_since", "Days since", "integer"),
               column("primary_contact", "Primary contact", "string"),
               column("phone", "Phone", "string")]
    return columns, rows, {"count": count}, {}


def primary_contacts(session, customer_ids) -> dict:
    if not customer_ids:
        return {}
    contacts = M.contacts
    found = session.execute(sa.select(contacts).where(
        contacts.c.customer_id.in_(customer_ids), contacts.c.deleted.is_(False),
        contacts.c.is_primary.is_(True)).order_by(contacts.c.name, contacts.c.id)).all()
    primary = {}
    for contact in found:
        primary.setdefault(contact.customer_id, contact)
    return primary


# -- forecast --------------------------------------------------------------------------------
def forecast(session, q: ReportQuery):
    amount = deal_money(q)
    today = calendar.local_date(q.now, q.tz)
    found = session.execute(deal_filters(q, sa.select(
        M.deals.c.expected_close_date, sa.func.count(),
        sa.func.coalesce(sa.func.sum(amount), 0),
        sa.func.coalesce(sa.func.sum(amount * M.deals.c.probability), 0))
        .select_from(M.deals).where(M.deals.c.status == "open"))
        .group_by(M.deals.c.expected_close_date)).all()
    buckets = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for close, count, value, weighted in found:
        if close is None:
            label = "unscheduled"
        elif close < today:
            label = "overdue"
        else:
            label = calendar.label_of(close, "month")
        bucket = buckets[label]
        bucket[0] += count
        bucket[1] += Decimal(value)
        bucket[2] += Decimal(weighted) / 100
    order = sorted(buckets, key=lambda label: (label != "overdue", label == "unscheduled", label))
    rows = [{"kind": "pipeline", "period": label, "count": buckets[label][0],
             "amount": money(buckets[label][1]), "weighted_amount": money(buckets[label][2])}
            for label in order]

    period = q.option("period")
    spans = calendar.periods(q.first_day, q.last_day, period, q.tz)
    _, history, _, _ = revenue(session, dataclasses.replace(
        q, options={"period": period, "group_by": None}))
    fitted = trend.linear_trend([Fraction(row["won_amount"]) for row in history], ahead=3)
    after = calendar.next_start(calendar.period_start(spans[-1].first_day, period), period)
    for step, predicted in enumerate(fitted.forecast):
        rows.append({"kind": "trend", "period": calendar.label(after, period), "count": None,
                     "amount": money(predicted), "weighted_amount": None})
        after = calendar.next_start(after, period)
    totals = {"pipeline_count": sum(bucket[0] for bucket in buckets.values()),
              "pipeline_amount": money(sum((b[1] for b in buckets.values()), Decimal(0))),
              "pipeline_weighted_amount": money(sum((b[2] for b in buckets.values()), Decimal(0))),
              "trend_amount": money(sum(fitted.forecast, Fraction(0)))}
    method = {
        "name": trend.METHOD,
        "formula": trend.FORMULA,
        "inputs": [{"period": row["period"], "won_amount": row["won_amount"]} for row in history],
        "intercept": money(fitted.intercept), "slope": money(fitted.slope),
        "mean_absolute_error": money(fitted.mean_absolute_error),
        "mean_absolute_percentage_error": (
            str(rounded(fitted.mean_absolute_percentage_error, RATE))
            if fitted.mean_absolute_percentage_error is not None else None),
    }
    columns = [column("kind", "Kind", "string"), column("period", "Period", "string"),
               column("count", "Deals", "integer"), column("amount", "Amount", "money"),
               column("weighted_amount", "Weighted amount", "money")]
    return columns, rows, totals, {"method": method}


REPORTS = {
    "funnel": funnel,
    "revenue": revenue,
    "win-rate": win_rate,
    "sales-cycle": sales_cycle,
    "leaderboard": leaderboard,
    "activities": activities,
    "dormant-customers": dormant_customers,
    "forecast": forecast,
}
UNDATED = ("dormant-customers",)


def as_of(session):
    return session.execute(sa.select(sa.func.max(M.freshness.c.as_of))).scalar()


def run(session, q: ReportQuery) -> dict:
    columns, rows, totals, extra = REPORTS[q.name](session, q)
    fresh = as_of(session)
    return {
        "report": q.name,
        "filters": q.applied(dated=q.name not in UNDATED),
        "currency": q.currency,
        "time_zone": q.tz.key,
        "columns": columns,
        "rows": rows,
        "totals": totals,
        **extra,
        "generated_at": q.now.isoformat(),
        "as_of": fresh.isoformat() if fresh else None,
    }
