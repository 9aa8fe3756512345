"""Identity's public contract: the payloads and results of its use cases (the audit trail's
included), and the events it publishes.

The gateway's users, teams and API-keys routes validate requests and build their OpenAPI
description from these schemas; the use cases validate again (they never trust their caller:
the seed command calls them too); ``docs/asyncapi.yaml`` is generated from :data:`EVENTS`.
"""
from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from common.actor import ROLES
from common.listing import PageQuerySchema
from common.validation import time_zone
from gateway.audit import ACTIONS, TARGET_TYPES
from gateway.auth.api_keys import SCOPES
from gateway.auth.passwords import MAX_LENGTH, MIN_LENGTH
from gateway.i18n import LANGUAGES

USER_SORT_FIELDS = ("username", "display_name", "role", "created_at", "updated_at",
                    "last_login_at")
TEAM_SORT_FIELDS = ("name", "created_at", "updated_at")
API_KEY_SORT_FIELDS = ("name", "created_at")
AUDIT_SORT_FIELDS = ("occurred_at",)


def version_field() -> fields.Integer:
    """The version a change is based on: required by the use cases; the gateway takes it from
    ``If-Match`` when the body has none."""
    return fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": 'The version last read; or send `If-Match: "<version>"`.'},
    )


# -- users -----------------------------------------------------------------------------------
class Username(fields.String):
    """Compared and stored lower-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class UserSchema(Schema):
    id = fields.UUID(dump_only=True)
    username = fields.String()
    display_name = fields.String()
    email = fields.Email(allow_none=True)
    role = fields.String(metadata={"enum": list(ROLES)})
    team_id = fields.UUID(allow_none=True)
    language = fields.String(metadata={"enum": list(LANGUAGES)})
    timezone = fields.String(metadata={"example": "Asia/Shanghai"})
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)


class UserInputSchema(Schema):
    username = Username(
        required=True,
        validate=[validate.Length(min=3, max=64), validate.Regexp(r"^[a-z0-9._@-]+$")],
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=MIN_LENGTH, max=MAX_LENGTH)
    )
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    team_id = fields.UUID(allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(validate=[validate.Length(max=64), time_zone])
    active = fields.Boolean()


class UserPatchSchema(UserInputSchema):
    """Any field of the input, and the version the change is based on."""

    version = version_field()


class UserListQuerySchema(PageQuerySchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    team_id = fields.UUID()
    active = fields.Boolean()
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "Part of the username, display name or email"},
    )


# -- teams -----------------------------------------------------------------------------------
class TeamSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    manager_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class TeamInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    manager_id = fields.UUID(allow_none=True)


class TeamPatchSchema(TeamInputSchema):
    """Any field of the input, and the version the change is based on."""

    version = version_field()


class TeamListQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "Part of the name"})


# -- API keys --------------------------------------------------------------------------------
class ApiKeySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The key's first characters, to tell keys apart"})
    scopes = fields.List(fields.String())
    created_by = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class NewApiKeySchema(ApiKeySchema):
    key = fields.String(allow_none=True, metadata={
        "description": "The key itself: shown this once, never again (a repeat of the same "
                       "request with its Idempotency-Key answers null)"})


class ApiKeyInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1, max=len(SCOPES)))


# -- the audit trail ---------------------------------------------------------------------------
AUDIT_TIME_HELP = "Not a valid date and time: use ISO 8601, such as 2026-01-31T09:00:00Z."


class AuditEntrySchema(Schema):
    id = fields.UUID()
    occurred_at = fields.AwareDateTime()
    action = fields.String(metadata={"enum": list(ACTIONS)})
    actor_id = fields.UUID(allow_none=True, metadata={
        "description": "The user who acted; null for the system and for a caller nobody knows "
                       "(a failed or throttled login)"})
    actor_role = fields.String(allow_none=True, metadata={
        "description": "The actor's role then (admin, manager, sales, analyst, or system for a "
                       "command such as the seed); null when nobody is known"})
    actor_name = fields.String(allow_none=True, metadata={
        "description": "The username of a login or session event (the one attempted, for a "
                       "failed or throttled login), or the command's name for the system"})
    target_type = fields.String(allow_none=True, metadata={
        "description": "What was acted on: user, team or api_key"})
    target_id = fields.UUID(allow_none=True, metadata={"description": "Its id"})
    address = fields.String(allow_none=True, metadata={
        "description": "The client's IP address (as the trusted proxies in front name it)"})
    user_agent = fields.String(allow_none=True, metadata={
        "description": "The client's User-Agent, cut at 200 characters"})
    request_id = fields.String(allow_none=True, metadata={
        "description": "The request's X-Request-Id, as in the gateway's logs"})
    details = fields.Dict(metadata={
        "description": "What else is known: a new record's fields, an update's `changes` "
                       "(`{field: {from, to}}`), a key's name and scopes, a session's id. "
                       "Never a password, a hash, a token or a key"})


class AuditQuerySchema(PageQuerySchema):
    """Newest first by default (``sort=occurred_at`` for oldest first)."""

    action = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "An action (`login.failed`), or the start of several ending in a dot "
                       "(`login.`, `user.`)"})
    actor_id = fields.UUID()
    target_type = fields.String(validate=validate.OneOf(list(TARGET_TYPES.values())))
    target_id = fields.UUID()
    address = fields.String(validate=validate.Length(max=64), metadata={
        "description": "The client's IP address, exactly"})
    since = fields.AwareDateTime(
        default_timezone=dt.timezone.utc, error_messages={"invalid": AUDIT_TIME_HELP},
        metadata={"description": "Entries at or after this time (ISO 8601; UTC without an offset)"})
    until = fields.AwareDateTime(
        default_timezone=dt.timezone.utc, error_messages={"invalid": AUDIT_TIME_HELP},
        metadata={"description": "Entries before this time (ISO 8601; UTC without an offset)"})

    @validates_schema
    def _since_before_until(self, data, **_kwargs):
        if "since" in data and "until" in data and data["since"] > data["until"]:
            raise ValidationError("Must not be after until.", "since")


# -- events: user.* and team.* for the services that keep a local copy (common.directory) -----
class UserEventSchema(Schema):
    id = fields.UUID()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String(metadata={"description": "admin, manager, sales or analyst"})
    team_id = fields.UUID(allow_none=True)
    language = fields.String(metadata={"description": "en or zh-CN"})
    timezone = fields.String(metadata={"description": "IANA time zone, e.g. Asia/Shanghai"})
    active = fields.Boolean()
    version = fields.Integer()


class TeamEventSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    manager_id = fields.UUID(allow_none=True)
    version = fields.Integer()


EVENTS = {
    "user.created": (UserEventSchema, "A user was created."),
    "user.updated": (UserEventSchema, "A user changed (role, team, language, time zone, "
                                      "active...); data is the new state."),
    "team.created": (TeamEventSchema, "A team was created."),
    "team.updated": (TeamEventSchema, "A team changed; data is the new state."),
}
