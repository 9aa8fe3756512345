"""The list conventions every resource shares: ``?page=&per_page=&sort=`` in, and
``{"items", "page", "per_page", "total"}`` out.

A contract subclasses ``common.listing.PageQuerySchema`` to add its filters; a blueprint
documents the answer with :func:`page_schema`. Whoever runs the query (a service, or an
identity use case) checks the sort fields and builds the page (``common.listing``).
"""
from __future__ import annotations

import functools

from marshmallow import Schema, fields


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
