"""Rebuild the read model from the owners' data, and swap it in when complete.

    python -m services.reports.rebuild      # run one now, printing progress (exit 1 on failure)

An admin can ask for one too (``POST /api/v1/reports/rebuild``): it is queued, and a reports
instance runs it. While it runs, reports answer from the live tables; the new model is built
in the ``*_next`` tables from keyset pages of the owners' records (RPC ``snapshot``), and every
event that arrives meanwhile is applied to both (version-guarded, so whichever of page and
event is newer wins). The swap copies the new tables over the live ones in one transaction.
Users and teams are not rebuilt: the gateway owns them and has no RPC; they stay as its
events made them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import traceback
from typing import Callable, Iterator

import sqlalchemy as sa

from common.db import utcnow
from common.errors import Forbidden
from common.records import optional_uuid
from services.reports import projection, schemas as s
from services.reports.models import LIVE, NEXT, Rebuild

log = logging.getLogger(__name__)

# fetch(service, method, *args): an RPC call to an owner (a nameko proxy, or a standalone one).
Fetch = Callable[..., dict]
PAGE = 500
# A running rebuild whose heartbeat is older than this died with its process.
STALLED_AFTER = dt.timedelta(minutes=10)
rebuild_out = s.RebuildSchema()

# (owner service, snapshot kind): what the rebuild fetches, parents before children.
KINDS = [("customers", "customer"), ("customers", "contact"), ("customers", "activity"),
         ("sales", "product"), ("sales", "lead"), ("sales", "deal"), ("sales", "stage_change")]


def owner_records(fetch: Fetch, service: str, kind: str, page: int = PAGE) -> Iterator[list]:
    """Every record of ``kind`` at its owner, a page at a time."""
    after = None
    while True:
        answer = fetch(service, "snapshot", kind, after, page)
        if answer["items"]:
            yield answer["items"]
        after = answer["next"]
        if after is None:
            return


def put_record(session, model, kind: str, data: dict) -> None:
    """Write one owner record into ``model`` as its event would have (version-guarded)."""
    version = data.get("version") or 0
    if kind == "customer":
        projection.upsert(session, model.customers, projection.customer_row(data, version))
    elif kind == "contact":
        projection.upsert(session, model.contacts, projection.contact_row(data, version, False),
                          tie_wins="deleted")
    elif kind == "activity":
        projection.upsert(session, model.activities, projection.activity_row(data, version))
    elif kind == "product":
        projection.upsert(session, model.products, projection.product_row(data, version))
    elif kind == "lead":
        projection.upsert(session, model.leads, projection.lead_row(data, version))
    elif kind == "deal":
        projection.put_deal(session, model, data, version)
    elif kind == "stage_change":
        projection.add_stages(session, model, optional_uuid(data["deal_id"]),
                              {data.get("from_stage"), data["to_stage"]})


# -- asking for one --------------------------------------------------------------------------
def request(uow) -> dict:
    """Queue a rebuild (admins only); one already queued or running is the answer instead."""
    if not uow.actor.acts_as_admin:
        raise Forbidden("Only admins may rebuild the reports.")
    current = uow.session.scalars(sa.select(Rebuild).where(
        Rebuild.status.in_(("queued", "running"))).order_by(Rebuild.requested_at)).first()
    if current is None:
        current = Rebuild(status="queued", requested_by=uow.actor.user_uuid,
                          counts={})
        uow.session.add(current)
        uow.commit()
    return rebuild_out.dump(current)


def latest(uow) -> dict | None:
    found = uow.session.scalars(sa.select(Rebuild).order_by(Rebuild.requested_at.desc())).first()
    return rebuild_out.dump(found) if found else None


# -- running one -----------------------------------------------------------------------------
def claim(session_factory, *, new: bool = False):
    """Start the queued rebuild (or, with ``new``, one of its own that never waits in the
    queue, where a service's timer would take it): clear the shadow tables and mark it
    running, in one transaction, so that from then on every event also reaches the shadow.
    Returns its id, or ``None`` when nothing is queued or another is running."""
    with session_factory() as session, session.begin():
        stalled = utcnow() - STALLED_AFTER
        session.execute(sa.update(Rebuild).where(
            Rebuild.status == "running", Rebuild.heartbeat_at < stalled).values(
            status="failed", finished_at=utcnow(), error="The rebuild stopped (its process "
                                                         "died); ask for a new one."))
        if session.scalars(sa.select(Rebuild.id).where(Rebuild.status == "running")).first():
            return None
        if new:
            rebuild = Rebuild(status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                              counts={})
            session.add(rebuild)
            session.flush()
            rebuild_id = rebuild.id
        else:
            rebuild_id = session.scalars(sa.select(Rebuild.id).where(
                Rebuild.status == "queued").order_by(Rebuild.requested_at)).first()
            if rebuild_id is None:
                return None
            claimed = session.execute(sa.update(Rebuild).where(
                Rebuild.id == rebuild_id, Rebuild.status == "queued").values(
                status="running", started_at=utcnow(), heartbeat_at=utcnow())).rowcount
            if not claimed:
                return None
        for table in reversed(NEXT.rebuilt()):
            session.execute(sa.delete(table))
    return rebuild_id


def _progress(session, rebuild_id, counts: dict) -> None:
    session.execute(sa.update(Rebuild).where(Rebuild.id == rebuild_id).values(
        counts=dict(counts), heartbeat_at=utcnow()))


def build(session_factory, fetch: Fetch, rebuild_id, report=print) -> dict:
    """Fill the shadow tables from the owners and swap them in; returns the counts."""
    counts = {}
    try:
        pipeline = fetch("sales", "get_pipeline")
        with session_factory() as session, session.begin():
            projection.put_pipeline(session, NEXT, pipeline["stages"], pipeline["version"])
            counts["stage"] = len(pipeline["stages"])
        for service, kind in KINDS:
            counts[kind] = 0
            for records in owner_records(fetch, service, kind):
                with session_factory() as session, session.begin():
                    for data in records:
                        put_record(session, NEXT, kind, data)
                    counts[kind] += len(records)
                    _progress(session, rebuild_id, counts)
            report(f"loaded {counts[kind]} {kind} records")
        swap(session_factory, rebuild_id, counts)
    except Exception as exc:
        log.exception("rebuild %s failed", rebuild_id)
        with session_factory() as session, session.begin():
            session.execute(sa.update(Rebuild).where(Rebuild.id == rebuild_id).values(
                status="failed", finished_at=utcnow(), counts=counts,
                error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]))
        raise
    return counts


def swap(session_factory, rebuild_id, counts: dict) -> None:
    """Replace the live tables' rows with the shadow's, in one transaction: readers see the
    old model until it commits, and event handlers wait for it (then apply to the new one)."""
    with session_factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in LIVE.rebuilt())
            session.execute(sa.text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
        for table in reversed(LIVE.rebuilt()):
            session.execute(sa.delete(table))
        for live, shadow in zip(LIVE.rebuilt(), NEXT.rebuilt()):
            session.execute(sa.insert(live).from_select(
                [column.name for column in shadow.columns], sa.select(shadow)))
        for table in reversed(NEXT.rebuilt()):
            session.execute(sa.delete(table))
        session.execute(sa.update(Rebuild).where(Rebuild.id == rebuild_id).values(
            status="succeeded", finished_at=utcnow(), heartbeat_at=utcnow(), counts=counts))


def run_queued(session_factory, fetch: Fetch) -> None:
    """The service's timer: run the queued rebuild, if any and none is running."""
    rebuild_id = claim(session_factory)
    if rebuild_id is not None:
        build(session_factory, fetch, rebuild_id, report=log.info)


# -- the command -----------------------------------------------------------------------------
def standalone_fetch(cluster) -> Fetch:
    def fetch(service, method, *args):
        return getattr(cluster[service], method)(*args)
    return fetch


def main(argv=None) -> int:
    from nameko.standalone.rpc import ClusterRpcProxy

    from common import config
    from common.actor import Actor
    from common.db import create_db_engine, make_session_factory

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    engine = create_db_engine(config.database_url("reports"))
    session_factory = make_session_factory(engine)
    rebuild_id = claim(session_factory, new=True)
    if rebuild_id is None:
        print("another rebuild is running; try again when it has finished", file=sys.stderr)
        return 1
    with ClusterRpcProxy(config.nameko_config(), timeout=120,
                         context_data=Actor.system("reports.rebuild").to_context()) as cluster:
        try:
            counts = build(session_factory, standalone_fetch(cluster), rebuild_id)
        except Exception as exc:  # noqa: BLE001 - reported, and the exit status says it
            print(f"rebuild failed: {exc}", file=sys.stderr)
            return 1
    print(f"rebuilt the read model: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
