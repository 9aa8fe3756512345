"""The caller of a service, carried in nameko context data from the gateway.

The gateway authenticates; services authorise on their own data, so each needs to know who
asks. Context data travels in AMQP headers and follows nested RPC calls automatically.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

ROLES = ("admin", "manager", "sales", "analyst")
# Another system calling with an API key: it sees and writes what its scopes allow, which
# the gateway checks; services treat it like an admin for record-level access.
INTEGRATION = "integration"
# A process acting on its own behalf: a timer, an event handler, the gateway's readiness
# probe, a setup command. It must say so; a request that names no caller is refused.
SYSTEM = "system"
CONTEXT_KEYS = ("user_id", "role", "team_id", "scopes", "language", "request_id")


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    role: str
    team_id: str | None = None
    scopes: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en"
    request_id: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        """A process acting on its own behalf (timers, event handlers, seeds)."""
        return cls(user_id=None, role=SYSTEM, request_id=name)

    @classmethod
    def from_context(cls, data: dict) -> "Actor | None":
        """The caller a request's context names; ``None`` when it names none (no role, or an
        unknown one): such a request is refused, never run as the system."""
        role = data.get("role")
        if role not in (*ROLES, INTEGRATION, SYSTEM):
            return None
        return cls(
            user_id=data.get("user_id"),
            role=role,
            team_id=data.get("team_id"),
            scopes=tuple(data.get("scopes") or ()),
            language=data.get("language") or "en",
            request_id=data.get("request_id"),
        )

    def to_context(self) -> dict:
        """The context data naming this caller; keys without a value are left out (nameko
        drops them from a message's headers, with a warning)."""
        context = {
            "user_id": self.user_id,
            "role": self.role,
            "team_id": self.team_id,
            "scopes": list(self.scopes),
            "language": self.language,
            "request_id": self.request_id,
        }
        return {key: value for key, value in context.items() if value is not None}

    @property
    def user_uuid(self) -> uuid.UUID | None:
        """The caller's user id as stored in records (``created_by``, ``owner_id``...);
        ``None`` for the system and API keys."""
        return uuid.UUID(self.user_id) if self.user_id else None

    @property
    def team_uuid(self) -> uuid.UUID | None:
        return uuid.UUID(self.team_id) if self.team_id else None

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "analyst", SYSTEM, INTEGRATION)

    @property
    def acts_as_admin(self) -> bool:
        """Admins, the system itself, and API keys (whose scopes the gateway checks)."""
        return self.role in ("admin", SYSTEM, INTEGRATION)

    @property
    def can_write(self) -> bool:
        return self.role != "analyst"

    def as_event_actor(self) -> dict:
        return {"user_id": self.user_id, "role": self.role, "request_id": self.request_id}
