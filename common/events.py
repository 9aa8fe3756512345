"""The event envelope every service publishes and every consumer can rely on.

Events go to the topic exchange ``<source>.events`` with the event type as routing key,
the same exchange and key nameko's ``event_handler`` binds to.
"""
from __future__ import annotations

import uuid

from marshmallow import Schema, fields, validate

from common.actor import SYSTEM
from common.db import utcnow
from common.validation import schema_instance

SCHEMA_VERSION = 1


def exchange_name(source: str) -> str:
    return f"{source}.events"


def envelope(
    *,
    source: str,
    event_type: str,
    entity_id,
    entity_version: int | None,
    data: dict,
    actor: dict | None,
    schema_version: int = SCHEMA_VERSION,
) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "schema_version": schema_version,
        "occurred_at": utcnow().isoformat(),
        "source": source,
        "actor": actor or {"user_id": None, "role": SYSTEM, "request_id": None},
        "entity_id": str(entity_id),
        "entity_version": entity_version,
        "data": data,
    }


def version_of(event: dict) -> int | None:
    """The version of the entity an event describes: the envelope's ``entity_version``, else
    its data's ``version``; ``None`` when it carries neither."""
    version = event.get("entity_version")
    return version if version is not None else event["data"].get("version")


class EventActorSchema(Schema):
    user_id = fields.String(allow_none=True, required=True)
    role = fields.String(required=True)
    request_id = fields.String(allow_none=True, load_default=None)


class EnvelopeSchema(Schema):
    """The envelope; a service's ``schemas.py`` names the schema of each event's ``data``."""

    id = fields.UUID(required=True)
    type = fields.String(required=True)
    schema_version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True)
    actor = fields.Nested(EventActorSchema, required=True)
    entity_id = fields.String(required=True)
    entity_version = fields.Integer(allow_none=True, required=True)
    data = fields.Dict(required=True)


def envelope_problems(message) -> dict:
    """What makes ``message`` not an event envelope (``{}`` when it is one); checked by the one
    instance of the schema (building one per event cost 4 times the check)."""
    if not isinstance(message, dict):
        return {"_schema": ["Not a JSON object."]}
    return schema_instance(EnvelopeSchema).validate(message)
