"""Customers as rows of a file: the list's filtered customers, page by page in creation
order, each flattened to the columns of ``schemas.TRANSFER_COLUMNS`` with its primary contact.

The gateway writes the pages into a CSV or XLSX download as they come, so an export of any
size costs the same memory; import reads the same columns, so export then import gives the
same customers back. The rows are read as plain columns, not as entities dumped by the
contract's schemas: a file of 100,000 customers is read several times faster so.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.listing import keyset_page, plain
from common.uow import UnitOfWork
from common.validation import load
from services.customers import schemas as s
from services.customers.models import Contact, Customer
from services.customers.operations import CUSTOMER_TAGS, customers_query

CONTACT_COLUMNS = {"contact_name": Contact.name, "contact_phone": Contact.phone,
                   "contact_email": Contact.email}
CUSTOMER_COLUMNS = [field for field, *_ in s.TRANSFER_COLUMNS
                    if field not in CONTACT_COLUMNS and field != "tags"]


def export_page(uow: UnitOfWork, query_args, after, limit) -> dict:
    """``{"items": [row, ...], "next": cursor}``: up to ``limit`` customers the caller may see
    (by the list's filters) after the cursor ``after``; ``next`` is ``None`` after the last."""
    args = load(s.CustomerExportQuerySchema, query_args)
    query = customers_query(uow, args).with_only_columns(
        Customer.id, Customer.created_at, CUSTOMER_TAGS,
        *(getattr(Customer, field) for field in CUSTOMER_COLUMNS))
    customers, next_cursor = keyset_page(uow.session, query, Customer, after, limit)
    ids = [customer.id for customer in customers]
    contacts = {row.customer_id: row for row in uow.session.execute(
        sa.select(Contact.customer_id, *CONTACT_COLUMNS.values())
        .where(Contact.customer_id.in_(ids), Contact.is_primary.is_(True),
               Contact.deleted_at.is_(None)))}
    return {"items": [_row(customer, contacts.get(customer.id))
                      for customer in customers],
            "next": next_cursor}


def _row(customer, contact) -> dict:
    row = {}
    for field, *_ in s.TRANSFER_COLUMNS:
        if field == "tags":
            row[field] = customer.tags
        elif field in CONTACT_COLUMNS:
            row[field] = getattr(contact, CONTACT_COLUMNS[field].key) if contact else None
        else:
            row[field] = plain(getattr(customer, field))
    return row
