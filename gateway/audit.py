"""The audit trail's one writer: who did what to identity, when and from where.

Logins (succeeded, failed, throttled), logouts, reused refresh tokens and every change to a
user, a team or an API key are recorded by :func:`record` in the transaction of what they
record, so an entry exists exactly when its change committed; an event that commits nothing
of its own (a refused login) is written by :func:`record_alone`. The client's address, user
agent and request id come from the HTTP request when there is one (a command such as the
seed has none). No secret enters an entry: a new password is recorded as such, never its
hash, and a new API key by its name and scopes. Admins read the trail at ``GET
/api/v1/audit`` (``gateway.identity.audit_trail``); nothing in the application changes or
deletes it.
"""
from __future__ import annotations

import json

from flask import has_request_context, request
from sqlalchemy.orm import Session

from common.actor import SYSTEM, Actor
from common.records import Change
from gateway.models import ApiKey, AuditEntry, Team, User
from gateway.request_context import request_id

# Everything recorded (a user's or team's edit is one or more of its `.updated`,
# `.password_changed`, `.deactivated` and `.reactivated`).
ACTIONS = ("login.succeeded", "login.failed", "login.throttled", "logout", "refresh.reused",
           "user.created", "user.updated", "user.password_changed", "user.deactivated",
           "user.reactivated", "team.created", "team.updated", "api_key.created",
           "api_key.revoked")
TARGET_TYPES = {User: "user", Team: "team", ApiKey: "api_key"}
ADDRESS_LENGTH = 64
USER_AGENT_LENGTH = 200
# Changed fields an update entry leaves out: bumped by every change, or recorded on their own.
UNLISTED = {"version", "password_hash", "active"}


def record(db: Session, action: str, *, actor: Actor | User | None = None,
           target: User | Team | ApiKey | None = None, username: str | None = None,
           details: dict | None = None) -> None:
    """Add an entry to ``db``'s transaction: it commits with the change it records, or not
    at all. ``actor``: the caller of a use case, the user of a session event, or ``None``
    when nobody is known (then ``username`` is the one attempted)."""
    db.add(AuditEntry(action=action, **_who(actor, username), **_what(target), **_where(),
                      details=json.loads(json.dumps(details or {}, default=str))))


def record_alone(db: Session, action: str, **fields) -> None:
    """Record and commit at once: for an event that has no change to commit with (a refused
    login)."""
    record(db, action, **fields)
    db.commit()


def record_change(db: Session, actor: Actor, target: User | Team, change: Change) -> None:
    """Record an edit of a user or a team: ``<type>.updated`` with each changed field from
    and to, and apart from it ``<type>.password_changed`` (never the hash) and
    ``<type>.deactivated`` / ``<type>.reactivated``."""
    kind = TARGET_TYPES[type(target)]
    before, after = change.before, change.after
    if before.get("password_hash") != after.get("password_hash"):
        record(db, f"{kind}.password_changed", actor=actor, target=target)
    if before.get("active") != after.get("active"):
        record(db, f"{kind}.{'reactivated' if after['active'] else 'deactivated'}",
               actor=actor, target=target)
    changes = {name: {"from": before.get(name), "to": after.get(name)}
               for name in sorted((set(before) | set(after)) - UNLISTED)
               if before.get(name) != after.get(name)}
    if changes:
        record(db, f"{kind}.updated", actor=actor, target=target, details={"changes": changes})


def _who(actor: Actor | User | None, username: str | None) -> dict:
    if isinstance(actor, User):
        return {"actor_id": actor.id, "actor_role": actor.role, "actor_name": actor.username}
    if isinstance(actor, Actor):
        # A command acts as Actor.system(<its name>), which carries the name as request id.
        name = actor.request_id if actor.role == SYSTEM else None
        return {"actor_id": actor.user_uuid, "actor_role": actor.role, "actor_name": name}
    return {"actor_id": None, "actor_role": None, "actor_name": username}


def _what(target: User | Team | ApiKey | None) -> dict:
    if target is None:
        return {"target_type": None, "target_id": None}
    return {"target_type": TARGET_TYPES[type(target)], "target_id": target.id}


def _where() -> dict:
    """The client's address, user agent and request id; nothing outside a request."""
    if not has_request_context():
        return {}
    return {
        "address": (request.remote_addr or "")[:ADDRESS_LENGTH] or None,
        "user_agent": request.user_agent.string[:USER_AGENT_LENGTH] or None,
        "request_id": request_id(),
    }
