"""The list conventions every resource shares: ``?page=&per_page=&sort=`` in, and
``{"items", "page", "per_page", "total"}`` out.

A blueprint subclasses ``common.listing.PageQuerySchema`` to add its filters and documents its answer
with :func:`page_schema`; sorting fields are checked where the query runs
(``common.listing.order_by``, in the services and in :func:`list_page` for the gateway's own
users and teams; the items are dumped by the response schema).
"""
from __future__ import annotations

import functools

from marshmallow import Schema, fields

from common.listing import order_by, paginate
from gateway.database import session

@functools.cache
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The schema of one page of ``item_schema`` items (``UserSchema`` -> ``UserPageSchema``)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
    )


def list_page(query, model, args: dict, sortable: tuple[str, ...], default_sort: str) -> dict:
    """One page of a gateway-owned entity; ``args`` were loaded by a ``PageQuerySchema``."""
    ordered = query.order_by(*order_by(model, args["sort"] or default_sort, sortable))
    return paginate(
        session(), ordered, page=args["page"], per_page=args["per_page"], dump=lambda row: row
    )
