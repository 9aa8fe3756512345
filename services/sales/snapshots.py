"""Pages of every product, lead, deal and stage change, for a consumer rebuilding its copy
of them (the reports' read model); see ``common.snapshots``."""
from __future__ import annotations

from common import snapshots
from common.uow import UnitOfWork
from services.sales import schemas as s
from services.sales.models import Deal, Lead, Product, StageChange

KINDS = {
    "product": (Product, s.ProductSchema().dump),
    "lead": (Lead, s.LeadSchema().dump),
    "deal": (Deal, s.DealSchema().dump),
    "stage_change": (StageChange, s.StageChangeSchema().dump),
}


def snapshot(uow: UnitOfWork, kind, after, limit) -> dict:
    return snapshots.page(uow.session, uow.actor, KINDS, kind, after, limit)
