"""The read model kept from events: each event's data is the entity's state after the change,
so applying it is an upsert guarded by the entity's version.

- Idempotent: the platform records every applied event id (``common.service.handles``), and
  applying the same state twice changes nothing anyway.
- Order-safe: a row is written only when the event's ``entity_version`` is newer than the
  row's, so an older event arriving late never overwrites a newer one, and a customer's
  ``deleted`` state (a higher version) is not undone by its ``created`` arriving after it.
- The stages a deal has been in are a set (every event names the stage it left and the one
  it is in), so "reached" does not depend on the order either.

The same row mappers serve a rebuild, which feeds the owners' current records through them.
"""
from __future__ import annotations

import datetime as dt
import decimal
import functools
import logging

import sqlalchemy as sa

from common.db import insert_on_conflict
from common.events import version_of
from common.records import optional_uuid
from services.reports.models import LIVE, NEXT, ReadModel, Rebuild

log = logging.getLogger(__name__)


# -- values ----------------------------------------------------------------------------------
def _time(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _money(value) -> decimal.Decimal:
    return decimal.Decimal(str(value if value is not None else "0"))


def _ids(data: dict, *names: str) -> dict:
    """The named id fields of ``data`` as UUIDs (``None`` where absent)."""
    return {name: optional_uuid(data.get(name)) for name in names}


# -- rows from event data --------------------------------------------------------------------
def user_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "username": data.get("username") or "",
            "display_name": data.get("display_name"), "role": data.get("role") or "",
            "team_id": optional_uuid(data.get("team_id")), "active": bool(data.get("active", True)),
            "version": version}


def team_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "name": data.get("name") or "", "version": version}


def customer_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "name": data.get("name") or "",
            "industry": data.get("industry"), "country": data.get("country"),
            "province": data.get("province"), "city": data.get("city"),
            "tier": data.get("tier"), "status": data.get("status") or "",
            **_ids(data, "owner_id", "team_id"),
            "deleted": data.get("deleted_at") is not None,
            "created_at": _time(data["created_at"]), "version": version}


def contact_row(data: dict, version: int, deleted: bool) -> dict:
    return {"id": optional_uuid(data["id"]), "customer_id": optional_uuid(data["customer_id"]),
            "name": data.get("name") or "", "phone": data.get("phone"),
            "email": data.get("email"), "is_primary": bool(data.get("is_primary")),
            "deleted": deleted or data.get("deleted_at") is not None, "version": version}


def activity_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "customer_id": optional_uuid(data["customer_id"]),
            **_ids(data, "deal_id", "user_id"),
            "type": data["type"], "occurred_at": _time(data["occurred_at"]),
            "version": version}


def product_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "sku": data.get("sku") or "",
            "name": data.get("name") or "", "category": data.get("category"),
            "version": version}


def lead_row(data: dict, version: int) -> dict:
    # A lead's country, province and city are top-level, as a customer's; a lead.* event
    # published before they were (queued or in an outbox across the upgrade) nests them
    # under "region".
    place = {**(data.get("region") or {}), **data}
    return {"id": optional_uuid(data["id"]), "status": data.get("status") or "",
            "country": place.get("country"), "province": place.get("province"),
            "city": place.get("city"),
            **_ids(data, "owner_id", "team_id"),
            "created_at": _time(data["created_at"]),
            "converted_at": _time(data.get("converted_at")), "version": version}


def deal_row(data: dict, version: int) -> dict:
    return {"id": optional_uuid(data["id"]), "customer_id": optional_uuid(data["customer_id"]),
            "title": data.get("title") or "", "amount": _money(data.get("amount")),
            "currency": data.get("currency") or "", "stage": data["stage"],
            "probability": int(data.get("probability") or 0),
            "status": data.get("status") or "open",
            "expected_close_date": _date(data.get("expected_close_date")),
            **_ids(data, "owner_id", "team_id"),
            "created_at": _time(data["created_at"]), "closed_at": _time(data.get("closed_at")),
            "version": version}


def deal_line_rows(data: dict) -> list[dict]:
    return [{"deal_id": optional_uuid(data["id"]), "position": position,
             "product_id": optional_uuid(line["product_id"]), "quantity": _money(line["quantity"]),
             "unit_price": _money(line["unit_price"]), "discount": _money(line["discount"]),
             "amount": _money(line["amount"])}
            for position, line in enumerate(data.get("lines") or [])]


# -- writing ---------------------------------------------------------------------------------
def upsert(session, table: sa.Table, row: dict, *, tie_wins=None, on_insert=None) -> bool:
    """Write ``row`` unless the table holds the same key at a newer (or the same) version.

    ``tie_wins``: a column that, set in ``row`` and not in the table, wins a tie of versions
    (a delete published at the version it was made at). ``on_insert``: columns written only
    when the row is new. True when the row was written."""
    statement = _upsert_statement(session.get_bind().dialect.name, table, tuple(row), tie_wins)
    return session.execute(statement, {**row, **(on_insert or {})}).rowcount > 0


@functools.lru_cache(maxsize=256)  # a few shapes per table, from the row mappers
def _upsert_statement(dialect: str, table: sa.Table, columns: tuple[str, ...],
                      tie_wins: str | None):
    """``upsert``'s statement for rows of ``columns``, built once: its values (``columns``
    and any written only on insert) are the execution's parameters."""
    keys = [column.name for column in table.primary_key.columns]
    statement = insert_on_conflict(dialect, table)
    newer = table.c.version < statement.excluded.version
    if tie_wins is not None:
        newer = sa.or_(newer, sa.and_(table.c.version == statement.excluded.version,
                                      statement.excluded[tie_wins], sa.not_(table.c[tie_wins])))
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in columns
                                   if name not in keys}, where=newer)


def stage_set(stages) -> str:
    """The ``stages`` column's form of a set of stage keys: ``,a,b,``."""
    return "," + "".join(f"{key}," for key in sorted(stages))


def stages_of(value: str) -> set[str]:
    return set(value.strip(",").split(",")) - {""}


def add_stages(session, model: ReadModel, deal_id, stages) -> None:
    """Add stages to the set of those the deal has been in (whatever the version)."""
    deals = model.deals
    for stage in set(stages) - {None}:
        session.execute(sa.update(deals).where(
            deals.c.id == deal_id,
            sa.not_(deals.c.stages.contains(f",{stage},", autoescape=True))
        ).values(stages=deals.c.stages + f"{stage},"))


def put_deal(session, model: ReadModel, data: dict, version: int,
             visited: tuple[str | None, ...] = ()) -> None:
    """A deal's state: the row and its lines when newer; the stages it was in, always."""
    deal_id = optional_uuid(data["id"])
    if upsert(session, model.deals, deal_row(data, version), on_insert={"stages": stage_set(())}):
        session.execute(sa.delete(model.deal_lines).where(model.deal_lines.c.deal_id == deal_id))
        lines = deal_line_rows(data)
        if lines:
            session.execute(sa.insert(model.deal_lines), lines)
    add_stages(session, model, deal_id, {data["stage"], *visited})


def put_pipeline(session, model: ReadModel, stages: list[dict], version: int) -> None:
    """The pipeline's stages in order, when ``version`` is newer than the one held. Two
    versions applied at the same moment collide on the stage keys (``won`` and ``lost`` are
    in every pipeline); the loser is retried and then finds the newer version."""
    held = session.execute(sa.select(sa.func.max(model.stages.c.pipeline_version))).scalar()
    if held is not None and held >= version:
        return
    session.execute(sa.delete(model.stages))
    session.execute(sa.insert(model.stages), [
        {"key": stage["key"], "name": stage["name"], "probability": stage["probability"],
         "position": position, "pipeline_version": version}
        for position, stage in enumerate(stages)])


def _apply_to(session, model: ReadModel, event: dict) -> None:
    kind, data, version = event["type"], event["data"], version_of(event) or 0
    family = kind.split(".", 1)[0]
    if family in ("user", "team"):
        if model.users is not None:  # the people are not rebuilt: the live set only
            upsert(session, model.users if family == "user" else model.teams,
                   (user_row if family == "user" else team_row)(data, version))
    elif family == "customer" and kind != "customer.merged":
        upsert(session, model.customers, customer_row(data, version))
    elif family == "contact":
        upsert(session, model.contacts, contact_row(data, version, kind == "contact.deleted"),
               tie_wins="deleted")
    elif family == "activity":
        upsert(session, model.activities, activity_row(data, version))
    elif family == "product":
        upsert(session, model.products, product_row(data, version))
    elif family == "lead":
        upsert(session, model.leads, lead_row(data, version))
    elif family == "deal":
        put_deal(session, model, data, version, (data.get("from_stage"),))
    elif kind == "pipeline.updated":
        put_pipeline(session, model, data["stages"], version)
    else:
        log.debug("event type %s feeds no report", kind)


def _fresh(session, source: str, occurred_at: dt.datetime) -> None:
    """``as_of``: the time of the newest event applied, per source service."""
    session.execute(_fresh_statement(session.get_bind().dialect.name),
                    {"source": source, "as_of": occurred_at})


@functools.lru_cache(maxsize=None)  # one per dialect
def _fresh_statement(dialect: str):
    table = LIVE.freshness
    statement = insert_on_conflict(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["source"], set_={"as_of": statement.excluded.as_of},
        where=sa.or_(table.c.as_of.is_(None), table.c.as_of < statement.excluded.as_of))


_RUNNING = sa.select(Rebuild.id).where(Rebuild.status == "running").limit(1)


def rebuilding(session) -> bool:
    return session.execute(_RUNNING).first() is not None


def apply(session, event: dict) -> None:
    """Apply one event to the live read model, and to the one being rebuilt if any, so
    that a rebuild swapped in misses nothing that happened while it ran."""
    _apply_to(session, LIVE, event)
    if rebuilding(session):
        _apply_to(session, NEXT, event)
    _fresh(session, event["source"], _time(event["occurred_at"]))
