"""Validate an RPC payload with the callee's own marshmallow schema: a service never trusts
its caller, not even the gateway that validated the same request a moment before."""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from common.errors import ValidationError, flatten_marshmallow


def load(schema: Schema, payload, *, partial: bool = False) -> dict:
    if not isinstance(payload, dict):
        raise ValidationError("Invalid input.", {"_schema": ["Invalid input type."]})
    try:
        return schema.load(payload, partial=partial)
    except MarshmallowError as exc:
        raise ValidationError("Invalid input.", flatten_marshmallow(exc.messages)) from None


class UTCDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset, stored and answered in UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.timezone.utc)


class VersionedUpdate(Schema):
    """The ``version`` every update carries (optimistic concurrency)."""

    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "The version last read; a stale one answers 409."},
    )
