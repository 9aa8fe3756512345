"""Leads as rows of a file: the list's filtered leads, page by page in creation order, each
with the columns of ``schemas.TRANSFER_COLUMNS`` (what import reads), for the gateway to write
into a CSV or XLSX download as the pages come. Read as plain columns, not dumped entities:
several times faster for a large file."""
from __future__ import annotations

from common.listing import keyset_page, plain
from common.uow import UnitOfWork
from common.validation import load
from services.sales import schemas as s
from services.sales.leads import leads_query
from services.sales.models import Lead

COLUMNS = [field for field, *_ in s.TRANSFER_COLUMNS]


def export_page(uow: UnitOfWork, query_args, after, limit) -> dict:
    """``{"items": [row, ...], "next": cursor}``: up to ``limit`` leads the caller may see (by
    the list's filters) after the cursor ``after``; ``next`` is ``None`` after the last."""
    args = load(s.LeadExportQuerySchema, query_args)
    query = leads_query(uow, args).with_only_columns(
        Lead.id, Lead.created_at, *(getattr(Lead, field) for field in COLUMNS))
    leads, next_cursor = keyset_page(uow.session, query, Lead, after, limit)
    return {"items": [{field: plain(getattr(lead, field)) for field in COLUMNS}
                      for lead in leads],
            "next": next_cursor}
