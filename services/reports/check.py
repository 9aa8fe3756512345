"""Compare the read model with the owners' data and print every difference.

    python -m services.reports.check        # exit 0: none; exit 1: differences (printed)

Each owner record (RPC ``snapshot``, every page) is mapped as its event would be and compared
with the read model's row: a row missing, a field that differs, a row the owners no longer
have, a deal's lines or the stages it has been in. A row whose version is newer than the
owner's page is not a difference (an event arrived while the check ran); one that is older
is ("behind": its events are late, parked or lost).
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Iterator

import sqlalchemy as sa

from services.reports import projection
from services.reports.models import LIVE
from services.reports.rebuild import Fetch, owner_records, standalone_fetch

# snapshot kind -> (read-model table, the row its record maps to)
ROWS = {
    "customer": (LIVE.customers, projection.customer_row),
    "contact": (LIVE.contacts, lambda data, version: projection.contact_row(data, version, False)),
    "activity": (LIVE.activities, projection.activity_row),
    "product": (LIVE.products, projection.product_row),
    "lead": (LIVE.leads, projection.lead_row),
    "deal": (LIVE.deals, projection.deal_row),
}
SERVICE = {"customer": "customers", "contact": "customers", "activity": "customers",
           "product": "sales", "lead": "sales", "deal": "sales"}


def _lines(session, deal_ids) -> dict:
    lines = defaultdict(list)
    table = LIVE.deal_lines
    for row in session.execute(sa.select(table).where(table.c.deal_id.in_(deal_ids))
                               .order_by(table.c.deal_id, table.c.position)).mappings():
        lines[row["deal_id"]].append(dict(row))
    return lines


def compare_kind(session, fetch: Fetch, kind: str) -> Iterator[str]:
    table, to_row = ROWS[kind]
    seen = set()
    for records in owner_records(fetch, SERVICE[kind], kind):
        expected = {}
        for data in records:
            row = to_row(data, data.get("version") or 0)
            expected[row["id"]] = (row, data)
        seen.update(expected)
        held = {row["id"]: dict(row) for row in session.execute(
            sa.select(table).where(table.c.id.in_(expected))).mappings()}
        held_lines = _lines(session, list(expected)) if kind == "deal" else {}
        for record_id, (row, data) in expected.items():
            mine = held.get(record_id)
            if mine is None:
                yield f"{kind} {record_id}: missing from the read model"
                continue
            if mine["version"] > row["version"]:
                continue
            if mine["version"] < row["version"]:
                yield (f"{kind} {record_id}: behind (read model version {mine['version']}, "
                       f"owner version {row['version']})")
            for name, value in row.items():
                if name != "version" and mine[name] != value:
                    yield (f"{kind} {record_id}: {name} is {mine[name]!r} in the read model, "
                           f"{value!r} at the owner")
            if kind == "deal":
                want = projection.deal_line_rows(data)
                if held_lines.get(record_id, []) != want:
                    yield f"deal {record_id}: lines differ from the owner's"
    for (record_id,) in session.execute(sa.select(table.c.id)):
        if record_id not in seen:
            yield f"{kind} {record_id}: in the read model, unknown to the owner"


def compare_stages(session, fetch: Fetch) -> Iterator[str]:
    """The stages each deal has been in: the owner's stage history against the read model."""
    expected = defaultdict(set)
    for records in owner_records(fetch, "sales", "stage_change"):
        for change in records:
            deal_id = projection.optional_uuid(change["deal_id"])
            expected[deal_id].update({change.get("from_stage"), change["to_stage"]} - {None})
    held = defaultdict(set)
    for deal_id, stages in session.execute(sa.select(LIVE.deals.c.id, LIVE.deals.c.stages)):
        held[deal_id] = projection.stages_of(stages)
    for deal_id in sorted(set(expected) | set(held), key=str):
        if expected[deal_id] != held[deal_id]:
            yield (f"deal {deal_id}: stages reached {sorted(held[deal_id])} in the read model, "
                   f"{sorted(expected[deal_id])} at the owner")


def compare_pipeline(session, fetch: Fetch) -> Iterator[str]:
    pipeline = fetch("sales", "get_pipeline")
    want = [(stage["key"], stage["name"], stage["probability"]) for stage in pipeline["stages"]]
    held = [tuple(row) for row in session.execute(sa.select(
        LIVE.stages.c.key, LIVE.stages.c.name, LIVE.stages.c.probability)
        .order_by(LIVE.stages.c.position))]
    if held != want:
        yield f"pipeline: {held} in the read model, {want} at the owner"


def differences(session, fetch: Fetch) -> Iterator[str]:
    yield from compare_pipeline(session, fetch)
    for kind in ROWS:
        yield from compare_kind(session, fetch, kind)
    yield from compare_stages(session, fetch)


def main(argv=None) -> int:
    from nameko.standalone.rpc import ClusterRpcProxy

    from common import config
    from common.actor import Actor
    from common.db import create_db_engine, make_session_factory

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    session_factory = make_session_factory(create_db_engine(config.database_url("reports")))
    found = 0
    with ClusterRpcProxy(config.nameko_config(), timeout=120,
                         context_data=Actor.system("reports.check").to_context()) as cluster, \
            session_factory() as session:
        for line in differences(session, standalone_fetch(cluster)):
            print(line)
            found += 1
    print(f"{found} difference(s)" if found else "the read model matches the owners' data")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
