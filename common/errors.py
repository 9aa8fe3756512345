"""Typed errors that cross RPC as their real types.

nameko serialises an exception as its type path plus ``args``; the types below are registered
with ``deserialize_to_instance`` so the gateway receives a ``NotFound`` and not a
``RemoteError``. Their ``args`` are JSON-safe (nameko stringifies anything else), so every
constructor takes strings and dicts of string lists only.
"""
from __future__ import annotations

import json

from nameko.exceptions import deserialize_to_instance


class CrmError(Exception):
    """Base of the errors a caller may see; ``code`` is stable, ``message`` is English."""

    code = "error"
    status = 500

    def __init__(self, message: str = "", details: dict | None = None):
        super().__init__(message, details or {})
        self.message = message
        self.details = details or {}


@deserialize_to_instance
class ValidationError(CrmError):
    """Bad input. ``details`` maps a field path to a list of English messages."""

    code = "validation_failed"
    status = 400


@deserialize_to_instance
class NotFound(CrmError):
    """The record does not exist, or the caller may not see it (the two are not told apart)."""

    code = "not_found"
    status = 404


@deserialize_to_instance
class Forbidden(CrmError):
    """The caller's role may not do this action."""

    code = "forbidden"
    status = 403


@deserialize_to_instance
class Conflict(CrmError):
    """A stale version or a state that forbids the change. ``details`` may hold
    ``current_version``."""

    code = "conflict"
    status = 409


@deserialize_to_instance
class Duplicate(Conflict):
    """Creating the record would duplicate others the caller may see; ``matches`` lists them
    with the fields that matched. (They travel as JSON text in ``details``: nameko would
    stringify their numbers and nulls.)"""

    code = "duplicate"

    def __init__(self, message: str = "", details: dict | None = None,
                 matches: list | None = None):
        if matches is not None:
            details = {**(details or {}), "matches": json.dumps(matches)}
        super().__init__(message, details)

    @property
    def matches(self) -> list:
        return json.loads(self.details.get("matches") or "[]")


@deserialize_to_instance
class PreconditionFailed(CrmError):
    """A business rule refuses the move (converting twice, closing without an amount...)."""

    code = "precondition_failed"
    status = 409


@deserialize_to_instance
class DependencyUnavailable(CrmError):
    """A service this one depends on is not running (or the broker is not reachable)."""

    code = "service_unavailable"
    status = 503


@deserialize_to_instance
class DependencyTimeout(CrmError):
    """A service this one depends on did not answer in time."""

    code = "gateway_timeout"
    status = 504


@deserialize_to_instance
class RequestExpired(CrmError):
    """The caller stopped waiting before the service took the request: it was not run."""

    code = "gateway_timeout"
    status = 504


@deserialize_to_instance
class CallerUnknown(CrmError):
    """An RPC request whose context names no valid caller (``common.actor``): refused, never
    run as anyone."""

    code = "unauthorized"
    status = 401


def flatten_marshmallow(messages, prefix: str = "") -> dict:
    """Turn marshmallow's nested error dict into ``{"a.b": ["msg"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema" and prefix:
                path = prefix
            for sub_key, sub_messages in flatten_marshmallow(value, path).items():
                flat.setdefault(sub_key, []).extend(sub_messages)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(item, str) for item in messages):
            flat[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for sub_key, sub_messages in flatten_marshmallow(item, prefix).items():
                    flat.setdefault(sub_key, []).extend(sub_messages)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat
