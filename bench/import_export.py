"""Import and export benchmark: customers from a CSV through the API on PostgreSQL, then
exported again, each in rows per second beside a plain executemany of the same rows into the
same tables in the same run. Prints figures; asserts nothing.

    .venv/bin/python bench/import_export.py                 # 100,000 rows, its own stack
    .venv/bin/python bench/import_export.py --rows 20000    # a quicker run
    .venv/bin/python bench/import_export.py --import-only   # stop after the import (A/B runs)
    .venv/bin/python bench/import_export.py --url http://127.0.0.1:8000 \\
        --username admin --password ... \\
        --customers-db postgresql://postgres@127.0.0.1:5432/crm_customers

Without --url it starts its own stack (fresh PostgreSQL databases and a RabbitMQ vhost, as
the tests do) and stops it at the end. With --url it uses that gateway; the baseline then
needs the customers service's database (--customers-db), and is skipped without it.

- **file**: --rows customers in the export's own columns (``TRANSFER_COLUMNS``), Chinese
  text, tags, custom fields and a primary contact each, every name, phone and email unique
  (so duplicate detection stores them all), written by the export's own cell encoding.
- **import**: ``POST /api/v1/imports`` (atomic, on_duplicate=skip), timed from the first
  byte of the upload until the job says it finished; rows/s is the file's rows over that.
- **events**: how long after the job finished the relay had published the import's events
  (the outbox of the customers database; needs the baseline's database), waited for before
  the exports so they do not run against the publishing.
- **export**: ``GET /api/v1/customers/export`` of exactly those rows (by their tag), CSV and
  XLSX, timed until the last byte; with its own stack, the peak memory (RSS) of the gateway's
  workers and of the customers service during each export.
- **baseline**: the same rows (another tag) with one ``executemany`` per table (customers,
  their tags, their contacts) in one transaction, with SQLAlchemy Core on psycopg2.
- **with history and events**: the same again (a third tag), plus what every create also
  writes in its transaction: a history row and an outbox event per customer and per contact,
  with snapshots of their size; once by ``executemany`` and once by ``COPY`` (a fourth tag;
  the import writes with ``common.db.insert_many``, which a service can run cooperatively).
  The ``COPY`` line is the floor of any import that records history and publishes through
  the outbox, whatever its code: the goal compared with it says whether this machine can
  meet it.

The goal of issue 10 is at least 100,000 rows a minute through the whole import path.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")

from common import normalize  # noqa: E402
from common.db import create_db_engine, new_row, utcnow  # noqa: E402
from common.tabular import transfer_cell  # noqa: E402
from crm_cli.client import Client  # noqa: E402
from crm_cli.main import FINISHED, submit, wait_for  # noqa: E402
from services.customers.models import (  # noqa: E402
    Contact, Customer, CustomerTag, FieldChange, platform)
from services.customers.schemas import TRANSFER_COLUMNS  # noqa: E402
from tests.support.stack import ADMIN_PASSWORD, Stack  # noqa: E402

FIELDS = [field for field, *_ in TRANSFER_COLUMNS]
GOAL_PER_SECOND = 100_000 / 60
CITIES = [("浙江", "杭州"), ("浙江", "宁波"), ("江苏", "苏州"), ("广东", "深圳"), ("上海", "上海"),
          ("Bavaria", "München"), ("California", "San Francisco")]
INDUSTRIES = ["制造", "Retail, wholesale", "软件", "Logistics", "医疗", "=formula-like"]


def say(*parts) -> None:
    print(*parts, flush=True)


def records(count: int, tag: str, seed: int, first: int = 0) -> list[dict]:
    """``count`` customers as the API holds them (tags a list, custom fields a dict),
    numbered from ``first`` (their names, phones and emails unique by number)."""
    rng = random.Random(seed)
    result = []
    for number in range(first, first + count):
        province, city = rng.choice(CITIES)
        result.append({
            "name": f"{rng.choice(['杭州', 'Acme', '深圳'])} {tag} {number:07d} 有限公司",
            "type": rng.choice(["company", "company", "person"]),
            "industry": rng.choice(INDUSTRIES), "country": "中国", "province": province,
            "city": city, "source": rng.choice(["referral", "web", "展会", None]),
            "tier": rng.choice(["A", "B", "C", None]),
            "status": rng.choice(["prospect", "active", "dormant"]),
            "owner_id": None, "team_id": None,
            "tags": sorted([tag, rng.choice(["vip", "重点", "new"])]),
            "custom_fields": {"erp_code": f"{number:07d}", "employees": rng.randint(1, 5000)},
            "notes": rng.choice([None, "Line one\nline two, with \"quotes\"", "+ plus first"]),
            "contact_name": f"联系人 {number}",
            "contact_phone": f"+86 139 {number // 10000:04d} {number % 10000:04d}",
            "contact_email": f"c{number}.{tag}@example.cn",
        })
    return result


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow(["" if (cell := transfer_cell(row[field])) is None else cell
                             for field in FIELDS])


class PeakMemory:
    """The largest total resident memory of some processes (and their children), sampled
    every 50 ms on a thread while in the ``with`` block (Linux /proc)."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak, self.done = pids, 0, threading.Event()

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        own = next((int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmRSS:")), 0) * 1024
        return own + sum(PeakMemory._rss(int(child)) for child in children)

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, sum(self._rss(pid) for pid in self.pids))

    def __enter__(self):
        self.before = sum(self._rss(pid) for pid in self.pids)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def text(self) -> str:
        if not self.pids:
            return ""
        return f"  peak RSS {self.peak / 1e6:,.0f} MB (before {self.before / 1e6:,.0f} MB)"


def baseline(database_url: str, rows: list[dict], *, with_history: bool = False,
             copy: bool = False) -> float:
    """Seconds to store ``rows`` with one executemany per table in one transaction
    (``with_history``: also a history row and an outbox event per customer and contact;
    ``copy``: one ``COPY`` per table instead)."""
    now = utcnow()
    customers, tags, contacts, changes, events = [], [], [], [], []
    for row in rows:
        customer_id = uuid.uuid4()
        customer = {
            **{field: row[field] for field in FIELDS if not field.startswith("contact_")
               and field != "tags"},
            "id": customer_id, "name_normalized": normalize.name(row["name"]),
            "version": 1, "created_at": now, "updated_at": now}
        customers.append(customer)
        tags += [{"customer_id": customer_id, "tag": tag} for tag in row["tags"]]
        contact = {
            "id": uuid.uuid4(), "customer_id": customer_id, "name": row["contact_name"],
            "phone": row["contact_phone"], "email": row["contact_email"],
            "phone_normalized": normalize.phone(row["contact_phone"]),
            "email_normalized": normalize.email(row["contact_email"]), "is_primary": True,
            "version": 1, "created_at": now, "updated_at": now}
        contacts.append(contact)
        for entity_type, entity in (("customer", {**customer, "tags": row["tags"]}),
                                    ("contact", contact)):
            snapshot = json.loads(json.dumps(entity, default=str))
            changes.append({
                "id": uuid.uuid4(), "customer_id": customer_id, "entity_type": entity_type,
                "entity_id": entity["id"], "entity_version": 1, "action": "created",
                "new_value": snapshot, "actor_role": "admin", "changed_at": now})
            events.append({
                # Marked published: the stack's relay leaves them alone.
                "id": uuid.uuid4(), "exchange": "customers.events", "published_at": now,
                "routing_key": f"{entity_type}.created", "created_at": now, "attempts": 0,
                "payload": {"id": str(uuid.uuid4()), "type": f"{entity_type}.created",
                            "occurred_at": now.isoformat(), "entity_id": str(entity["id"]),
                            "entity_version": 1, "data": snapshot}})
    engine = create_db_engine(database_url)
    try:
        tables = [(Customer, customers), (CustomerTag, tags), (Contact, contacts)]
        if with_history:
            tables += [(FieldChange, changes), (platform.Outbox, events)]
        started = time.perf_counter()
        with engine.begin() as connection:
            for model, table_rows in tables:
                if copy:
                    copy_rows(connection, model.__table__, table_rows)
                else:
                    connection.execute(sa.insert(model.__table__), table_rows)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def copy_rows(connection, table: sa.Table, rows: list[dict]) -> None:
    """``rows`` into ``table`` by one ``COPY ... FROM STDIN`` in its text format, each value
    bound by its column's type (JSON serialised, times in UTC), with the model defaults."""
    rows = [new_row(table, row) for row in rows]
    dialect = connection.dialect
    binds = [column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
             for column in table.columns]

    def text(value) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        return (str(value).replace("\\", "\\\\").replace("\t", "\\t")
                .replace("\n", "\\n").replace("\r", "\\r"))

    lines = "".join("\t".join(text(bind(row[column.key]))
                              for column, bind in zip(table.columns, binds)) + "\n"
                    for row in rows)
    cursor = connection.connection.driver_connection.cursor()
    cursor.copy_expert(f"COPY {table.name} ({', '.join(table.columns.keys())}) FROM STDIN",
                       io.StringIO(lines))


def run_import(client: Client, path: Path, deadline: float) -> tuple[float, float, float, dict]:
    """Seconds from the first byte of the upload until the job finished (by the job's own
    ``finished_at``: the client's polls, up to 2 s apart, would add their lag; so with
    ``--url`` the gateway's services must share this machine's clock), until the upload was answered (202) and until the job
    started, and the finished job."""
    started = time.time()
    job = submit(client, path, {"entity": "customers", "on_duplicate": "skip",
                                "dry_run": "false", "atomic": "true"})
    uploaded = time.time() - started
    job = wait_for(client, job, deadline)
    if job["status"] not in FINISHED:
        raise TimeoutError(f"import {job['id']} still {job['status']} at the deadline")

    def after(moment: str) -> float:
        return dt.datetime.fromisoformat(job[moment]).timestamp() - started

    return after("finished_at"), uploaded, after("started_at"), job


def events_published(database_url: str, since: dt.datetime, deadline: float) -> tuple[float, int]:
    """``(when the last of them was marked published, how many)`` of the outbox events
    written since ``since`` (the import's), once none is left unpublished."""
    engine = create_db_engine(database_url)
    table = platform.Outbox.__table__
    try:
        while True:
            with engine.connect() as connection:
                left, count, last = connection.execute(sa.select(
                    sa.func.count().filter(table.c.published_at.is_(None)), sa.func.count(),
                    sa.func.max(table.c.published_at)).where(table.c.created_at >= since)).one()
            if not left or time.monotonic() > deadline:
                return (last.timestamp() if last else float("nan")), count
            time.sleep(0.2)
    finally:
        engine.dispose()


def run_export(client: Client, tag: str, file_format: str,
               pids: list[int]) -> tuple[float, int, int, str]:
    """Seconds, bytes, data rows and the memory note of one export of the rows tagged ``tag``."""
    with PeakMemory(pids) as memory:
        started = time.perf_counter()
        with client.open("GET", "/customers/export",
                         params={"tag": tag, "format": file_format}) as response:
            body = response.read()
        seconds = time.perf_counter() - started
    if file_format == "csv":
        count = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))) - 1
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        count = sum(1 for _ in sheet.iter_rows()) - 1
    return seconds, len(body), count, memory.text()


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:10,.0f} rows/s  ({seconds:7.2f} s, {rows / seconds * 60:,.0f}/min)"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--url", help="a running gateway (default: start a stack)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default=ADMIN_PASSWORD)
    parser.add_argument("--customers-db", help="with --url: the customers service's database")
    parser.add_argument("--deadline", type=float, default=1800,
                        help="seconds the import may take before the run gives up")
    parser.add_argument("--import-only", action="store_true",
                        help="stop after the import (no wait for its events, no export): "
                             "A/B runs of the import path")
    args = parser.parse_args(argv)

    stack, pids = None, []
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    try:
        if args.url:
            base_url, database_url = args.url, args.customers_db
        else:
            say("starting a stack on PostgreSQL ...")
            stack = Stack(workdir)
            stack.start()
            base_url, database_url = stack.base_url, stack.database_url("customers")
            pids = [stack.processes["gateway"].pid, stack.processes["customers"].pid]
        client = Client(base_url, username=args.username, password=args.password,
                        timeout=max(args.deadline, 300))
        client.sign_in()
        tag = f"bench{uuid.uuid4().hex[:6]}"
        rows = records(args.rows, tag, args.seed)
        path = workdir / "customers.csv"
        write_csv(path, rows)
        say(f"{args.rows:,} customers, {path.stat().st_size / 1e6:,.1f} MB of CSV "
            f"(tag {tag})")

        sql_seconds = None
        if database_url:
            sql_rows = records(args.rows, f"{tag}sql", args.seed, first=args.rows)
            sql_seconds = baseline(database_url, sql_rows)
            say(f"{'executemany baseline':<22}{rate(args.rows, sql_seconds)}")
            full_rows = records(args.rows, f"{tag}all", args.seed, first=2 * args.rows)
            full_seconds = baseline(database_url, full_rows, with_history=True)
            say(f"{'  with history, events':<22}{rate(args.rows, full_seconds)}")
            copy_rows = records(args.rows, f"{tag}copy", args.seed, first=3 * args.rows)
            copy_seconds = baseline(database_url, copy_rows, with_history=True, copy=True)
            verdict = "can" if args.rows / copy_seconds >= GOAL_PER_SECOND else "CANNOT"
            say(f"{'    the same by COPY':<22}{rate(args.rows, copy_seconds)}  "
                f"(so this machine {verdict} meet the goal with history and events)")
        else:
            say("executemany baseline: skipped (give --customers-db with --url)")

        exported_tag = tag
        if "/api/v1/imports" not in client.call("GET", "/openapi.json")["paths"]:
            say("import: POST /api/v1/imports is not in this build; exporting the baseline's "
                "rows instead")
            exported_tag = f"{tag}sql"
        else:
            import_seconds, upload_seconds, start_seconds, job = run_import(
                client, path, time.monotonic() + args.deadline)
            say(f"{'import (API)':<22}{rate(args.rows, import_seconds)}  "
                f"{job['status']}, counts {json.dumps(job['counts'])}")
            say(f"{'  of which upload':<22}{upload_seconds:10.2f} s until the 202, "
                f"{start_seconds - upload_seconds:.2f} s queued, "
                f"{import_seconds - start_seconds:.2f} s running")
            if database_url and not args.import_only:
                started_at = dt.datetime.fromisoformat(job["started_at"])
                last, events = events_published(database_url, started_at,
                                                time.monotonic() + args.deadline)
                finished = dt.datetime.fromisoformat(job["finished_at"]).timestamp()
                say(f"{'  events published':<22}{last - finished:10.2f} s after the job "
                    f"finished ({events:,} events; the exports below run after them)")
            if sql_seconds:
                say(f"{'  ratio import/SQL':<22}{sql_seconds / import_seconds:10.3f}  "
                    f"(the API path at {100 * sql_seconds / import_seconds:.1f} % of "
                    f"executemany's rate)")
                say(f"{'  ratio to all writes':<22}{full_seconds / import_seconds:10.3f}  "
                    f"(against the baseline with history and events)")
                say(f"{'    by COPY':<22}{copy_seconds / import_seconds:10.3f}  "
                    f"(against the same by COPY: the import's share of the time is "
                    f"{100 * (1 - copy_seconds / import_seconds):.0f} % beyond the writes)")
            verdict = "met" if args.rows / import_seconds >= GOAL_PER_SECOND else "NOT met"
            say(f"  goal 100,000 rows/min through the whole path: {verdict}")

        for file_format in () if args.import_only else ("csv", "xlsx"):
            seconds, size, count, memory = run_export(client, exported_tag, file_format, pids)
            say(f"{'export ' + file_format:<22}{rate(count, seconds)}  "
                f"{size / 1e6:,.1f} MB, {count:,} rows{memory}")
            if sql_seconds:
                say(f"{'  ratio export/SQL':<22}"
                    f"{(count / seconds) / (args.rows / sql_seconds):10.3f}")
        client.sign_out()
    finally:
        if stack:
            stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
