"""Validate an RPC payload with the callee's own marshmallow schema: a service never trusts
its caller, not even the gateway that validated the same request a moment before."""
from __future__ import annotations

import datetime as dt
import functools
import math
import zoneinfo

from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError

from common.errors import ValidationError, flatten_marshmallow


def load(schema: Schema | type[Schema], payload, *, partial: bool = False) -> dict:
    """``payload`` loaded by ``schema``: an instance, or a class, whose one instance is kept
    (building a schema, which copies its fields, cost more than most loads)."""
    if isinstance(schema, type):
        schema = schema_instance(schema)
    if not isinstance(payload, dict):
        raise ValidationError("Invalid input.", {"_schema": ["Invalid input type."]})
    problems = dict(unstorable(payload))
    if problems:
        raise ValidationError("Invalid input.", problems)
    try:
        return schema.load(payload, partial=partial)
    except MarshmallowError as exc:
        raise ValidationError("Invalid input.", flatten_marshmallow(exc.messages)) from None


@functools.cache
def schema_instance(schema_class: type[Schema]) -> Schema:
    """The one instance of ``schema_class`` every load uses: a schema keeps no state of a
    load, and building one deep-copies each of its fields."""
    return schema_class()


def unstorable(value, path: str = ""):
    """Values no database stores: NUL characters in text, and numbers that are not finite
    (``NaN``, ``Infinity``, ``1e400``), anywhere in the payload. Yields ``(field, [message])``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from unstorable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from unstorable(item, path)
    elif isinstance(value, str) and "\x00" in value:
        yield path or "_schema", ["Must not contain NUL characters."]
    elif isinstance(value, float) and not math.isfinite(value):
        yield path or "_schema", ["Not a valid number."]


OUT_OF_RANGE = "Must be between the years 1900 and 2999."


class UTCDateTimeField(fields.AwareDateTime):
    """An ISO 8601 time with an offset, stored and answered in UTC, between the years 1900
    and 2999 (outside them a time is a typing mistake, and near year 1 or 9999 it cannot even
    be moved to UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            utc = parsed.astimezone(dt.timezone.utc)
        except OverflowError:
            utc = None
        if utc is None or not 1900 <= utc.year <= 2999:
            raise MarshmallowError(OUT_OF_RANGE)
        return utc


class BoundedDate(fields.Date):
    """A calendar date between the years 1900 and 2999 (reminders count days back from it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if not 1900 <= parsed.year <= 2999:
            raise MarshmallowError(OUT_OF_RANGE)
        return parsed


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: str) -> None:
    """A validator: an IANA time zone name such as ``Asia/Shanghai``."""
    if value not in _time_zones():
        raise MarshmallowError("Unknown time zone.")


# A phone number as people write it; compared by its digits (``common.normalize.phone``).
PHONE = validate.Regexp(
    r"^\+?[0-9 ()\-.]{3,40}$",
    error="Not a valid phone number: use digits, spaces, ()-. and an optional +.",
)


class VersionedUpdate(Schema):
    """The ``version`` every update carries (optimistic concurrency)."""

    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "The version last read; a stale one answers 409."},
    )
