"""Reports benchmark: load a CRM's worth of deals into the reports read model on PostgreSQL,
then print the events applied per second and each report's latency beside a hand-written
SQL query over the same tables. Prints figures; asserts nothing.

    .venv/bin/python bench/reports.py                  # 1,000,000 deals (takes a while)
    .venv/bin/python bench/reports.py --deals 20000    # a quick check (under a minute)

It creates its own database (``crm_bench_reports_<random>``) on --server, migrates it with
the reports' Alembic history, and drops it at the end (unless --keep).

The dataset is generated from --seed: ~3 years of deals (about 40 % won, 25 % lost, the rest
open across the stages; half with 1-3 product lines), customers over 30 provinces, reps in
teams, activities, leads, contacts. Deals, customers and activities are inserted in the order
they were created (as the projection would have), their rows made by the projection's own
row mappers (``customer_row``, ``deal_row``, ``deal_line_rows``, ...) and loaded with COPY.
A sample of the customers -- with their deals' and activities' events (deal.created,
stage_changed, won, lost, customer.created, activity.logged) -- is kept out of the bulk load
and pushed afterwards, once the tables are full and indexed, through the real
``projection.apply``, one transaction per event as the service does: that is the events/s.

Each report runs over the last full calendar year of the data, interleaved with its
hand-written SQL (report, SQL, report, SQL ...) so noise hits both; the SQL answers the same
question from the same tables and its figures are checked against the report's (``same``).
Percentiles are nearest-rank: of the default 15 runs, p95 is the slowest. The ratio is
report p95 / SQL p95.
"""
from __future__ import annotations

import argparse
import array
import bisect
import datetime as dt
import hashlib
import io
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
import warnings
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")  # nameko, via Actor

from common.actor import Actor  # noqa: E402
from common.db import create_db_engine, make_session_factory, sqlalchemy_url  # noqa: E402
from common.migrations import upgrade  # noqa: E402
from services.reports import periods as calendar  # noqa: E402
from services.reports import projection, query, reports  # noqa: E402
from services.reports.models import LIVE  # noqa: E402

UTC = dt.timezone.utc
DAY = 86400.0
STAGES = [("qualification", "Qualification", 10), ("needs_analysis", "Needs analysis", 25),
          ("proposal", "Proposal", 50), ("negotiation", "Negotiation", 75),
          ("won", "Won", 100), ("lost", "Lost", 0)]
OPEN = [key for key, _, _ in STAGES[:4]]
PROBABILITY = {key: probability for key, _, probability in STAGES}
PROVINCES = [
    ("Guangdong", ["Guangzhou", "Shenzhen", "Dongguan", "Foshan"]),
    ("Zhejiang", ["Hangzhou", "Ningbo", "Wenzhou"]), ("Jiangsu", ["Nanjing", "Suzhou", "Wuxi"]),
    ("Shanghai", ["Shanghai"]), ("Beijing", ["Beijing"]),
    ("Shandong", ["Jinan", "Qingdao", "Yantai"]), ("Sichuan", ["Chengdu", "Mianyang"]),
    ("Hubei", ["Wuhan", "Yichang"]), ("Henan", ["Zhengzhou", "Luoyang"]),
    ("Fujian", ["Fuzhou", "Xiamen", "Quanzhou"]), ("Hunan", ["Changsha", "Zhuzhou"]),
    ("Anhui", ["Hefei", "Wuhu"]), ("Hebei", ["Shijiazhuang", "Tangshan"]),
    ("Tianjin", ["Tianjin"]), ("Chongqing", ["Chongqing"]), ("Shaanxi", ["Xi'an", "Baoji"]),
    ("Liaoning", ["Shenyang", "Dalian"]), ("Jiangxi", ["Nanchang", "Ganzhou"]),
    ("Yunnan", ["Kunming"]), ("Guangxi", ["Nanning", "Guilin"]), ("Shanxi", ["Taiyuan"]),
    ("Heilongjiang", ["Harbin"]), ("Jilin", ["Changchun"]), ("Guizhou", ["Guiyang"]),
    ("Inner Mongolia", ["Hohhot", "Baotou"]), ("Xinjiang", ["Urumqi"]), ("Gansu", ["Lanzhou"]),
    ("Hainan", ["Haikou", "Sanya"]), ("Ningxia", ["Yinchuan"]), ("Qinghai", ["Xining"])]
INDUSTRIES = ["Retail", "Manufacturing", "Energy", "Finance", "Healthcare", "Education",
              "Logistics", "Software", "Construction", "Agriculture", "Media", "Hospitality"]
ACTIVITY_TYPES = (("call", 40), ("email", 25), ("visit", 15), ("meeting", 10), ("note", 10))
CUSTOMER_STATUSES = (("active", 60), ("prospect", 20), ("dormant", 15), ("churned", 5))
LEAD_STATUSES = (("new", 35), ("qualified", 20), ("converted", 25), ("disqualified", 20))
CENT = Decimal("0.01")
DISCOUNTS = [Decimal("0"), Decimal("0"), Decimal("0.05"), Decimal("0.10"), Decimal("0.15")]
# Bulk-loaded tables: their secondary indexes are dropped for the load and built after.
BULK_TABLES = [LIVE.customers, LIVE.contacts, LIVE.activities, LIVE.leads, LIVE.deals,
               LIVE.deal_lines]


def say(*parts):
    print(*parts, flush=True)


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


class Weighted:
    """Draw from fixed weights in O(log n)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def __call__(self, rng):
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


# -- COPY ------------------------------------------------------------------------------------
ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"
_uuid_text: dict = {}


def uuid_text(value) -> str:
    """str(UUID), remembered: owners, teams, customers and products recur in many rows."""
    text = _uuid_text.get(value)
    if text is None:
        text = str(value)
        if len(_uuid_text) < 400_000:
            _uuid_text[value] = text
    return text


def converter(column: sa.Column):
    """Value -> COPY text for one column (None is handled by the caller)."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return str if column.primary_key else uuid_text
    if isinstance(kind, sa.Boolean):
        return lambda value: "t" if value else "f"
    if isinstance(kind, sa.String):
        return lambda value: value.translate(ESCAPES)
    if isinstance(kind, (sa.DateTime, sa.types.TypeDecorator, sa.Date)):
        return lambda value: value.isoformat()
    return str


class Copier:
    """Rows of one table (dicts from the projection's row mappers) streamed in with COPY."""

    FLUSH_ROWS = 50_000

    def __init__(self, engine, table: sa.Table):
        self.engine, self.table = engine, table
        self.columns = [column.name for column in table.columns]
        self.converters = [(column.name, converter(column)) for column in table.columns]
        self.buffer, self.pending, self.count, self.seconds = io.StringIO(), 0, 0, 0.0

    def add(self, row: dict) -> None:
        self.buffer.write("\t".join([NULL if row[name] is None else convert(row[name])
                                      for name, convert in self.converters]))
        self.buffer.write("\n")
        self.pending += 1
        if self.pending >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        started = time.perf_counter()
        self.buffer.seek(0)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.copy_expert(f'COPY "{self.table.name}" ({", ".join(self.columns)}) '
                               "FROM STDIN", self.buffer)
            raw.commit()
        finally:
            raw.close()
        self.count += self.pending
        self.pending = 0
        self.buffer = io.StringIO()
        self.seconds += time.perf_counter() - started


# -- the dataset -----------------------------------------------------------------------------
def wire(value):
    """A value as it travels in an event's JSON."""
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire(item) for item in value]
    return value


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), UTC)


class Dataset:
    """A seeded CRM: what goes to COPY goes through ``copiers``; the sampled customers' story
    goes to ``events[group]`` as the owners would have published it."""

    def __init__(self, args, copiers):
        self.args, self.copiers = args, copiers
        self.rng = random.Random(args.seed)
        self.seed = args.seed
        self.now = args.now.timestamp()
        self.start = dt.datetime(args.now.year - args.years, 1, 1, tzinfo=UTC).timestamp()
        self.customer_start = self.start - 365 * DAY
        self.n_customers, self.n_deals = args.customers, args.deals
        self.n_activities, self.n_leads = args.activities, args.leads
        self.events = {1: [], 2: []}  # 1: the single-process sample, 2: the workers' sample
        self.via_events = Counter()
        self.event_clock = 0

    def ident(self, kind: bytes, index: int) -> uuid.UUID:
        digest = hashlib.blake2b(b"%d:%s:%d" % (self.seed, kind, index), digest_size=16).digest()
        return uuid.UUID(bytes=digest, version=4)

    def envelope(self, source, kind, data, version, occurred_at):
        self.event_clock += 1
        return {"id": str(self.ident(b"event", self.event_clock)), "type": kind,
                "schema_version": 1, "occurred_at": at(occurred_at).isoformat(),
                "source": source, "actor": {"user_id": None, "role": "system", "request_id": None},
                "entity_id": str(data["id"]), "entity_version": version, "data": wire(data)}

    # -- people, products, pipeline (few; applied through the projection, not timed) -------
    def world_events(self) -> list[dict]:
        rng, args = self.rng, self.args
        when = self.customer_start
        self.teams = [self.ident(b"team", i) for i in range(args.teams)]
        self.reps = [self.ident(b"rep", i) for i in range(args.reps)]
        self.rep_team = [self.teams[i % args.teams] for i in range(args.reps)]
        # Some reps own far more than others.
        self.pick_rep = Weighted(range(args.reps), [rng.lognormvariate(0, 0.5)
                                                    for _ in range(args.reps)])
        self.managers = [self.ident(b"manager", i) for i in range(args.teams)]
        self.products = []
        for i in range(args.products):
            price = Decimal(round(rng.lognormvariate(math.log(2000), 1.0), -1) or 10)
            self.products.append((self.ident(b"product", i), f"Product {i:02d}", price))
        self.pick_product = Weighted(range(args.products),
                                     [1 / (rank + 1) ** 0.7 for rank in range(args.products)])
        self.pick_province = Weighted(range(len(PROVINCES)),
                                      [1 / (rank + 1) ** 0.8 for rank in range(len(PROVINCES))])
        self.pick_activity = Weighted([k for k, _ in ACTIVITY_TYPES], [w for _, w in ACTIVITY_TYPES])
        self.pick_status = Weighted([k for k, _ in CUSTOMER_STATUSES],
                                    [w for _, w in CUSTOMER_STATUSES])
        self.pick_lead = Weighted([k for k, _ in LEAD_STATUSES], [w for _, w in LEAD_STATUSES])
        self.pick_won_reach = Weighted(range(4), [5, 15, 30, 50])
        self.pick_open_stage = Weighted(range(4), [35, 25, 22, 18])
        found = [self.envelope("sales", "pipeline.updated", {"id": "pipeline", "stages": [
            {"key": key, "name": name, "probability": p} for key, name, p in STAGES],
            "version": 1}, 1, when)]
        for i, team in enumerate(self.teams):
            found.append(self.envelope("gateway", "team.created", {
                "id": team, "name": f"Team {i + 1}", "version": 1}, 1, when))
        people = [(rep, f"rep{i:02d}", f"Rep {i:02d}", "sales", self.rep_team[i])
                  for i, rep in enumerate(self.reps)]
        people += [(m, f"manager{i}", f"Manager {i}", "manager", self.teams[i])
                   for i, m in enumerate(self.managers)]
        people.append((self.ident(b"admin", 0), "admin", "Admin", "admin", None))
        for user_id, username, name, role, team in people:
            found.append(self.envelope("gateway", "user.created", {
                "id": user_id, "username": username, "display_name": name, "role": role,
                "team_id": team, "active": True, "version": 1}, 1, when))
        for product_id, name, price in self.products:
            found.append(self.envelope("sales", "product.created", {
                "id": product_id, "sku": name.replace(" ", "-").upper(), "name": name,
                "category": None, "list_price": price, "version": 1}, 1, when))
        return found

    # -- customers and their contacts ---------------------------------------------------------
    def customers(self) -> None:
        rng, n = self.rng, self.n_customers
        step = (self.now - 30 * DAY - self.customer_start) / n
        self.customer_step = step
        self.customer_created = array.array("d")
        self.customer_owner = array.array("h")
        self.customer_group = bytearray(n)  # 0 bulk, 1 single-process sample, 2 workers'
        self.customer_last_activity = array.array("d", [0.0]) * n
        # Each customer's story is ~ (1 + deals x ~3.15 + activities) events; sample enough
        # customers for --event-sample events per group.
        per_customer = (1 + self.n_deals * 3.15 / n + self.n_activities / n)
        share = min(0.45, self.args.event_sample / per_customer / n)
        copier, contacts = self.copiers[LIVE.customers], self.copiers[LIVE.contacts]
        for i in range(n):
            created = self.customer_start + (i + rng.random()) * step
            owner = self.pick_rep(rng)
            province, cities = PROVINCES[self.pick_province(rng)]
            deleted = rng.random() < 0.02
            data = {"id": self.ident(b"customer", i), "name": f"Customer {i:07d}",
                    "type": "company", "industry": INDUSTRIES[rng.randrange(len(INDUSTRIES))],
                    "country": "China", "province": province,
                    "city": cities[rng.randrange(len(cities))],
                    "tier": "ABCCC"[rng.randrange(5)], "status": self.pick_status(rng),
                    "owner_id": self.reps[owner], "team_id": self.rep_team[owner],
                    "deleted_at": at(min(self.now - 60, created + rng.random() * 400 * DAY))
                    if deleted else None, "created_at": at(created), "version": 1}
            draw = rng.random()
            group = 1 if draw < share else 2 if draw < 2 * share and self.args.workers > 1 else 0
            self.customer_created.append(created)
            self.customer_owner.append(owner)
            self.customer_group[i] = group
            if group:
                self.via_events["customer.created"] += 1
                # Its final state (deleted_at included): what the bulk rows hold too.
                self.events[group].append(self.envelope(
                    "customers", "customer.created", data, 1, created))
            else:
                copier.add(projection.customer_row(data, 1))
            # Contacts are not part of the event sample: bulk for every customer.
            for k in range(1 + (rng.random() < 0.3)):
                contacts.add(projection.contact_row({
                    "id": self.ident(b"contact", i * 2 + k), "customer_id": data["id"],
                    "name": f"Contact {i}-{k}", "phone": f"+86 138 {i % 10000:04d} {k:04d}",
                    "email": None, "is_primary": k == 0}, 1, False))

    def customer_before(self, instant: float) -> int:
        """How many customers were created before ``instant`` (they are in creation order)."""
        return max(1, min(self.n_customers, int((instant - self.customer_start)
                                                 / self.customer_step)))

    # -- deals, their lines and the stages they were in ---------------------------------------
    def deal_lines(self, rng):
        lines = []
        for _ in range(rng.randint(1, 3)):
            product_id, _, price = self.products[self.pick_product(rng)]
            quantity = Decimal(rng.choice((1, 1, 1, 2, 3, 5, 10, 20)))
            unit_price = (price * Decimal(rng.uniform(0.9, 1.1))).quantize(CENT)
            discount = DISCOUNTS[rng.randrange(len(DISCOUNTS))]
            subtotal = (quantity * unit_price).quantize(CENT)
            lines.append({"product_id": product_id, "quantity": quantity.quantize(Decimal("0.001")),
                          "unit_price": unit_price, "discount": discount,
                          "amount": subtotal - (subtotal * discount).quantize(CENT)})
        return lines

    def deals(self) -> None:
        rng, n, now = self.rng, self.n_deals, self.now
        step = (now - self.start) / n
        self.deal_step = step
        self.deal_created = array.array("d")
        self.deal_end = array.array("d")  # closed_at, or +inf while open
        self.deal_customer = array.array("l")
        deals, lines_out = self.copiers[LIVE.deals], self.copiers[LIVE.deal_lines]
        for i in range(n):
            created = self.start + (i + rng.random()) * step
            customer = rng.randrange(self.customer_before(created))
            owner = (self.customer_owner[customer] if rng.random() < 0.9
                     else self.pick_rep(rng))
            draw = rng.random()
            if draw < 0.40:
                outcome, reach = "won", self.pick_won_reach(rng)
            elif draw < 0.65:
                outcome, reach = "lost", rng.randrange(4)
            else:
                outcome, reach = "open", self.pick_open_stage(rng)
            path = [0] + [k for k in range(1, reach) if rng.random() > 0.15]
            if reach:
                path.append(reach)
            cycle = min(720.0, max(0.5, rng.lognormvariate(math.log(35), 0.8))) * DAY
            closed = created + cycle
            if outcome != "open" and closed >= now:
                outcome = "open"  # not closed yet: recent deals are still open
            if rng.random() < 0.5:
                lines = self.deal_lines(rng)
                amount = sum((line["amount"] for line in lines), Decimal(0))
            else:
                lines = []
                amount = Decimal(round(rng.lognormvariate(math.log(30000), 1.0), -2) or 100)
            stage = outcome if outcome != "open" else OPEN[path[-1]]
            visited = [OPEN[k] for k in path] + ([outcome] if outcome != "open" else [])
            version = len(visited)
            expected = (None if rng.random() < 0.1
                        else at(created + cycle * rng.uniform(0.6, 1.4)).date())
            data = {"id": self.ident(b"deal", i), "customer_id": self.ident(b"customer", customer),
                    "title": f"Deal {i:07d}", "amount": amount,
                    "currency": "CNY" if rng.random() < 0.95 else "USD", "stage": stage,
                    "probability": PROBABILITY[stage],
                    "status": outcome, "expected_close_date": expected,
                    "owner_id": self.reps[owner], "team_id": self.rep_team[owner],
                    "lost_reason": "price" if outcome == "lost" else None,
                    "closed_at": at(closed) if outcome != "open" else None, "lines": lines,
                    "created_at": at(created), "version": version}
            self.deal_created.append(created)
            self.deal_end.append(closed if outcome != "open" else math.inf)
            self.deal_customer.append(customer)
            group = self.customer_group[customer]
            if group:
                self.deal_events(group, data, visited, created,
                                 closed if outcome != "open" else min(now - 3600, created + cycle))
                continue
            # The stages it has been in: what its events' add_stages would have left.
            deals.add({**projection.deal_row(data, version),
                       "stages": projection.stage_set(visited)})
            for line in projection.deal_line_rows(data):
                lines_out.add(line)

    def deal_events(self, group, final, visited, created, last):
        """The deal's story: created in its first stage, then one event per move."""
        state = {**final, "stage": visited[0], "probability": PROBABILITY[visited[0]],
                 "status": "open", "closed_at": None, "lost_reason": None, "version": 1,
                 "from_stage": None, "created_at": final["created_at"]}
        out = self.events[group]
        out.append(self.envelope("sales", "deal.created", state, 1, created))
        self.via_events["deal.created"] += 1
        moves = visited[1:]
        closes = final["status"] != "open"
        for number, stage in enumerate(moves, start=1):
            when = (created + (last - created) * number / len(moves) if closes
                    else created + (last - created) * number / (len(moves) + 1))
            kind = {"won": "deal.won", "lost": "deal.lost"}.get(stage, "deal.stage_changed")
            state = {**state, "from_stage": state["stage"], "stage": stage,
                     "probability": PROBABILITY[stage],
                     "status": stage if stage in ("won", "lost") else "open",
                     "closed_at": final["closed_at"] if stage in ("won", "lost") else None,
                     "lost_reason": final["lost_reason"] if stage == "lost" else None,
                     "version": number + 1}
            out.append(self.envelope("sales", kind, state, number + 1, when))
            self.via_events[kind] += 1

    # -- activities (follow-ups), leads ----------------------------------------------------
    def activities(self) -> None:
        rng, n, now = self.rng, self.n_activities, self.now
        step = (now - self.start) / n
        window = int(120 * DAY / self.deal_step)
        copier = self.copiers[LIVE.activities]
        for i in range(n):
            occurred = self.start + (i + rng.random()) * step
            deal = None
            if rng.random() < 0.6:  # about a deal open at the time, created in the last 120 days
                high = min(self.n_deals, int((occurred - self.start) / self.deal_step))
                for _ in range(3):
                    if high <= 0:
                        break
                    j = rng.randrange(max(0, high - window), high)
                    if self.deal_end[j] >= occurred:
                        deal = j
                        break
            customer = (self.deal_customer[deal] if deal is not None
                        else rng.randrange(self.customer_before(occurred)))
            owner = self.customer_owner[customer]
            user = owner if rng.random() < 0.85 else self.pick_rep(rng)
            data = {"id": self.ident(b"activity", i),
                    "customer_id": self.ident(b"customer", customer),
                    "type": self.pick_activity(rng), "content": "x", "occurred_at": at(occurred),
                    "next_follow_up_at": None,
                    "deal_id": self.ident(b"deal", deal) if deal is not None else None,
                    "user_id": self.reps[user], "version": 1,
                    "customer_name": f"Customer {customer:07d}", "owner_id": self.reps[owner],
                    "team_id": self.rep_team[owner]}
            group = self.customer_group[customer]
            if group:
                self.events[group].append(self.envelope("customers", "activity.logged", data, 1,
                                                        occurred))
                self.via_events["activity.logged"] += 1
            else:
                copier.add(projection.activity_row(data, 1))

    def leads(self) -> None:
        rng, n, now = self.rng, self.n_leads, self.now
        step = (now - self.start) / n
        copier = self.copiers[LIVE.leads]
        for i in range(n):
            created = self.start + (i + rng.random()) * step
            status = self.pick_lead(rng)
            owner = self.pick_rep(rng)
            province, cities = PROVINCES[self.pick_province(rng)]
            converted = (at(min(now - 60, created + rng.lognormvariate(math.log(20), 0.7) * DAY))
                         if status == "converted" else None)
            copier.add(projection.lead_row({
                "id": self.ident(b"lead", i), "status": status,
                "country": "China", "province": province,
                "city": cities[rng.randrange(len(cities))],
                "owner_id": self.reps[owner], "team_id": self.rep_team[owner],
                "created_at": at(created), "converted_at": converted}, 1))


# -- the database ----------------------------------------------------------------------------
def server_engine(server_url: str):
    return sa.create_engine(make_url(sqlalchemy_url(server_url)).set(database="postgres"),
                            isolation_level="AUTOCOMMIT")


def drop_database(server_url: str, name: str) -> None:
    engine = server_engine(server_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def drop_secondary_indexes(engine) -> list[str]:
    """Drop the bulk tables' non-unique indexes; returns their definitions to build again."""
    names = [table.name for table in BULK_TABLES]
    with engine.begin() as conn:
        found = conn.execute(sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.schemaname = 'public' AND i.tablename = ANY(:names) "
            "AND NOT x.indisprimary AND NOT x.indisunique"), {"names": names}).all()
        for name, _ in found:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in found]


def build_indexes(engine, definitions: list[str]) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SET maintenance_work_mem = '256MB'"))
        for definition in definitions:
            conn.execute(sa.text(definition))
            conn.commit()


def vacuum_analyze(engine) -> None:
    """Statistics, and the visibility map that index-only scans need (what autovacuum would
    have done to tables this size by the time anyone reports on them)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))


# -- events through the projection -----------------------------------------------------------
def apply_events(factory, events) -> list[tuple[str, float]]:
    timings = []
    for event in events:
        started = time.perf_counter()
        with factory() as session, session.begin():
            projection.apply(session, event)
        timings.append((event["type"], time.perf_counter() - started))
    return timings


def _worker(url, events, barrier, results, jit_off):
    engine = create_db_engine(url, pool_size=1, max_overflow=0)
    if jit_off:
        sa.event.listen(engine, "connect", _jit_off)
    factory = make_session_factory(engine)
    with engine.connect() as conn:  # connect before the start line
        conn.execute(sa.text("SELECT 1"))
    barrier.wait()
    retries = 0
    for event in events:
        for attempt in range(5):
            try:
                with factory() as session, session.begin():
                    projection.apply(session, event)
                break
            except sa.exc.OperationalError:
                retries += 1
                if attempt == 4:
                    raise
    results.put(retries)
    engine.dispose()


def apply_with_workers(engine, url, events, workers, jit_off) -> tuple[float, int]:
    """The events split by customer (a customer's story stays in order in one process)."""
    shards = [[] for _ in range(workers)]
    owner_of = {}
    for event in events:
        data = event["data"]
        key = data["customer_id"] if "customer_id" in data else data["id"]
        shard = owner_of.setdefault(key, int(str(key)[:8], 16) % workers)
        shards[shard].append(event)
    engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers + 1), context.Queue()
    processes = [context.Process(target=_worker, args=(url, shard, barrier, results, jit_off))
                 for shard in shards]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    retries = sum(results.get() for _ in processes)
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return elapsed, retries


def _jit_off(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()


# -- reports and their hand-written SQL -------------------------------------------------------
DEALS = """FROM reports_deals d LEFT JOIN reports_customers c ON c.id = d.customer_id
WHERE d.currency = :cur AND NOT coalesce(c.deleted, false)"""
MONTH = "to_char(date_trunc('month', d.closed_at AT TIME ZONE :tz), 'YYYY-MM')"

def _been_in(*keys: str) -> str:
    return " OR ".join(f"d.stages LIKE '%,{key},%'" for key in keys)


# deals.stages holds every stage a deal has been in (",qualification,proposal,won,"): an open
# stage is reached by a deal that was in it or a later one, or won.
SQL_FUNNEL = [
    f"""SELECT d.stage, count(*), sum(d.amount), sum(d.amount * d.probability) / 100,
       {", ".join(f"count(*) FILTER (WHERE {_been_in(*OPEN[i:], 'won')})" for i in range(len(OPEN)))},
       count(*) FILTER (WHERE {_been_in('won')}), count(*) FILTER (WHERE {_been_in('lost')})
{DEALS} AND d.created_at >= :s AND d.created_at < :e
GROUP BY d.stage""",
    f"""SELECT d.status, count(*)
{DEALS} AND d.status IN ('won', 'lost') AND d.closed_at >= :s AND d.closed_at < :e
GROUP BY d.status""",
    """SELECT count(*), count(converted_at) FROM reports_leads
WHERE created_at >= :s AND created_at < :e"""]

SQL_REVENUE_MONTH = f"""SELECT {MONTH} AS period, sum(d.amount), count(*), grouping({MONTH})
{DEALS} AND d.status = 'won' AND d.closed_at >= :s AND d.closed_at < :e{{owner}}
GROUP BY ROLLUP ({MONTH})"""

SQL_REVENUE_REGION = f"""SELECT {MONTH} AS period, c.province, sum(d.amount), count(*)
{DEALS} AND d.status = 'won' AND d.closed_at >= :s AND d.closed_at < :e
GROUP BY GROUPING SETS (({MONTH}, c.province), ())"""

SQL_REVENUE_PRODUCT = f"""SELECT g.period, g.product_id, p.name, g.amount, g.count FROM (
  SELECT {MONTH} AS period, l.product_id, sum(coalesce(l.amount, d.amount)) AS amount,
         count(DISTINCT d.id) AS count
  {DEALS.replace('LEFT JOIN reports_customers c ON c.id = d.customer_id', 'LEFT JOIN reports_customers c ON c.id = d.customer_id LEFT JOIN reports_deal_lines l ON l.deal_id = d.id')}
    AND d.status = 'won' AND d.closed_at >= :s AND d.closed_at < :e
  GROUP BY GROUPING SETS (({MONTH}, l.product_id), ())) g
LEFT JOIN reports_products p ON p.id = g.product_id"""

SQL_WIN_RATE = f"""SELECT w.owner_id, coalesce(u.display_name, u.username), w.won, w.lost, w.total
FROM (SELECT d.owner_id, count(*) FILTER (WHERE d.status = 'won') AS won,
             count(*) FILTER (WHERE d.status = 'lost') AS lost, grouping(d.owner_id) AS total
      {DEALS} AND d.status IN ('won', 'lost') AND d.closed_at >= :s AND d.closed_at < :e
      GROUP BY ROLLUP (d.owner_id)) w
LEFT JOIN reports_users u ON u.id = w.owner_id"""

SQL_SALES_CYCLE = f"""SELECT d.status, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.closed_at - d.created_at)) / 86400,
       avg(extract(epoch FROM d.closed_at - d.created_at)) / 86400
{DEALS} AND d.status IN ('won', 'lost') AND d.closed_at >= :s AND d.closed_at < :e
GROUP BY d.status"""

SQL_LEADERBOARD = f"""WITH won AS (
  SELECT d.owner_id, sum(d.amount) AS amount, count(*) AS count
  {DEALS} AND d.status = 'won' AND d.closed_at >= :s AND d.closed_at < :e GROUP BY d.owner_id),
pipe AS (SELECT d.owner_id, sum(d.amount) AS amount {DEALS} AND d.status = 'open'
         GROUP BY d.owner_id),
logged AS (SELECT a.user_id AS owner_id, count(*) AS count
           FROM reports_activities a JOIN reports_customers c ON c.id = a.customer_id
           WHERE NOT c.deleted AND a.occurred_at >= :s AND a.occurred_at < :e
           GROUP BY a.user_id)
SELECT owner_id, coalesce(u.display_name, u.username), won.amount, won.count, pipe.amount,
       logged.count
FROM won FULL JOIN pipe USING (owner_id) FULL JOIN logged USING (owner_id)
LEFT JOIN reports_users u ON u.id = owner_id
ORDER BY won.amount DESC NULLS LAST"""

SQL_ACTIVITIES = """SELECT g.period, g.user_id, coalesce(u.display_name, u.username), g.type, g.count
FROM (SELECT to_char(date_trunc('month', a.occurred_at AT TIME ZONE :tz), 'YYYY-MM') AS period,
             a.user_id, a.type, count(*) AS count
      FROM reports_activities a JOIN reports_customers c ON c.id = a.customer_id
      WHERE NOT c.deleted AND a.occurred_at >= :s AND a.occurred_at < :e
      GROUP BY 1, 2, 3) g
LEFT JOIN reports_users u ON u.id = g.user_id"""

SQL_DORMANT = """WITH last AS (
  SELECT customer_id, max(occurred_at) AS last FROM reports_activities
  WHERE occurred_at < :measured GROUP BY customer_id),
dormant AS (
  SELECT c.id, c.name, c.owner_id, l.last, coalesce(l.last, c.created_at) AS since,
         count(*) OVER () AS total
  FROM reports_customers c LEFT JOIN last l ON l.customer_id = c.id
  WHERE NOT c.deleted AND c.created_at < :measured AND coalesce(l.last, c.created_at) < :cutoff
  ORDER BY since, c.name, c.id LIMIT :limit)
SELECT d.id, d.name, coalesce(u.display_name, u.username), d.last, d.total, pc.name, pc.phone
FROM dormant d LEFT JOIN reports_users u ON u.id = d.owner_id
LEFT JOIN LATERAL (SELECT name, phone FROM reports_contacts
                   WHERE customer_id = d.id AND is_primary AND NOT deleted
                   ORDER BY name, id LIMIT 1) pc ON true
ORDER BY d.since, d.name, d.id"""

SQL_FORECAST = [
    f"""SELECT CASE WHEN d.expected_close_date IS NULL THEN 'unscheduled'
            WHEN d.expected_close_date < :month_start THEN 'overdue'
            ELSE to_char(d.expected_close_date, 'YYYY-MM') END AS bucket,
       count(*), sum(d.amount), sum(d.amount * d.probability) / 100
{DEALS} AND d.status = 'open'
GROUP BY 1""",
    SQL_REVENUE_MONTH.format(owner="")]


def fmt_money(value) -> str:
    return reports.money(value)


def as_str(value):
    return str(value) if value is not None else None


class Check:
    """Each report's main figures beside the same figures from the hand-written SQL."""

    @staticmethod
    def funnel(answer, results):
        current, closed, leads = results
        sql_rows = {row[0]: (row[1], fmt_money(row[2])) for row in current}
        reached = {key: sum(row[4 + i] for row in current) for i, key in
                   enumerate([*OPEN, "won", "lost"])}
        mine = {row["stage"]: (row["count"], row["amount"], row["reached"])
                for row in answer["rows"]}
        theirs = {key: (*sql_rows.get(key, (0, "0.00")), reached.get(key, 0))
                  for key in mine}
        closed = dict(closed)
        return (mine == theirs and answer["totals"]["won"] == closed.get("won", 0)
                and answer["totals"]["lost"] == closed.get("lost", 0)
                and answer["totals"]["leads"] == leads[0][0])

    @staticmethod
    def revenue_month(answer, results):
        (rows,) = results
        theirs = {period: (fmt_money(amount), count) for period, amount, count, total in rows
                  if not total}
        mine = {row["period"]: (row["won_amount"], row["won_count"]) for row in answer["rows"]
                if row["won_count"]}
        total = [(fmt_money(amount), count) for _, amount, count, t in rows if t]
        total = total[0] if total else ("0.00", 0)
        return mine == theirs and (answer["totals"]["won_amount"],
                                   answer["totals"]["won_count"]) == total

    @staticmethod
    def revenue_region(answer, results):
        (rows,) = results
        theirs = {(period, province or reports.NONE_LABEL, fmt_money(amount), count)
                  for period, province, amount, count in rows if period is not None}
        mine = {(row["period"], row["region"], row["won_amount"], row["won_count"])
                for row in answer["rows"]}
        return mine == theirs

    @staticmethod
    def revenue_product(answer, results):
        (rows,) = results
        theirs = {(period, as_str(product), fmt_money(amount), count)
                  for period, product, _, amount, count in rows if period is not None}
        mine = {(row["period"], row["product_id"], row["won_amount"], row["won_count"])
                for row in answer["rows"]}
        return mine == theirs

    @staticmethod
    def win_rate(answer, results):
        (rows,) = results
        theirs = {(as_str(owner), won, lost) for owner, _, won, lost, total in rows if not total}
        mine = {(row["owner_id"], row["won"], row["lost"]) for row in answer["rows"]}
        totals = [(won, lost) for _, _, won, lost, total in rows if total]
        return mine == theirs and (answer["totals"]["won"], answer["totals"]["lost"]) == (
            totals[0] if totals else (0, 0))

    @staticmethod
    def sales_cycle(answer, results):
        (rows,) = results
        for status, count, median, mean in rows:
            mine = answer["totals"][status]
            if (mine["count"], mine["median_days"], mine["mean_days"]) != (
                    count, reports.days(Decimal(str(median))), reports.days(Decimal(str(mean)))):
                return False
        return True

    @staticmethod
    def leaderboard(answer, results):
        (rows,) = results
        theirs = {(as_str(owner), fmt_money(won or 0), count or 0, fmt_money(pipe or 0),
                   logged or 0) for owner, _, won, count, pipe, logged in rows}
        mine = {(row["owner_id"], row["won_amount"], row["won_count"], row["open_pipeline"],
                 row["activities"]) for row in answer["rows"]}
        return mine == theirs

    @staticmethod
    def activities(answer, results):
        (rows,) = results
        theirs = {(period, as_str(user), kind, count) for period, user, _, kind, count in rows}
        mine = {(row["period"], row["user_id"], row["type"], row["count"])
                for row in answer["rows"]}
        return mine == theirs

    @staticmethod
    def dormant(answer, results):
        (rows,) = results
        total = rows[0][4] if rows else 0
        return (answer["totals"]["count"] == total
                and [row["customer_id"] for row in answer["rows"]] == [str(r[0]) for r in rows]
                and [row["primary_contact"] for row in answer["rows"]] == [r[5] for r in rows])

    @staticmethod
    def forecast(answer, results):
        buckets, history = results
        theirs = {(bucket, count, fmt_money(amount), fmt_money(weighted))
                  for bucket, count, amount, weighted in buckets}
        mine = {(row["period"], row["count"], row["amount"], row["weighted_amount"])
                for row in answer["rows"] if row["kind"] == "pipeline"}
        months = {period: fmt_money(amount) for period, amount, _, t in history if not t}
        inputs = {item["period"]: item["won_amount"] for item in answer["method"]["inputs"]
                  if item["won_amount"] != "0.00"}
        return mine == theirs and inputs == months


class Case:
    def __init__(self, label, name, args, sql, check, actor=None, params=None):
        self.label, self.name, self.args, self.check = label, name, args, check
        self.sql = sql if isinstance(sql, list) else [sql]
        self.actor, self.params = actor, params or {}


def cases(year_first: dt.date, year_last: dt.date, world: Dataset, rep_index: int):
    span = {"from": year_first.isoformat(), "to": year_last.isoformat()}
    rep = world.reps[rep_index]
    rep_actor = Actor(user_id=str(rep), role="sales", team_id=str(world.rep_team[rep_index]))
    return [
        Case("funnel", "funnel", span, SQL_FUNNEL, Check.funnel),
        Case("revenue month", "revenue", {**span, "period": "month"},
             SQL_REVENUE_MONTH.format(owner=""), Check.revenue_month),
        Case("revenue month x region", "revenue", {**span, "period": "month",
                                                   "group_by": "region"},
             SQL_REVENUE_REGION, Check.revenue_region),
        Case("revenue month x product", "revenue", {**span, "period": "month",
                                                    "group_by": "product"},
             SQL_REVENUE_PRODUCT, Check.revenue_product),
        Case("win-rate by owner", "win-rate", span, SQL_WIN_RATE, Check.win_rate),
        Case("sales-cycle", "sales-cycle", span, SQL_SALES_CYCLE, Check.sales_cycle),
        Case("leaderboard", "leaderboard", span, SQL_LEADERBOARD, Check.leaderboard),
        Case("activities month", "activities", {**span, "period": "month"}, SQL_ACTIVITIES,
             Check.activities),
        Case("dormant-customers 30d", "dormant-customers",
             {"to": year_last.isoformat(), "days": 30}, SQL_DORMANT, Check.dormant,
             params={"limit": 500}),
        Case("forecast", "forecast", {**span, "period": "month"}, SQL_FORECAST, Check.forecast),
        Case(f"revenue month, rep {rep_index:02d} (sales)", "revenue",
             {**span, "period": "month"},
             SQL_REVENUE_MONTH.format(owner=" AND d.owner_id = :rep"), Check.revenue_month,
             actor=rep_actor, params={"rep": str(rep)}),
    ]


class StatementLog:
    """The statements a report issues, with the time each took at the server (and in
    transfer); what is left of a run's wall time is Python."""

    def __init__(self, engine):
        self.active, self.entries = False, []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.entries.append((statement, parameters,
                                 time.perf_counter() - conn.info.pop("bench_started")))


def explain(engine, statement, parameters, lines=40) -> list[str]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [row[0] for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return plan[:lines] + (["  ..."] if len(plan) > lines else [])


def run_reports(args, engine, factory, world: Dataset):
    now = args.now
    year_first = dt.date(now.year - 1, 1, 1)
    year_last = dt.date(now.year - 1, 12, 31)
    tz = ZoneInfo(args.tz)
    start, end = calendar.midnight(year_first, tz), calendar.midnight(
        year_last + dt.timedelta(days=1), tz)
    month_start = calendar.periods(calendar.local_date(now, tz), calendar.local_date(now, tz),
                                   "month", tz)[0].first_day
    cutoff = min(end, now) - dt.timedelta(days=30)
    base = {"s": start, "e": end, "cur": "CNY", "tz": args.tz, "month_start": month_start,
            "measured": min(end, now), "cutoff": cutoff}
    admin = Actor(user_id=None, role="admin")
    log = StatementLog(engine)
    failures = []
    # The rep with the most deals: the scoped case at its heaviest.
    with engine.connect() as conn:
        busiest = conn.execute(sa.text(
            "SELECT owner_id FROM reports_deals GROUP BY owner_id ORDER BY count(*) DESC "
            "LIMIT 1")).scalar()
    busiest = uuid.UUID(str(busiest)) if busiest else None
    rep_index = world.reps.index(busiest) if busiest in world.reps else 0
    say(f"\nReports over {year_first} .. {year_last} ({args.tz}), now={now.isoformat()}; "
        f"{args.warmups} warm-ups, then {args.repeats} runs of each (fewer when they would "
        f"take over {args.case_budget:.0f} s), report and SQL interleaved; ms")
    header = (f"{'report':<34} {'rows':>5} {'runs':>4} {'report p50':>10} {'p95':>8} "
              f"{'SQL p50':>9} {'p95':>8} {'p95 ratio':>9}  same")
    say(header)
    say("-" * len(header))
    summary = []
    for case in cases(year_first, year_last, world, rep_index):
        actor = case.actor or admin
        params = {**base, **case.params}

        def report():
            with factory() as session:
                return reports.run(session, query.parse(case.name, case.args, actor, now))

        def hand_written():
            with engine.connect() as conn:
                return [conn.execute(sa.text(sql), params).all() for sql in case.sql]

        label = case.label
        started = time.perf_counter()
        try:
            for _ in range(max(1, args.warmups)):
                report()
                hand_written()
        except sa.exc.DBAPIError as exc:
            first_line = str(exc.orig).splitlines()[0] if exc.orig else str(exc)[:100]
            say(f"{label:<34} FAILS on PostgreSQL: {first_line}")
            failures.append((case.label, first_line))
            continue
        each = (time.perf_counter() - started) / max(1, args.warmups)
        runs = max(min(5, args.repeats), min(args.repeats, int(args.case_budget / each)))
        mine, theirs = [], []
        for _ in range(runs):
            started = time.perf_counter()
            answer = report()
            mine.append(time.perf_counter() - started)
            started = time.perf_counter()
            results = hand_written()
            theirs.append(time.perf_counter() - started)
        try:
            same = "yes" if case.check(answer, results) else "NO"
        except Exception as exc:  # noqa: BLE001 - a figure to look at, not a crash
            same = f"? {type(exc).__name__}: {exc}"
        figures = (percentile(mine, 50), percentile(mine, 95), percentile(theirs, 50),
                   percentile(theirs, 95))
        ratio = figures[1] / figures[3] if figures[3] else float("inf")
        say(f"{label:<34} {len(answer['rows']):>5} {runs:>4} {figures[0]:>10.1f} "
            f"{figures[1]:>8.1f} {figures[2]:>9.1f} {figures[3]:>8.1f} {ratio:>8.2f}x  {same}")
        # One more run of each with the statements logged: where the time goes.
        log.entries, log.active = [], True
        started = time.perf_counter()
        report()
        wall = time.perf_counter() - started
        report_statements = log.entries
        log.entries = []
        hand_written()
        sql_statements = log.entries
        log.active = False
        summary.append((case, figures, ratio, wall, report_statements, sql_statements, params))

    say("\nWhere a report's time goes (one more run, statements timed at the client: "
        "server + transfer; the rest is Python)")
    say(f"{'report':<34} {'stmts':>5} {'SQL ms':>8} {'Python ms':>9}  slowest statements (ms)")
    for case, figures, ratio, wall, statements, _, _ in summary:
        in_sql = sum(seconds for _, _, seconds in statements) * 1000
        slowest = sorted((seconds * 1000 for _, _, seconds in statements), reverse=True)[:4]
        say(f"{case.label:<34} {len(statements):>5} {in_sql:>8.1f} {wall * 1000 - in_sql:>9.1f}"
            f"  {', '.join(f'{ms:.0f}' for ms in slowest)}")
    for label, error in failures:
        say(f"\nFAILED: {label}: {error}")
    flagged = [item for item in summary if item[2] > 2 or item[1][1] > 500]
    if flagged:
        say("\nOver the aim (p95 > 2x SQL or > 500 ms): "
            + ", ".join(case.label for case, *_ in flagged))
    if args.explain:
        chosen = summary if args.explain == "all" else flagged
        for case, figures, ratio, wall, statements, sql_statements, params in chosen:
            say(f"\n=== {case.label}: EXPLAIN ANALYZE of the report's statements over "
                f"{args.explain_over} ms")
            for statement, parameters, seconds in statements:
                if seconds * 1000 >= args.explain_over:
                    say(f"--- {seconds * 1000:.0f} ms:\n{statement}\n-- plan:")
                    for line in explain(engine, statement, parameters):
                        say("  " + line)
            say(f"=== {case.label}: the hand-written SQL")
            for statement, parameters, seconds in sql_statements:
                if seconds * 1000 >= args.explain_over:
                    say(f"--- {seconds * 1000:.0f} ms; plan:")
                    for line in explain(engine, statement, parameters):
                        say("  " + line)


# -- the run ---------------------------------------------------------------------------------
def code_version() -> str:
    """The commit, and a digest of services/reports as it is on disk: what this run measured
    (the working tree may differ from the commit)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted((root / "services" / "reports").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        import subprocess

        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        commit = "?"
    return f"commit {commit or '?'}, services/reports sha256 {digest.hexdigest()[:12]}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server to create the bench database on")
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, help="default: deals / 5")
    parser.add_argument("--activities", type=int, help="default: deals x 2")
    parser.add_argument("--leads", type=int, help="default: deals x 0.3")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--years", type=int, default=3, help="of data before --now's year")
    parser.add_argument("--now", default="2026-01-10T00:00:00+00:00")
    parser.add_argument("--tz", default="UTC", help="CRM_BUSINESS_TZ for the reports")
    parser.add_argument("--event-sample", type=int,
                        help="events through projection.apply (default 20,000, or 1 %% of "
                             "all the events when that is less)")
    parser.add_argument("--workers", type=int, default=1,
                        help="also apply another sample with N processes")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--case-budget", type=float, default=120, metavar="SECONDS",
                        help="fewer runs (5 at least) for a report whose runs would take longer")
    parser.add_argument("--seed", type=int, default=20260110)
    parser.add_argument("--jit-off", action="store_true", help="SET jit = off per connection")
    parser.add_argument("--explain", nargs="?", const="flagged", choices=("flagged", "all"),
                        help="print EXPLAIN ANALYZE of the slow statements (of the reports "
                             "over the aim, or all)")
    parser.add_argument("--explain-over", type=float, default=20.0, metavar="MS")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args(argv)
    args.now = dt.datetime.fromisoformat(args.now).astimezone(UTC)
    args.customers = args.customers or max(100, args.deals // 5)
    args.activities = args.activities if args.activities is not None else args.deals * 2
    args.leads = args.leads if args.leads is not None else args.deals * 3 // 10
    total = args.customers + args.deals * 3.15 + args.activities
    if args.event_sample is None:
        args.event_sample = int(min(20_000, max(500, total * 0.01)))
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ["CRM_BUSINESS_TZ"] = args.tz
    os.environ.setdefault("CRM_CURRENCY", "CNY")
    name = f"crm_bench_reports_{uuid.uuid4().hex[:8]}"
    url = make_url(sqlalchemy_url(args.server)).set(database=name).render_as_string(
        hide_password=False)
    began = time.perf_counter()
    say(f"database {name} on {make_url(url).host}:{make_url(url).port}")
    upgrade("reports", url)
    engine = create_db_engine(url)
    if args.jit_off:
        sa.event.listen(engine, "connect", _jit_off)
    factory = make_session_factory(engine)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
            settings = dict(conn.execute(sa.text(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather', "
                "'synchronous_commit', 'random_page_cost')")).all())
        say(f"PostgreSQL {version}; " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
        say(f"reports code: {code_version()}")
        say(f"dataset: seed {args.seed}, {args.deals:,} deals, {args.customers:,} customers, "
            f"{args.activities:,} activities, {args.leads:,} leads, {args.reps} reps in "
            f"{args.teams} teams, {args.products} products, {args.years} years to {args.now:%Y-%m-%d}")

        copiers = {table: Copier(engine, table) for table in BULK_TABLES}
        world = Dataset(args, copiers)
        with factory() as session, session.begin():
            for event in world.world_events():
                projection.apply(session, event)

        # Bulk load: generate in creation order, rows from the projection's mappers, COPY.
        started = time.perf_counter()
        definitions = drop_secondary_indexes(engine)
        for label, step in (("customers", world.customers), ("deals", world.deals),
                            ("activities", world.activities), ("leads", world.leads)):
            phase = time.perf_counter()
            step()
            for copier in copiers.values():
                copier.flush()
            say(f"  generated and copied {label} in {time.perf_counter() - phase:.0f} s")
        copy_seconds = sum(copier.seconds for copier in copiers.values())
        phase = time.perf_counter()
        build_indexes(engine, definitions)
        index_seconds = time.perf_counter() - phase
        phase = time.perf_counter()
        vacuum_analyze(engine)
        say(f"bulk load: {time.perf_counter() - started:.0f} s (COPY {copy_seconds:.0f} s, "
            f"{len(definitions)} indexes built in {index_seconds:.0f} s, VACUUM ANALYZE "
            f"{time.perf_counter() - phase:.0f} s; the rest generating rows in Python)")

        # Events through the real projection, on the full, indexed tables.
        sample = sorted(world.events[1], key=lambda event: event["occurred_at"])
        timings = apply_events(factory, sample)
        elapsed = sum(seconds for _, seconds in timings)
        say(f"\nevents applied through projection.apply, one transaction each, 1 process: "
            f"{len(timings):,} events in {elapsed:.1f} s = {len(timings) / elapsed:,.0f} events/s; "
            f"per event p50 {percentile([s for _, s in timings], 50):.2f} ms, "
            f"p95 {percentile([s for _, s in timings], 95):.2f} ms")
        per_type = defaultdict(list)
        for kind, seconds in timings:
            per_type[kind].append(seconds)
        say("  by type: " + ", ".join(
            f"{kind} {len(v):,} x {statistics.fmean(v) * 1000:.2f} ms"
            for kind, v in sorted(per_type.items())))
        if args.workers > 1:
            shared = sorted(world.events[2], key=lambda event: event["occurred_at"])
            seconds, retries = apply_with_workers(engine, url, shared, args.workers, args.jit_off)
            say(f"events applied with {args.workers} processes: {len(shared):,} events in "
                f"{seconds:.1f} s = {len(shared) / seconds:,.0f} events/s "
                f"({retries} retried after a lock error)")
        vacuum_analyze(engine)

        with engine.connect() as conn:
            counts = {table.name: conn.execute(sa.select(sa.func.count()).select_from(
                table)).scalar() for table in BULK_TABLES}
            size = conn.execute(sa.text("SELECT pg_size_pretty(pg_database_size("
                                        "current_database()))")).scalar()
        say("\nread model: " + ", ".join(f"{name.removeprefix('reports_')} {count:,}"
                                        for name, count in counts.items()) + f"; {size}")
        applied = world.via_events
        say("  through projection.apply: " + ", ".join(
            f"{kind} {count:,}" for kind, count in sorted(applied.items()))
            + "; everything else bulk-loaded (COPY of the row mappers' rows): "
            + ", ".join(f"{table.name.removeprefix('reports_')} {copier.count:,}"
                        for table, copier in copiers.items()))

        run_reports(args, engine, factory, world)
    finally:
        engine.dispose()
        if args.keep:
            say(f"\nkept database {name}: {url}")
        else:
            drop_database(args.server, name)
            say(f"\ndropped database {name}")
        say(f"(run took {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
