"""Optimistic concurrency at the HTTP edge: a PATCH names the version it was based on.

The client sends it as the body field ``version`` or as ``If-Match: "<version>"``; the body
field wins when both are present. Whoever owns the record compares it with the current one and
answers 409 with ``current_version`` when it is stale: a service for its records (the blueprint
passes :func:`expected_version` on), :func:`load_for_update` for the gateway's users and teams.
"""
from __future__ import annotations

import re

from flask import request
from marshmallow import fields, validate

from common.errors import Conflict, ValidationError
from gateway.database import get_or_404

_IF_MATCH = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


def version_field() -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": 'The version last read; or send `If-Match: "<version>"`.'},
    )


def expected_version(data: dict) -> int:
    """Pop ``version`` from a loaded PATCH body, falling back to the ``If-Match`` header."""
    version = data.pop("version", None)
    if version is not None:
        return version
    header = request.headers.get("If-Match")
    if header is None:
        raise ValidationError("", {"version": ["Required as a body field or an If-Match header."]})
    match = _IF_MATCH.fullmatch(header)
    if not match:
        raise ValidationError("", {"version": ["Not a valid integer."]})
    return int(match.group(1))


def load_for_update(model, entity_id, data: dict, not_found: str):
    """The gateway-owned entity a PATCH changes, refused with 409 when the client's version
    (popped from ``data``) is not the current one."""
    expected = expected_version(data)
    entity = get_or_404(model, entity_id, not_found)
    if entity.version != expected:
        raise Conflict(
            f"The record was changed by someone else (version {entity.version}); "
            "reload it and try again.",
            {"current_version": entity.version},
        )
    return entity
