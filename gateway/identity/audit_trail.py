"""The audit trail's one use case: admins read it, newest first, a page at a time.

``gateway.audit`` writes the entries with the changes they record; nothing changes or deletes
them, here or anywhere in the API.
"""
from __future__ import annotations

from common.uow import UnitOfWork
from common.validation import load
from gateway.identity import schemas as s
from gateway.identity.records import Kind, require_admin
from gateway.models import AuditEntry

AUDIT_ENTRY = Kind(AuditEntry, s.AuditEntrySchema(), "audit entry", s.AUDIT_SORT_FIELDS,
                   "-occurred_at")
EXACT_FILTERS = ("actor_id", "target_type", "target_id", "address")


def list_entries(uow: UnitOfWork, query_args) -> dict:
    require_admin(uow.actor)
    args = load(s.AuditQuerySchema, query_args)
    conditions = [getattr(AuditEntry, name) == args[name] for name in EXACT_FILTERS
                  if name in args]
    if "action" in args:
        action = args["action"]
        conditions.append(AuditEntry.action.startswith(action, autoescape=True)
                          if action.endswith(".") else AuditEntry.action == action)
    if "since" in args:
        conditions.append(AuditEntry.occurred_at >= args["since"])
    if "until" in args:
        conditions.append(AuditEntry.occurred_at < args["until"])
    return AUDIT_ENTRY.page(uow, args, conditions)
