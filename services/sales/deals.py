"""Deals: lines and amount, the pipeline stages they move through (and the history of every
move), won and lost, and what happens to them when their customer is trashed or merged."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from common.errors import NotFound, PreconditionFailed, ValidationError
from common.listing import order_by, paginate, where_equal
from common.db import new_id, utcnow
from common.events import version_of
from common.placement import place
from common.records import check_version, newer, optional_uuid, update, visible
from common.uow import UnitOfWork
from common.validation import load
from services.sales import access, catalogue, pricing
from services.sales import schemas as s
from services.sales.events import emit_contract, emit_deal, emit_lead, emit_quote
from services.sales.models import (
    Contract, CustomerState, Deal, DealLine, Lead, Product, Quote, StageChange,
)

deal_out = s.DealSchema()
change_out = s.StageChangeSchema()
FROZEN_WHEN_CLOSED = ("lines", "amount", "currency")


def deal(uow: UnitOfWork, deal_id, *, lock: bool = False) -> Deal:
    return access.find(uow, Deal, deal_id, "deal", lock=lock)


def check_customer(customers, customer_id) -> None:
    """The customer exists and the caller may see it (asked of the customers service)."""
    try:
        customers.get_customer(str(customer_id))
    except NotFound:
        raise ValidationError(
            "Invalid input.", {"customer_id": ["No customer you may see has this id."]}
        ) from None


# -- lines and amount ------------------------------------------------------------------------
def _set_lines(uow: UnitOfWork, item: Deal, lines: list[dict]) -> None:
    rows, errors = [], {}
    for position, line in enumerate(lines):
        product = uow.session.get(Product, line["product_id"])
        if product is None or not product.active:
            errors[f"lines.{position}.product_id"] = ["No active product has this id."]
            continue
        unit_price = line.get("unit_price")
        if unit_price is None:
            if product.currency != item.currency:
                errors[f"lines.{position}.unit_price"] = [
                    f"Required: the product is priced in {product.currency}, "
                    f"the deal in {item.currency}."]
                continue
            unit_price = product.list_price
        rows.append(DealLine(position=position, product_id=product.id, quantity=line["quantity"],
                             unit_price=unit_price, discount=line["discount"]))
    if errors:
        raise ValidationError("Invalid input.", errors)
    item.lines = rows


def _apply_amount(uow: UnitOfWork, item: Deal, data: dict) -> None:
    if "lines" in data:
        _set_lines(uow, item, data["lines"])
    if item.lines:
        computed = pricing.deal_amount(item.lines)
        pricing.check_fits("lines", computed, sum(
            (pricing.line(row.quantity, row.unit_price, row.discount).subtotal for row in item.lines),
            Decimal("0.00")))
        if "amount" in data and data["amount"] != computed:
            raise ValidationError("Invalid input.", {"amount": [
                "With lines, the amount is their sum after discount; leave it out."]})
        item.amount = computed
    elif "amount" in data:
        item.amount = data["amount"]


# -- stages ----------------------------------------------------------------------------------
def _enter_stage(uow: UnitOfWork, item: Deal, key: str, lost_reason: str | None) -> str | None:
    """Move ``item`` into stage ``key`` by the rules; record the move; return the stage left."""
    target = catalogue.stage(uow.session, key)
    if key == s.WON and not (item.amount or 0) > 0:
        raise PreconditionFailed("A deal is won only with an amount greater than zero.")
    reason = (lost_reason or "").strip() or None
    if key == s.LOST and reason is None:
        raise ValidationError("Invalid input.", {"lost_reason": ["Required when the stage is lost."]})
    previous = item.stage
    now = utcnow()
    item.stage, item.probability = target.key, target.probability
    item.status = key if key in (s.WON, s.LOST) else "open"
    item.lost_reason = reason if key == s.LOST else None
    item.closed_at = now if item.status != "open" else None
    item.stage_changed_at = now
    change = StageChange(
        deal_id=item.id, from_stage=previous, to_stage=key, lost_reason=item.lost_reason,
        changed_at=now, changed_by=uow.actor.user_uuid, actor_role=uow.actor.role)
    uow.session.add(change)
    return previous


def _closing_events(uow: UnitOfWork, item: Deal, previous: str | None) -> None:
    if item.status in (s.WON, s.LOST):
        emit_deal(uow, f"deal.{item.status}", item, from_stage=previous)


def open_deal(uow: UnitOfWork, data: dict, *, owner_id, team_id, lead_id=None) -> Deal:
    """A new deal in its first stage (or the one asked), recorded and announced; not committed."""
    item = Deal(
        id=new_id(), customer_id=data["customer_id"], title=data["title"].strip(),
        currency=data["currency"], expected_close_date=data.get("expected_close_date"),
        owner_id=owner_id, team_id=team_id, lead_id=lead_id, lines=[],
        created_by=uow.actor.user_uuid,
    )
    _apply_amount(uow, item, data)
    first = catalogue.stages(uow.session)[0].key
    _enter_stage(uow, item, data.get("stage") or first, data.get("lost_reason"))
    uow.session.add(item)
    uow.session.flush()
    emit_deal(uow, "deal.created", item)
    _closing_events(uow, item, None)
    return item


def create_deal(uow: UnitOfWork, customers, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.DealCreateSchema, payload)
    owner_id, team_id = place(uow, data.get("owner_id"), data.get("team_id"), "deals")
    check_customer(customers, data["customer_id"])
    item = open_deal(uow, data, owner_id=owner_id, team_id=team_id)
    uow.commit()
    return deal_out.dump(item)


def get_deal(uow: UnitOfWork, deal_id) -> dict:
    return deal_out.dump(deal(uow, deal_id))


def list_deals(uow: UnitOfWork, query_args) -> dict:
    args = load(s.DealListQuerySchema, query_args)
    query = visible(uow.actor, sa.select(Deal), Deal)
    query = where_equal(query, Deal, args, ("customer_id", "owner_id", "team_id", "stage", "status",
                                            "customer_deleted"))
    if "q" in args:
        query = query.where(sa.func.lower(Deal.title).contains(args["q"].strip().casefold(),
                                                              autoescape=True))
    query = query.order_by(*order_by(Deal, args["sort"], s.DEAL_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=deal_out.dump)


def pipeline_board(uow: UnitOfWork, query_args) -> dict:
    """The board: each stage with the count and totals of every deal the caller may see in
    it, and its ``per_stage`` most recently changed deals (two queries, whatever the count)."""
    args = load(s.BoardQuerySchema, query_args)
    seen = where_equal(visible(uow.actor, sa.select(Deal), Deal), Deal, args,
                       ("owner_id", "team_id"))
    sums: dict[str, list] = {}
    for stage, currency, count, amount in uow.session.execute(
            seen.with_only_columns(Deal.stage, Deal.currency, sa.func.count(),
                                   sa.func.coalesce(sa.func.sum(Deal.amount), 0))
            .group_by(Deal.stage, Deal.currency).order_by(Deal.currency)):
        sums.setdefault(stage, []).append((currency, count,
                                           Decimal(amount).quantize(Decimal("0.01"))))
    rank = sa.func.row_number().over(partition_by=Deal.stage,
                                     order_by=(Deal.updated_at.desc(), Deal.id)).label("rank")
    ranked = seen.add_columns(rank).subquery()
    first = aliased(Deal, ranked)
    shown: dict[str, list] = {}
    for item in uow.session.scalars(sa.select(first).where(ranked.c.rank <= args["per_stage"])
                                    .order_by(ranked.c.rank)):
        shown.setdefault(item.stage, []).append(deal_out.dump(item))
    board = []
    for stage in catalogue.stages(uow.session):
        rows = sums.get(stage.key, [])
        board.append({**catalogue.stage_out.dump(stage), "count": sum(row[1] for row in rows),
                      "deals": shown.get(stage.key, []),
                      "totals": [{"currency": currency, "amount": str(amount),
                                  "weighted_amount": str((amount * stage.probability / 100)
                                                         .quantize(Decimal("0.01")))}
                                 for currency, _, amount in rows]})
    return {"stages": board}


def update_deal(uow: UnitOfWork, deal_id, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.DealUpdateSchema, payload)
    item = deal(uow, deal_id)

    def apply():
        if item.status != "open" and any(field in data for field in FROZEN_WHEN_CLOSED):
            raise PreconditionFailed(
                "The lines and amount of a won or lost deal are frozen; move it back to an "
                "open stage first.")
        if "owner_id" in data or "team_id" in data:
            item.owner_id, item.team_id = place(
                uow, data.get("owner_id", item.owner_id), data.get("team_id", item.team_id),
                "deals", current_owner=item.owner_id)
        for field in ("title", "currency", "expected_close_date"):
            if field in data:
                setattr(item, field, data[field].strip() if field == "title" else data[field])
        _apply_amount(uow, item, data)

    change = update(uow, item, data["version"], deal_out.dump, apply)
    if change is None:
        return deal_out.dump(item)
    emit_deal(uow, "deal.updated", item)
    uow.commit()
    return change.after


def move_stage(uow: UnitOfWork, deal_id, payload) -> dict:
    """The only way a deal changes stage: won needs an amount, lost a reason; reopening a
    closed deal is a move back to an open stage, recorded like any other."""
    access.can_write(uow.actor)
    data = load(s.StageMoveSchema, payload)
    item = deal(uow, deal_id)
    if "version" in data:
        check_version(item, data["version"])
    if data["stage"] == item.stage:
        raise PreconditionFailed(f"The deal is already in stage {item.stage}.")
    previous = _enter_stage(uow, item, data["stage"], data.get("lost_reason"))
    uow.session.flush()
    emit_deal(uow, "deal.stage_changed", item, from_stage=previous)
    _closing_events(uow, item, previous)
    uow.commit()
    return deal_out.dump(item)


def deal_history(uow: UnitOfWork, deal_id, query_args) -> dict:
    args = load(s.PageQuerySchema, query_args)
    item = deal(uow, deal_id)
    query = (sa.select(StageChange).where(StageChange.deal_id == item.id)
             .order_by(StageChange.changed_at, StageChange.id))
    return paginate(uow.session, query, args, dump=change_out.dump)


# -- what the customers service tells ------------------------------------------------------
def flag_customer_deleted(uow: UnitOfWork, event: dict, deleted: bool) -> None:
    """``customer.deleted`` flags the customer's open deals; ``customer.restored`` clears it.
    Each applies only when newer than what was last applied for that customer: the two come
    on different queues, so a restore may be handled before the deletion it undoes."""
    customer_id = optional_uuid(event["entity_id"])
    state = newer(uow.session, CustomerState, customer_id, version_of(event), deleted=False)
    if state is None:
        return
    state.deleted = deleted
    query = sa.select(Deal).where(Deal.customer_id == customer_id,
                                  Deal.customer_deleted.is_(not deleted))
    if deleted:
        query = query.where(Deal.status == "open")
    for item in uow.session.scalars(query).all():
        item.customer_deleted = deleted
        uow.session.flush()
        emit_deal(uow, "deal.updated", item)


def repoint_customer(uow: UnitOfWork, survivor_id, merged_id) -> None:
    """``customer.merged``: whatever pointed at the merged customer points at the survivor:
    deals (and so their quotes, announced again with their new customer), contracts and
    leads. Applying it again finds nothing left to move."""
    survivor, merged = optional_uuid(survivor_id), optional_uuid(merged_id)
    for item in uow.session.scalars(sa.select(Deal).where(Deal.customer_id == merged)).all():
        item.customer_id, item.customer_deleted = survivor, False
        uow.session.flush()
        emit_deal(uow, "deal.updated", item)
        for quote in uow.session.scalars(sa.select(Quote).where(Quote.deal_id == item.id)).all():
            quote.updated_at = utcnow()  # its customer (the deal's) changed: a new version
            uow.session.flush()
            emit_quote(uow, "quote.updated", quote, item)
    for contract in uow.session.scalars(
            sa.select(Contract).where(Contract.customer_id == merged)).all():
        contract.customer_id = survivor
        uow.session.flush()
        emit_contract(uow, "contract.updated", contract)
    for lead in uow.session.scalars(sa.select(Lead).where(Lead.customer_id == merged)).all():
        lead.customer_id = survivor
        uow.session.flush()
        emit_lead(uow, "lead.updated", lead)
