"""Backup and restore of every component's PostgreSQL database, as docs/operations.md says
to do it: ``pg_dump -Fc`` and ``pg_restore`` (the binaries in /usr/bin).

A real restore, on the running stack with data written through the gateway. Dropping a
component's live database is not possible while its service holds connections (and would
take it from every other test of the session), so each dump is restored into a new database
made for the test and compared with the original, table by table, row by row, every table
of the public schema (``alembic_version`` included). The rows compared are read in the very
snapshot pg_dump dumps (``pg_export_snapshot`` and ``pg_dump --snapshot``): the services
keep writing meanwhile (timers, the outbox), and nothing they write can pass for a
difference or hide one. The databases the test makes are dropped after it.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from common import components
from common.db import create_db_engine, utcnow
from tests.support.http import ok
from tests.support.stack import PG_SERVER, wait_until

PG_DUMP = "/usr/bin/pg_dump"
PG_RESTORE = "/usr/bin/pg_restore"


def engine(database: str) -> sa.Engine:
    return create_db_engine(f"{PG_SERVER}/{database}", pool_size=1, max_overflow=0)


def libpq_url(database: str) -> str:
    return f"{PG_SERVER}/{database}"


def tables_and_keys(conn) -> dict[str, list[str]]:
    """Every table of the public schema -> its primary key columns, in key order."""
    tables = {name: [] for name in conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )).scalars()}
    for table, column in conn.execute(sa.text("""
            SELECT c.relname, a.attname
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indisprimary AND n.nspname = 'public'
             ORDER BY c.relname, k.position""")):
        tables[table].append(column)
    return tables


def all_rows(conn) -> dict[str, list[dict]]:
    """Every table's rows (column -> value), ordered by primary key (by the whole row where
    there is none)."""
    rows = {}
    for table, key in tables_and_keys(conn).items():
        order = ", ".join(f'"{column}"' for column in key) or f'"{table}"::text'
        rows[table] = [dict(row._mapping) for row in conn.execute(
            sa.text(f'SELECT * FROM "{table}" ORDER BY {order}'))]
    return rows


def dump_with_its_rows(database: str, path) -> dict[str, list[dict]]:
    """Dump ``database`` into ``path`` and return its rows as of the dump's snapshot."""
    source = engine(database)
    try:
        with source.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar()
            rows = all_rows(conn)
            # The transaction stays open until pg_dump has dumped from its snapshot.
            subprocess.run([PG_DUMP, "-Fc", f"--snapshot={snapshot}", "-f", str(path),
                            libpq_url(database)], check=True, capture_output=True, timeout=120)
            conn.rollback()
    finally:
        source.dispose()
    return rows


@pytest.fixture(scope="module")
def written(stack, admin, users):
    """Something of every component, written through the gateway: a user (gateway), a
    customer with a contact and a follow-up (customers), a deal (sales), a reminder
    (notifications) and the deal in the read model (reports). Returns, per component, a
    table and an id of a row in it."""
    sam = users["sam"]
    tag = uuid.uuid4().hex[:8]
    user = ok(admin.post("/users", json={"username": f"backup-{tag}", "password": "a-long-password-1",
                                         "display_name": "Backup Check", "role": "analyst"}), 201)
    customer = ok(sam.post("/customers", json={"name": f"Backup {tag}", "tier": "A"}), 201)
    ok(sam.post(f"/customers/{customer['id']}/contacts", json={
        "name": "Li Lei", "email": f"li-{tag}@example.com", "is_primary": True}), 201)
    ok(sam.post(f"/customers/{customer['id']}/activities", json={
        "type": "call", "content": "Backup check",
        "next_follow_up_at": (utcnow() + dt.timedelta(days=7)).isoformat()}), 201)
    deal = ok(sam.post("/deals", json={"customer_id": customer["id"], "title": f"Backup {tag}",
                                       "amount": "1200.00", "currency": "CNY"}), 201)
    reminder = ok(sam.post("/reminders", json={
        "due_at": (utcnow() + dt.timedelta(days=30)).isoformat(), "subject": f"Backup {tag}"}), 201)

    def in_read_model():
        reports = engine(f"{stack.tag}_reports")
        try:
            with reports.connect() as conn:
                return conn.execute(sa.text("SELECT 1 FROM reports_deals WHERE id = :id"),
                                    {"id": uuid.UUID(deal["id"])}).scalar()
        finally:
            reports.dispose()

    wait_until(in_read_model, timeout=30, message="the deal in the reports' read model")
    return {"gateway": ("users", user["id"]), "customers": ("customers", customer["id"]),
            "sales": ("deals", deal["id"]), "notifications": ("reminders", reminder["id"]),
            "reports": ("reports_deals", deal["id"])}


@pytest.mark.parametrize("component", components.names())
def test_a_dump_restores_every_row_of_every_table(stack, written, component, tmp_path):
    database = f"{stack.tag}_{component}"
    dump = tmp_path / f"{database}.dump"
    before = dump_with_its_rows(database, dump)
    table, row_id = written[component]
    assert uuid.UUID(row_id) in {row["id"] for row in before[table]}, f"{table} lacks the new row"
    assert len(before["alembic_version"]) == 1

    restored = f"{stack.tag}_restore_{component}"
    server = create_db_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{restored}"'))
        subprocess.run([PG_RESTORE, "--exit-on-error", "--single-transaction",
                        "-d", libpq_url(restored), str(dump)],
                       check=True, capture_output=True, timeout=120)
        copy = engine(restored)
        try:
            with copy.connect() as conn:
                after = all_rows(conn)
        finally:
            copy.dispose()
        assert sorted(after) == sorted(before), "the restored database has other tables"
        for name in before:
            assert after[name] == before[name], f"{component}: table {name} differs"
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'))
        server.dispose()
