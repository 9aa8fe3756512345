"""What every report should answer, worked out directly from the owners' records.

An independent reference for the property test: it reads the sales and customers services'
own tables (never the reports' read model, never ``services.reports``) and computes each
report's rows and totals in plain Python, one loop over the records at a time, from the
definitions in ``docs/reports.md`` and the docstrings of ``services/reports/reports.py``:

- scope: a rep counts their own records, a manager their team's and their own, admins and
  analysts everything; ``owner_id`` and ``team_id`` narrow that further;
- the trash: a customer in the trash takes its deals and follow-ups with it;
- money: one currency; with ``product_id`` only deals with a line of that product, and their
  money is those lines' amount;
- dates are calendar days in the business time zone, both inclusive; won and lost count by
  ``closed_at``, the funnel follows the deals created in the range.

Exact arithmetic throughout (``Decimal`` money, ``Fraction`` for days and the trend line), and
rounding half up (away from zero) to the cent, to four places for rates and to one place for
days.
"""
from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from common.actor import Actor
from services.customers.models import Activity, Contact, Customer
from services.sales.models import Deal, Lead, Product, Stage, StageChange, platform

UTC = dt.timezone.utc
WON, LOST, OPEN = "won", "lost", "open"
NONE = "(none)"
EVERYTHING = ("admin", "analyst", "system", "integration")
ID_GROUPS = ("owner", "team", "product")


# -- the owners' records ---------------------------------------------------------------------
@dataclass
class Owners:
    """Every record the reports count, as the owners hold it now."""

    customers: dict
    contacts: list
    activities: list
    deals: dict
    stages: list
    leads: list
    users: dict  # id -> display name (or username)
    teams: dict  # id -> name
    products: dict  # id -> name


def load(sales_factory, customers_factory) -> Owners:
    with customers_factory() as session:
        customers = {c.id: SimpleNamespace(
            id=c.id, name=c.name, industry=c.industry, country=c.country,
            province=c.province, city=c.city, tier=c.tier, owner_id=c.owner_id,
            team_id=c.team_id, deleted=c.deleted_at is not None, created_at=c.created_at)
            for c in session.scalars(sa.select(Customer))}
        contacts = [SimpleNamespace(customer_id=c.customer_id, id=c.id, name=c.name,
                                    phone=c.phone, primary=c.is_primary,
                                    deleted=c.deleted_at is not None)
                    for c in session.scalars(sa.select(Contact))]
        activities = [SimpleNamespace(id=a.id, customer_id=a.customer_id, deal_id=a.deal_id,
                                      user_id=a.user_id, type=a.type, occurred_at=a.occurred_at)
                      for a in session.scalars(sa.select(Activity))]
    with sales_factory() as session:
        stages = [(s.key, s.name, s.probability)
                  for s in session.scalars(sa.select(Stage).order_by(Stage.position))]
        visited = defaultdict(set)
        for change in session.scalars(sa.select(StageChange)):
            visited[change.deal_id].add(change.to_stage)
            if change.from_stage:
                visited[change.deal_id].add(change.from_stage)
        deals = {d.id: SimpleNamespace(
            id=d.id, customer_id=d.customer_id, amount=Decimal(d.amount), currency=d.currency,
            stage=d.stage, probability=d.probability, status=d.status,
            expected_close_date=d.expected_close_date, owner_id=d.owner_id, team_id=d.team_id,
            created_at=d.created_at, closed_at=d.closed_at, visited=visited[d.id],
            lines=[(line.product_id, Decimal(line.amount)) for line in d.lines])
            for d in session.scalars(sa.select(Deal))}
        leads = [SimpleNamespace(id=lead.id, owner_id=lead.owner_id, team_id=lead.team_id,
                                 country=lead.country, province=lead.province, city=lead.city,
                                 created_at=lead.created_at, converted_at=lead.converted_at)
                 for lead in session.scalars(sa.select(Lead))]
        users = {m.id: m.display_name or m.username for m in session.scalars(sa.select(platform.DirectoryUser))}
        teams = {t.id: t.name for t in session.scalars(sa.select(platform.DirectoryTeam))}
        products = {p.id: p.name for p in session.scalars(sa.select(Product))}
    return Owners(customers, contacts, activities, deals, stages, leads, users, teams, products)


# -- the question ----------------------------------------------------------------------------
DEFAULT_OPTIONS = {
    "revenue": {"period": "month", "group_by": None, "region_level": "province"},
    "win-rate": {"group_by": "owner", "region_level": "province"},
    "sales-cycle": {"group_by": None, "region_level": "province"},
    "activities": {"period": "month"},
    "dormant-customers": {"days": 30, "limit": 500},
    "forecast": {"period": "month"},
}


@dataclass(frozen=True)
class Ask:
    """A report's question as a caller puts it (``first``/``last`` ``None``: the default)."""

    name: str
    actor: Actor
    tz: str
    now: dt.datetime
    first: dt.date | None = None
    last: dt.date | None = None
    currency: str = "CNY"
    region: str | None = None
    product_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    options: dict = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def option(self, name):
        return {**DEFAULT_OPTIONS.get(self.name, {}), **self.options}.get(name)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    @property
    def last_day(self) -> dt.date:
        if self.last is not None:
            return self.last
        if self.name == "forecast":  # the last whole month
            return self.today.replace(day=1) - dt.timedelta(days=1)
        return self.today

    @property
    def first_day(self) -> dt.date:
        if self.first is not None:
            return self.first
        year, month = self.last_day.year, self.last_day.month - 11
        while month < 1:
            year, month = year - 1, month + 12
        return dt.date(year, month, 1)

    def day_of(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def within(self, instant: dt.datetime | None) -> bool:
        return instant is not None and self.first_day <= self.day_of(instant) <= self.last_day

    @property
    def end(self) -> dt.datetime:
        """The first instant after ``last_day`` in the business time zone."""
        following = self.last_day + dt.timedelta(days=1)
        return dt.datetime(following.year, following.month, following.day,
                           tzinfo=self.zone).astimezone(UTC)

    # scope and filters
    def sees(self, owner_id, team_id) -> bool:
        actor = self.actor
        if actor.role in EVERYTHING:
            return True
        if owner_id is not None and owner_id == _uuid(actor.user_id):
            return True
        return (actor.role == "manager" and actor.team_id is not None
                and team_id is not None and team_id == _uuid(actor.team_id))

    def scoped(self, owner_id, team_id) -> bool:
        return (self.sees(owner_id, team_id)
                and (self.owner_id is None or owner_id == self.owner_id)
                and (self.team_id is None or team_id == self.team_id))

    def in_region(self, place) -> bool:
        if place is None:
            return False
        wanted = self.region.lower()
        return any(value is not None and value.lower() == wanted
                   for value in (place.country, place.province, place.city))


def _uuid(value):
    return uuid.UUID(str(value)) if value else None


# -- values ----------------------------------------------------------------------------------
def money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rate(part, whole) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"),
                                                         rounding=ROUND_HALF_UP))


def _rounded(value: Fraction, places: int) -> str:
    """``value`` rounded half away from zero to ``places`` places, as Decimal's ROUND_HALF_UP
    does (a zero is never negative)."""
    steps = math.floor(abs(value) * 10**places + Fraction(1, 2))
    sign = "-" if value < 0 and steps else ""
    whole, part = divmod(steps, 10**places)
    return f"{sign}{whole}.{part:0{places}d}"


def exact_money(value: Fraction) -> str:
    """A fraction rounded half up to the cent."""
    return _rounded(value, 2)


def days(value: Fraction | None) -> str | None:
    """Days rounded half up to one place."""
    return None if value is None else _rounded(value, 1)


def period_label(day: dt.date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_labels(first: dt.date, last: dt.date, period: str) -> list[str]:
    labels, day = [], first
    while day <= last:
        label = period_label(day, period)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += dt.timedelta(days=1)
    return labels


def labels_after(last: dt.date, period: str, count: int) -> list[str]:
    """The labels of the ``count`` periods after the one ``last`` is in."""
    labels, day = [], last
    current = period_label(last, period)
    while len(labels) < count:
        day += dt.timedelta(days=1)
        label = period_label(day, period)
        if label != current:
            labels.append(label)
            current = label
    return labels


# -- deals -----------------------------------------------------------------------------------
def counted_deals(o: Owners, q: Ask):
    """The deals every deal report counts: in scope, in the currency, out of the trash, in
    the region, with a line of the product."""
    for deal in o.deals.values():
        customer = o.customers.get(deal.customer_id)
        if not q.scoped(deal.owner_id, deal.team_id) or deal.currency != q.currency:
            continue
        if customer is not None and customer.deleted:
            continue
        if q.region and not q.in_region(customer):
            continue
        if q.product_id and not any(product == q.product_id for product, _ in deal.lines):
            continue
        yield deal


def deal_money(deal, q: Ask) -> Decimal:
    if q.product_id is None:
        return deal.amount
    return sum((amount for product, amount in deal.lines if product == q.product_id),
               Decimal(0))


def closed(o: Owners, q: Ask, statuses=(WON, LOST)):
    return [deal for deal in counted_deals(o, q)
            if deal.status in statuses and q.within(deal.closed_at)]


def group_keys(o: Owners, q: Ask, deal, group_by):
    """``[(key, money)]``: the groups a deal counts in, with its money in each (with
    ``product``: each of its lines of the filtered product, or one row of no product)."""
    if group_by is None:
        return [(None, deal_money(deal, q))]
    if group_by == "product":
        lines = [(product, amount) for product, amount in deal.lines
                 if q.product_id is None or product == q.product_id]
        return lines or [(None, deal.amount)]
    if group_by == "owner":
        return [(deal.owner_id, deal_money(deal, q))]
    if group_by == "team":
        return [(deal.team_id, deal_money(deal, q))]
    customer = o.customers.get(deal.customer_id)
    attribute = q.option("region_level") if group_by == "region" else group_by
    return [(getattr(customer, attribute) if customer else None, deal_money(deal, q))]


def label_of(o: Owners, group_by, key) -> str:
    if key is None:
        return NONE
    names = {"owner": o.users, "team": o.teams, "product": o.products}.get(group_by)
    if names is None:
        return str(key)
    return names.get(key) or str(key)


def cells(o: Owners, group_by, key) -> dict:
    if group_by is None:
        return {}
    found = {group_by: label_of(o, group_by, key)}
    if group_by in ID_GROUPS:
        found[f"{group_by}_id"] = str(key) if key is not None else None
    return found


def group_order(row: dict, group_by):
    return "" if group_by is None else (row[group_by] == NONE, row[group_by])


# -- the reports -----------------------------------------------------------------------------
def funnel(o: Owners, q: Ask):
    cohort = [deal for deal in counted_deals(o, q) if q.within(deal.created_at)]
    open_keys = [key for key, _, _ in o.stages if key not in (WON, LOST)]
    reached = {}
    for index, key in enumerate(open_keys):
        reached[key] = 0
        for deal in cohort:
            if WON in deal.visited or any(open_keys.index(stage) >= index
                                          for stage in deal.visited if stage in open_keys):
                reached[key] += 1
    reached[WON] = sum(1 for deal in cohort if WON in deal.visited)
    reached[LOST] = sum(1 for deal in cohort if LOST in deal.visited)

    rows = []
    total_count, total_amount, total_weighted = 0, Decimal(0), Decimal(0)
    for key, name, probability in o.stages:
        here = [deal for deal in cohort if deal.stage == key]
        amount = sum((deal_money(deal, q) for deal in here), Decimal(0))
        weighted = sum((deal_money(deal, q) * deal.probability for deal in here),
                       Decimal(0)) / 100
        conversion = None
        if key in open_keys:
            position = open_keys.index(key)
            following = open_keys[position + 1] if position + 1 < len(open_keys) else WON
            conversion = rate(reached[following], reached[key])
        rows.append({"stage": key, "stage_name": name, "probability": probability,
                     "count": len(here), "amount": money(amount),
                     "weighted_amount": money(weighted), "reached": reached.get(key, 0),
                     "conversion_rate": conversion})
        total_count += len(here)
        total_amount += amount
        total_weighted += weighted
    won = len(closed(o, q, (WON,)))
    lost = len(closed(o, q, (LOST,)))
    leads = [lead for lead in o.leads if q.scoped(lead.owner_id, lead.team_id)
             and q.within(lead.created_at) and (not q.region or q.in_region(lead))]
    converted = sum(1 for lead in leads if lead.converted_at is not None)
    totals = {"count": total_count, "amount": money(total_amount),
              "weighted_amount": money(total_weighted), "won": won, "lost": lost,
              "win_rate": rate(won, won + lost), "leads": len(leads),
              "leads_converted": converted, "lead_conversion_rate": rate(converted, len(leads))}
    return rows, totals, {}


def won_totals(o: Owners, q: Ask) -> dict:
    won = closed(o, q, (WON,))
    return {"won_amount": money(sum((deal_money(deal, q) for deal in won), Decimal(0))),
            "won_count": len(won)}


def revenue(o: Owners, q: Ask):
    group_by, period = q.option("group_by"), q.option("period")
    labels = period_labels(q.first_day, q.last_day, period)
    amounts, counts = defaultdict(Decimal), defaultdict(set)
    for deal in closed(o, q, (WON,)):
        label = period_label(q.day_of(deal.closed_at), period)
        for key, value in group_keys(o, q, deal, group_by):
            amounts[(label, key)] += value
            counts[(label, key)].add(deal.id)
    if group_by is None:
        rows = [{"period": label, "won_amount": money(amounts.get((label, None), 0)),
                 "won_count": len(counts.get((label, None), ()))} for label in labels]
    else:
        rows = [{"period": label, **cells(o, group_by, key), "won_amount": money(amount),
                 "won_count": len(counts[(label, key)])}
                for (label, key), amount in amounts.items()]
        rows.sort(key=lambda row: (labels.index(row["period"]), group_order(row, group_by)))
    return rows, won_totals(o, q), {}


def win_rate(o: Owners, q: Ask):
    group_by = q.option("group_by")
    outcomes = defaultdict(lambda: {WON: set(), LOST: set()})
    for deal in closed(o, q):
        for key, _ in group_keys(o, q, deal, group_by):
            outcomes[key][deal.status].add(deal.id)
    rows = sorted(({**cells(o, group_by, key), "won": len(found[WON]), "lost": len(found[LOST]),
                    "win_rate": rate(len(found[WON]), len(found[WON]) + len(found[LOST]))}
                   for key, found in outcomes.items()),
                  key=lambda row: group_order(row, group_by))
    won, lost = len(closed(o, q, (WON,))), len(closed(o, q, (LOST,)))
    return rows, {"won": won, "lost": lost, "win_rate": rate(won, won + lost)}, {}


def _length(deal) -> Fraction:
    """Days from creation to close, exactly."""
    delta = deal.closed_at - deal.created_at
    return Fraction(delta.days * 86400 + delta.seconds, 86400) + Fraction(
        delta.microseconds, 86400 * 10**6)


def _median(values: list[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def sales_cycle(o: Owners, q: Ask):
    group_by = q.option("group_by")
    lengths = defaultdict(dict)  # (key, outcome) -> {deal id: days}
    everyone = {WON: {}, LOST: {}}
    for deal in closed(o, q):
        for key, _ in group_keys(o, q, deal, group_by):
            lengths[(key, deal.status)][deal.id] = _length(deal)
        everyone[deal.status][deal.id] = _length(deal)
    rows = sorted(({**cells(o, group_by, key), "outcome": outcome, "count": len(found),
                    "median_days": days(_median(list(found.values()))),
                    "mean_days": days(sum(found.values(), Fraction(0)) / len(found))}
                   for (key, outcome), found in lengths.items()),
                  key=lambda row: (group_order(row, group_by), row["outcome"] != WON))
    totals = {}
    for outcome in (WON, LOST):
        found = list(everyone[outcome].values())
        totals[outcome] = {"count": len(found),
                           "median_days": days(_median(found)) if found else None,
                           "mean_days": days(sum(found, Fraction(0)) / len(found))
                           if found else None}
    return rows, totals, {}


def counted_activities(o: Owners, q: Ask):
    """Follow-ups of customers in scope (by the customer's owner and team) and out of the
    trash, logged within the range; ``owner_id`` is who logged them."""
    for activity in o.activities:
        customer = o.customers.get(activity.customer_id)
        if customer is None or customer.deleted:
            continue
        if not q.sees(customer.owner_id, customer.team_id):
            continue
        if q.owner_id is not None and activity.user_id != q.owner_id:
            continue
        if q.team_id is not None and customer.team_id != q.team_id:
            continue
        if q.region and not q.in_region(customer):
            continue
        if q.product_id is not None:
            deal = o.deals.get(activity.deal_id)
            if deal is None or not any(product == q.product_id for product, _ in deal.lines):
                continue
        if q.within(activity.occurred_at):
            yield activity


def leaderboard(o: Owners, q: Ask):
    won_amount, won_count = defaultdict(Decimal), defaultdict(int)
    for deal in closed(o, q, (WON,)):
        won_amount[deal.owner_id] += deal_money(deal, q)
        won_count[deal.owner_id] += 1
    pipeline = defaultdict(Decimal)
    for deal in counted_deals(o, q):
        if deal.status == OPEN:
            pipeline[deal.owner_id] += deal_money(deal, q)
    logged = defaultdict(int)
    for activity in counted_activities(o, q):
        logged[activity.user_id] += 1
    owners = set(won_count) | set(pipeline) | set(logged)
    rows = [{**cells(o, "owner", owner), "won_amount": won_amount.get(owner, Decimal(0)),
             "won_count": won_count.get(owner, 0),
             "open_pipeline": money(pipeline.get(owner, 0)),
             "activities": logged.get(owner, 0)} for owner in owners]
    rows.sort(key=lambda row: (-row["won_amount"], -row["won_count"], row["owner"],
                               row["owner_id"] or ""))
    for rank, row in enumerate(rows, start=1):
        row["won_amount"], row["rank"] = money(row["won_amount"]), rank
    totals = {**won_totals(o, q), "open_pipeline": money(sum(pipeline.values(), Decimal(0))),
              "activities": sum(logged.values())}
    return rows, totals, {}


def activities(o: Owners, q: Ask):
    period = q.option("period")
    labels = period_labels(q.first_day, q.last_day, period)
    counts = defaultdict(int)
    for activity in counted_activities(o, q):
        counts[(period_label(q.day_of(activity.occurred_at), period), activity.user_id,
                activity.type)] += 1
    rows = sorted(({"period": label, "user_id": str(user) if user else None,
                    "user": label_of(o, "owner", user), "type": kind, "count": count}
                   for (label, user, kind), count in counts.items()),
                  key=lambda row: (labels.index(row["period"]), row["user"], row["type"]))
    per_type = defaultdict(int)
    for row in rows:
        per_type[row["type"]] += row["count"]
    return rows, {**dict(sorted(per_type.items())), "all": sum(per_type.values())}, {}


def dormant_customers(o: Owners, q: Ask):
    """Measured at the end of ``to``, never later than now; the window before that moment is
    half open like every range here (a follow-up at that very instant is after it)."""
    measured_at = min(q.end, q.now)
    cutoff = measured_at - dt.timedelta(days=q.option("days"))
    found = []
    for customer in o.customers.values():
        if customer.deleted or not q.scoped(customer.owner_id, customer.team_id):
            continue
        if customer.created_at >= measured_at or (q.region and not q.in_region(customer)):
            continue
        times = [a.occurred_at for a in o.activities
                 if a.customer_id == customer.id and a.occurred_at < measured_at]
        last = max(times) if times else None
        since = last or customer.created_at
        if since < cutoff:
            found.append((since, customer.name, customer.id, customer, last))
    found.sort(key=lambda item: item[:3])
    rows = []
    for since, _, _, customer, last in found[:q.option("limit")]:
        primary = sorted((c for c in o.contacts
                          if c.customer_id == customer.id and c.primary and not c.deleted),
                         key=lambda c: (c.name, c.id))
        contact = primary[0] if primary else None
        rows.append({"customer_id": str(customer.id), "customer": customer.name,
                     **cells(o, "owner", customer.owner_id),
                     "last_follow_up_at": last.isoformat() if last else None,
                     "days_since": (measured_at - since).days,
                     "primary_contact": contact.name if contact else None,
                     "phone": contact.phone if contact else None})
    return rows, {"count": len(found)}, {}


def trend(history: list[Fraction], ahead: int):
    """The least-squares line through ``history`` (t = 0, 1, ...) and its next values."""
    n = len(history)
    mean_y = sum(history, Fraction(0)) / n
    if n == 1:
        intercept, slope = mean_y, Fraction(0)
    else:
        mean_t = Fraction(n - 1, 2)
        slope = (sum((t - mean_t) * (y - mean_y) for t, y in enumerate(history))
                 / sum((t - mean_t) ** 2 for t in range(n)))
        intercept = mean_y - slope * mean_t
    fitted = [intercept + slope * t for t in range(n)]
    forecast = [max(intercept + slope * t, Fraction(0)) for t in range(n, n + ahead)]
    errors = [abs(y - f) for y, f in zip(history, fitted)]
    relative = [abs(y - f) / y for y, f in zip(history, fitted) if y]
    return intercept, slope, forecast, sum(errors, Fraction(0)) / n, (
        sum(relative, Fraction(0)) / len(relative) if relative else None)


def forecast(o: Owners, q: Ask):
    buckets = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for deal in counted_deals(o, q):
        if deal.status != OPEN:
            continue
        close = deal.expected_close_date
        if close is None:
            label = "unscheduled"
        elif close < q.today:  # "deals whose date has passed" (docs/reports.md)
            label = "overdue"
        else:
            label = period_label(close, "month")
        bucket = buckets[label]
        bucket[0] += 1
        bucket[1] += deal_money(deal, q)
        bucket[2] += deal_money(deal, q) * deal.probability / 100
    order = sorted(buckets, key=lambda label: (label != "overdue", label == "unscheduled",
                                               label))
    rows = [{"kind": "pipeline", "period": label, "count": buckets[label][0],
             "amount": money(buckets[label][1]), "weighted_amount": money(buckets[label][2])}
            for label in order]

    period = q.option("period")
    history_rows, _, _ = revenue(o, Ask(
        "revenue", q.actor, q.tz, q.now, q.first_day, q.last_day, q.currency, q.region,
        q.product_id, q.owner_id, q.team_id, {"period": period}))
    history = [Fraction(Decimal(row["won_amount"])) for row in history_rows]
    intercept, slope, ahead, error, relative = trend(history, 3)
    for label, value in zip(labels_after(q.last_day, period, 3), ahead):
        rows.append({"kind": "trend", "period": label, "count": None,
                     "amount": exact_money(value), "weighted_amount": None})
    totals = {"pipeline_count": sum(b[0] for b in buckets.values()),
              "pipeline_amount": money(sum((b[1] for b in buckets.values()), Decimal(0))),
              "pipeline_weighted_amount": money(sum((b[2] for b in buckets.values()),
                                                    Decimal(0))),
              "trend_amount": exact_money(sum(ahead, Fraction(0)))}
    method = {"inputs": [{"period": row["period"], "won_amount": row["won_amount"]}
                         for row in history_rows],
              "intercept": exact_money(intercept), "slope": exact_money(slope),
              "mean_absolute_error": exact_money(error),
              "mean_absolute_percentage_error": (_rounded(relative, 4)
                                                 if relative is not None else None)}
    return rows, totals, {"method": method}


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


def answer(o: Owners, q: Ask) -> tuple[list, dict, dict]:
    """``(rows, totals, extra)`` of report ``q.name``."""
    return REPORTS[q.name](o, q)

