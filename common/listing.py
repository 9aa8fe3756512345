"""Filtering, sorting and pagination of list queries, the same for every service.

A list answers ``{"items", "page", "per_page", "total"}``; ``sort`` is a comma-separated list
of allowed field names, ``-`` for descending; the primary key breaks ties so pages are stable.
"""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from common.errors import ValidationError

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
MAX_KEYSET_PAGE = 2000
CURSOR_SEPARATOR = "|"


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


def keyset_page(session, query, model, after: str | None, limit: int) -> tuple[list, str | None]:
    """Up to ``limit`` rows of ``query`` (a select of columns of ``model``, its ``id`` and
    ``created_at`` among them) in creation order after the cursor ``after`` (``None``: from
    the first), and the cursor of the next page (``None`` after the last). Unlike numbered
    pages, keyset pages neither skip nor repeat a row while others write, and need neither a
    count nor an offset: how exports page."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_KEYSET_PAGE:
        raise ValidationError("Invalid input.",
                              {"limit": [f"Must be from 1 to {MAX_KEYSET_PAGE}."]})
    query = query.order_by(model.created_at, model.id).limit(limit)
    if after is not None:
        created_at, last_id = _cursor(after)
        # A row comparison: an index on (created_at, id) answers it as a range.
        query = query.where(sa.tuple_(model.created_at, model.id) > sa.tuple_(
            sa.literal(created_at, model.created_at.type), sa.literal(last_id, model.id.type)))
    rows = session.execute(query).all()
    if len(rows) < limit:
        return rows, None
    return rows, f"{rows[-1].created_at.isoformat()}{CURSOR_SEPARATOR}{rows[-1].id}"


def _cursor(after) -> tuple[dt.datetime, uuid.UUID]:
    try:
        created_at, last_id = str(after).split(CURSOR_SEPARATOR)
        created_at = dt.datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at, uuid.UUID(last_id)
    except ValueError:
        raise ValidationError("Invalid input.", {"after": [
            "Not a cursor: use the next value of the previous page."]}) from None


def plain(value):
    """A column's value as JSON carries it: ids as text, the rest as they are."""
    return str(value) if isinstance(value, uuid.UUID) else value


def page_rows(session, query, args: dict, *, page_columns=(), key=None) -> tuple[list, int]:
    """The rows of ``query`` (any select) on the page ``args`` (loaded with
    :class:`PageQuerySchema`) ask, and how many rows the query has in all
    (``page_columns``: see :func:`page_statements`)."""
    return run_page(session, page_statements(query, page_columns=page_columns, key=key), args)


def page_statements(query, *, page_columns=(), key=None) -> tuple:
    """:func:`page_rows`' two statements for ``query``, the count and the page, the page's
    LIMIT and OFFSET bound when run: a list whose query has the same shape for many callers
    builds them once (with its values bound too) and runs them with :func:`run_page`.

    ``page_columns`` (a correlated subquery per row, such as a customer's tags) are read for
    the page's rows only, found by their ``key`` (the primary key) in a subquery that pages:
    in the paging statement itself, PostgreSQL would also compute them for every row the
    OFFSET skips."""
    total = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    paged = query.limit(_PAGE_LIMIT).offset(_PAGE_OFFSET)
    if page_columns:
        paged = query.add_columns(*page_columns).where(
            key.in_(paged.with_only_columns(key).correlate(None).scalar_subquery()))
    return total, paged


_PAGE_LIMIT = sa.bindparam("page_limit", type_=sa.Integer)
_PAGE_OFFSET = sa.bindparam("page_offset", type_=sa.Integer)


def run_page(session, statements: tuple, args: dict, params: dict | None = None) -> tuple[list, int]:
    """The rows on the page ``args`` ask and the count, by ``statements``
    (:func:`page_statements`) with ``params``, the values their query's parameters take."""
    total, paged = statements
    page, per_page = args["page"], args["per_page"]
    params = {**(params or {}), "page_limit": per_page, "page_offset": (page - 1) * per_page}
    count = session.scalar(total, params)
    return session.execute(paged, params).all(), count


def page_answer(args: dict, items: list, total: int) -> dict:
    """A list's answer: the page's ``items`` (dumped) and where they are among ``total``."""
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


def paginate(session, query, args: dict, *, dump) -> dict:
    """Run ``query`` (a select of one entity) for the page ``args`` ask; ``dump`` serialises
    a row."""
    rows, total = page_rows(session, query, args)
    return page_answer(args, [dump(entity) for entity, in rows], total)
