"""The data of each event this service publishes: what a consumer needs without calling back."""
from __future__ import annotations

from common.uow import UnitOfWork
from services.sales import schemas as s

lead_event = s.LeadEventSchema()
deal_event = s.DealEventSchema()
quote_event = s.QuoteEventSchema()
contract_event = s.ContractSchema()


def emit_lead(uow: UnitOfWork, event_type: str, lead, previous_owner_id=None) -> None:
    data = lead_event.dump(lead)
    data["previous_owner_id"] = str(previous_owner_id) if previous_owner_id else None
    uow.emit(event_type, lead.id, lead.version, data)


def emit_deal(uow: UnitOfWork, event_type: str, deal, from_stage: str | None = None) -> None:
    data = deal_event.dump(deal)
    data["from_stage"] = from_stage
    uow.emit(event_type, deal.id, deal.version, data)


def emit_quote(uow: UnitOfWork, event_type: str, quote, deal) -> None:
    data = quote_event.dump(quote)
    data.update(customer_id=str(deal.customer_id),
                owner_id=str(deal.owner_id) if deal.owner_id else None,
                team_id=str(deal.team_id) if deal.team_id else None)
    uow.emit(event_type, quote.id, quote.version, data)


def emit_contract(uow: UnitOfWork, event_type: str, contract) -> None:
    uow.emit(event_type, contract.id, contract.version, contract_event.dump(contract))
