"""Pages of a service's current records for a consumer that rebuilds its copy of them (the
reports' read model): every record of a kind, trashed ones included, in id order.

Keyset pages (``after`` the last id seen) never skip or repeat a record while others are
being written, which numbered pages would. Only admins and the services themselves may ask:
the pages ignore record-level access.
"""
from __future__ import annotations

import sqlalchemy as sa

from common.actor import Actor
from common.errors import Forbidden, ValidationError
from common.records import optional_uuid

MAX_PAGE = 1000


def page(session, actor: Actor, kinds: dict, kind: str, after=None, limit: int = 500) -> dict:
    """``{"items": [...], "next": <id or None>}``: up to ``limit`` records of ``kind`` after the
    id ``after``. ``kinds`` maps a kind to ``(model, dump)``."""
    if not actor.acts_as_admin:
        raise Forbidden("Only admins and the services may page through every record.")
    if kind not in kinds:
        raise ValidationError("Invalid input.", {"kind": [f"Use one of: {', '.join(kinds)}."]})
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError("Invalid input.", {"limit": [f"Must be from 1 to {MAX_PAGE}."]})
    model, dump = kinds[kind]
    query = sa.select(model).order_by(model.id).limit(limit)
    if after:
        try:
            query = query.where(model.id > optional_uuid(after))
        except ValueError:
            raise ValidationError("Invalid input.", {"after": ["Not a valid id."]}) from None
    records = session.scalars(query).all()
    return {"items": [dump(record) for record in records],
            "next": str(records[-1].id) if len(records) == limit else None}
