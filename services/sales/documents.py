"""Quotes made from a deal's lines and contracts made from won deals (or directly), each
numbered per year (``Q-2026-0001``, ``C-2026-0001``) and expired by date."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from common.db import utcnow
from common.errors import NotFound, PreconditionFailed, ValidationError
from common.listing import order_by, paginate, where_equal
from common.placement import place
from common.records import found, locked_row, update, visible
from common.uow import UnitOfWork
from common.validation import load
from services.sales import access, deals, pricing
from services.sales import schemas as s
from services.sales.events import emit_contract, emit_quote
from services.sales.models import Contract, Counter, Deal, Product, Quote

quote_out = s.QuoteSchema()
contract_out = s.ContractSchema()
OPEN_QUOTES = ("draft", "sent")
QUOTE_MOVES = {"draft": ("sent", "rejected"), "sent": ("accepted", "rejected")}


def today() -> dt.date:
    return utcnow().date()


def next_number(session, prefix: str) -> str:
    """The next number of ``prefix``'s series this year; the counter row stays locked until
    the transaction ends, so two writers never get the same number."""
    year = today().year
    counter = locked_row(session, Counter, f"{prefix}:{year}", value=0)
    counter.value += 1
    session.flush()
    return f"{prefix}-{year}-{counter.value:04d}"


# -- quotes ----------------------------------------------------------------------------------
def effective_status(quote: Quote) -> str:
    """A draft or sent quote past its date is expired even before the sweep says so."""
    if quote.status in OPEN_QUOTES and quote.valid_until < today():
        return "expired"
    return quote.status


def _dump_quote(quote: Quote) -> dict:
    return {**quote_out.dump(quote), "status": effective_status(quote)}


def _quote(uow: UnitOfWork, quote_id) -> tuple[Quote, Deal]:
    quote = found(uow.session, Quote, quote_id, "quote")
    try:
        return quote, deals.deal(uow, quote.deal_id)
    except NotFound:
        raise NotFound(f"No quote with id {quote_id}.") from None


def _price(uow: UnitOfWork, quote: Quote, deal: Deal) -> None:
    """Copy the deal's lines into the quote and total them at its tax rate."""
    lines, figures = [], []
    for line in deal.lines:
        product = uow.session.get(Product, line.product_id)
        figure = pricing.line(line.quantity, line.unit_price, line.discount)
        figures.append(figure)
        lines.append(s.QuoteLineSchema().dump({
            "product_id": line.product_id, "sku": product.sku, "name": product.name,
            "quantity": line.quantity, "unit_price": line.unit_price, "discount": line.discount,
            "subtotal": figure.subtotal, "discount_amount": figure.discount_amount,
            "amount": figure.amount}))
    totals = pricing.quote_totals(figures, quote.tax_rate)
    pricing.check_fits("tax_rate", *totals)
    quote.lines, quote.currency = lines, deal.currency
    quote.subtotal, quote.discount_total = totals.subtotal, totals.discount_total
    quote.tax, quote.total = totals.tax, totals.total


def _not_past(valid_until: dt.date) -> None:
    if valid_until < today():
        raise ValidationError("Invalid input.", {"valid_until": ["Must not be in the past."]})


def create_quote(uow: UnitOfWork, deal_id, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.QuoteCreateSchema, payload)
    deal = deals.deal(uow, deal_id)
    if not deal.lines:
        raise PreconditionFailed("A quote is made from the deal's lines; the deal has none.")
    if deal.status == s.LOST:
        raise PreconditionFailed("A lost deal cannot be quoted.")
    _not_past(data["valid_until"])
    quote = Quote(deal_id=deal.id, status="draft", tax_rate=data["tax_rate"],
                  valid_until=data["valid_until"], created_by=uow.actor.user_uuid)
    _price(uow, quote, deal)
    quote.number = next_number(uow.session, "Q")
    uow.session.add(quote)
    uow.session.flush()
    emit_quote(uow, "quote.created", quote, deal)
    uow.commit()
    return _dump_quote(quote)


def list_quotes(uow: UnitOfWork, deal_id, query_args) -> dict:
    args = load(s.QuoteListQuerySchema, query_args)
    deal = deals.deal(uow, deal_id)
    query = sa.select(Quote).where(Quote.deal_id == deal.id).order_by(
        *order_by(Quote, args["sort"], s.QUOTE_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=_dump_quote)


def get_quote(uow: UnitOfWork, quote_id) -> dict:
    return _dump_quote(_quote(uow, quote_id)[0])


def update_quote(uow: UnitOfWork, quote_id, payload) -> dict:
    """Draft: change tax rate or validity, send or reject. Sent: accept (the deal's other
    open quotes are then rejected) or reject. An expired quote changes no more."""
    access.can_write(uow.actor)
    data = load(s.QuoteUpdateSchema, payload)
    quote, deal = _quote(uow, quote_id)
    status = effective_status(quote)
    target = data.get("status", status)

    def apply():
        if status == "expired":
            raise PreconditionFailed(f"The quote expired on {quote.valid_until.isoformat()}.")
        if ("tax_rate" in data or "valid_until" in data) and status != "draft":
            raise PreconditionFailed("Only a draft quote's tax rate and validity can change.")
        if target != status and target not in QUOTE_MOVES.get(status, ()):
            raise PreconditionFailed(f"A {status} quote cannot become {target}.")
        if "valid_until" in data:
            _not_past(data["valid_until"])
            quote.valid_until = data["valid_until"]
        if "tax_rate" in data:
            quote.tax_rate = data["tax_rate"]
            _price(uow, quote, deal)
        quote.status = target

    if update(uow, quote, data["version"], _dump_quote, apply) is None:
        return _dump_quote(quote)
    emit_quote(uow, "quote.updated" if target == status else f"quote.{target}", quote, deal)
    if target == "accepted":
        others = uow.session.scalars(sa.select(Quote).where(
            Quote.deal_id == deal.id, Quote.id != quote.id, Quote.status.in_(OPEN_QUOTES))).all()
        for other in others:
            other.status = "rejected"
            uow.session.flush()
            emit_quote(uow, "quote.rejected", other, deal)
    uow.commit()
    return _dump_quote(quote)


# -- contracts -------------------------------------------------------------------------------
def _contract(uow: UnitOfWork, contract_id) -> Contract:
    return access.find(uow, Contract, contract_id, "contract")


def _contract_status(end_date: dt.date) -> str:
    return "expired" if end_date < today() else "active"


def create_contract(uow: UnitOfWork, customers, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.ContractCreateSchema, payload)
    if "deal_id" in data:
        deal = deals.deal(uow, data["deal_id"])
        if deal.status != s.WON:
            raise PreconditionFailed("A contract is made from a won deal.")
        if data.get("customer_id") not in (None, deal.customer_id):
            raise ValidationError("Invalid input.", {"customer_id": ["Must be the deal's customer."]})
        owner_id, team_id = deal.owner_id, deal.team_id
        data.setdefault("amount", deal.amount)
        data.setdefault("currency", deal.currency)
        data["customer_id"] = deal.customer_id
    else:
        owner_id, team_id = place(uow, data.get("owner_id"), None, "contracts")
        deals.check_customer(customers, data["customer_id"])
    contract = Contract(
        deal_id=data.get("deal_id"), customer_id=data["customer_id"], owner_id=owner_id,
        team_id=team_id, amount=data["amount"], currency=data.get("currency", s.DEFAULT_CURRENCY),
        start_date=data["start_date"], end_date=data["end_date"],
        status=_contract_status(data["end_date"]), created_by=uow.actor.user_uuid,
        number=next_number(uow.session, "C"),
    )
    uow.session.add(contract)
    uow.session.flush()
    emit_contract(uow, "contract.created", contract)
    uow.commit()
    return contract_out.dump(contract)


def get_contract(uow: UnitOfWork, contract_id) -> dict:
    return contract_out.dump(_contract(uow, contract_id))


def list_contracts(uow: UnitOfWork, query_args) -> dict:
    args = load(s.ContractListQuerySchema, query_args)
    query = visible(uow.actor, sa.select(Contract), Contract)
    query = where_equal(query, Contract, args,
                        ("customer_id", "deal_id", "owner_id", "team_id", "status"))
    query = query.order_by(*order_by(Contract, args["sort"], s.CONTRACT_SORT_FIELDS))
    return paginate(uow.session, query, args, dump=contract_out.dump)


def update_contract(uow: UnitOfWork, contract_id, payload) -> dict:
    access.can_write(uow.actor)
    data = load(s.ContractUpdateSchema, payload)
    contract = _contract(uow, contract_id)

    def apply():
        if contract.status == "terminated":
            raise PreconditionFailed("A terminated contract cannot be changed.")
        for field, value in data.items():
            if field != "version":
                setattr(contract, field, value)
        if contract.end_date < contract.start_date:
            raise ValidationError("Invalid input.",
                                  {"end_date": ["Must not be before start_date."]})
        if contract.status != "terminated":
            contract.status = _contract_status(contract.end_date)

    change = update(uow, contract, data["version"], contract_out.dump, apply)
    if change is None:
        return contract_out.dump(contract)
    emit_contract(uow, "contract.updated", contract)
    uow.commit()
    return change.after


# -- the expiry sweep (a timer; safe with several instances) ---------------------------------
def _due(session, query):
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.limit(200)).all()


def expire_due(uow: UnitOfWork) -> int:
    """Mark quotes past valid_until and contracts past end_date expired, with their events."""
    quotes = _due(uow.session, sa.select(Quote).where(
        Quote.status.in_(OPEN_QUOTES), Quote.valid_until < today()))
    for quote in quotes:
        quote.status = "expired"
        uow.session.flush()
        emit_quote(uow, "quote.expired", quote, uow.session.get(Deal, quote.deal_id))
    contracts = _due(uow.session, sa.select(Contract).where(
        Contract.status == "active", Contract.end_date < today()))
    for contract in contracts:
        contract.status = "expired"
        uow.session.flush()
        emit_contract(uow, "contract.updated", contract)
    uow.commit()
    return len(quotes) + len(contracts)
