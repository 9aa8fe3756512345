"""Sorting and pagination of list queries, the same for every service.

A list answers ``{"items", "page", "per_page", "total"}``; ``sort`` is a comma-separated list
of allowed field names, ``-`` for descending; the primary key breaks ties so pages are stable.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.errors import ValidationError


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


def paginate(session, query, *, page: int, per_page: int, dump) -> dict:
    """Run ``query`` (a select of one entity) for one page; ``dump`` serialises a row."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [dump(row) for row in rows], "page": page, "per_page": per_page, "total": total}
