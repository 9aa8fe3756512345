"""Field history: every change to a customer, contact or activity, with its actor."""
from __future__ import annotations

from common.actor import Actor
from common.db import new_id
from services.customers.models import FieldChange

# Fields that change as a side effect of every write and tell a reader nothing.
UNTRACKED = {"version", "updated_at", "created_at", "id", "customer_id", "deleted_at"}


def record(session, actor: Actor, *, customer_id, entity_type: str, entity_id,
           entity_version: int, action: str, before: dict | None, after: dict | None) -> None:
    """Write one row per changed field (one row with no field for create/delete/restore)."""
    common = _common(actor, customer_id=customer_id, entity_type=entity_type,
                     entity_id=entity_id, entity_version=entity_version, action=action)
    if action != "updated":
        session.add(FieldChange(**common, new_value=after))
        return
    for field in sorted(set(before) | set(after)):
        if field in UNTRACKED or before.get(field) == after.get(field):
            continue
        session.add(
            FieldChange(**common, field=field, old_value=before.get(field),
                        new_value=after.get(field))
        )


def created_rows(actor: Actor, created: list[tuple], now) -> list[dict]:
    """The rows :func:`record` writes of each ``(customer id, entity type, entity,
    snapshot)`` created at ``now``, for one statement (``insert_many``: an import's batch)."""
    return [{**_common(actor, customer_id=customer_id, entity_type=entity_type,
                       entity_id=entity.id, entity_version=entity.version, action="created"),
             "id": new_id(), "field": None, "old_value": None, "new_value": snapshot,
             "changed_at": now}
            for customer_id, entity_type, entity, snapshot in created]


def _common(actor: Actor, **about) -> dict:
    return {**about, "actor_id": actor.user_uuid, "actor_role": actor.role,
            "request_id": actor.request_id}
