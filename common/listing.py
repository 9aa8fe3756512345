"""Filtering, sorting and pagination of list queries, the same for every service.

A list answers ``{"items", "page", "per_page", "total"}``; ``sort`` is a comma-separated list
of allowed field names, ``-`` for descending; the primary key breaks ties so pages are stable.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from common.errors import ValidationError

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


class PageQuerySchema(Schema):
    """``?page=&per_page=&sort=`` of every list; a resource subclasses it to add filters and
    may override ``sort`` to set its default order."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )
    sort = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Comma-separated fields, `-` for descending: `-created_at,name`"},
    )


def order_by(model, sort: str, allowed) -> list:
    clauses = []
    for raw in (part.strip() for part in (sort or "").split(",")):
        if not raw:
            continue
        name = raw.lstrip("-")
        if name not in allowed:
            raise ValidationError(
                "Invalid sort.",
                {"sort": [f"Unknown sort field {name}; use one of: {', '.join(allowed)}."]},
            )
        column = getattr(model, name)
        clauses.append(column.desc() if raw.startswith("-") else column.asc())
    clauses.append(model.id.asc())
    return clauses


def where_equal(query, model, args: dict, fields):
    """Filter ``query`` by each of ``fields`` given in ``args`` (``?status=open&owner_id=...``)."""
    for name in fields:
        if name in args:
            query = query.where(getattr(model, name) == args[name])
    return query


def paginate(session, query, args: dict, *, dump) -> dict:
    """Run ``query`` (a select of one entity) for the page ``args`` (loaded with
    :class:`PageQuerySchema`) ask; ``dump`` serialises a row."""
    page, per_page = args["page"], args["per_page"]
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [dump(row) for row in rows], "page": page, "per_page": per_page, "total": total}
