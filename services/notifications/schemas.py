"""The notifications service's public contract: RPC payloads, results and the events it
publishes.

The only module of this service other code may import: the gateway validates requests and
builds its OpenAPI document from these schemas; the service validates again; the event
catalogue ``docs/asyncapi.yaml`` is generated from :data:`EVENTS`.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from common.listing import PageQuerySchema
from common.validation import UTCDateTimeField, time_zone

LANGUAGES = ("en", "zh-CN")
CHANNELS = ("in_app", "email")
REMINDER_STATUSES = ("pending", "sent", "cancelled", "failed")
REMINDER_KINDS = (
    "follow_up", "deal_closing", "deal_stale", "contract_expiry", "lead_assigned", "manual",
)
DELIVERY_STATUSES = ("pending", "delivered", "failed")

# The events this service consumes (besides team.*, which only its directory of people
# keeps), listed once: ``consumers.EVENTS`` maps each to what it asks for. With its own, they
# are what a webhook may subscribe to.
CONSUMED_EVENTS = {
    "customers": ("activity.logged", "activity.updated", "customer.updated", "customer.deleted",
                  "customer.restored", "customer.merged"),
    "sales": (
        "lead.assigned", "deal.created", "deal.updated", "deal.stage_changed", "deal.won",
        "deal.lost", "contract.created", "contract.updated",
    ),
    "gateway": ("user.created", "user.updated"),
}
OWN_EVENTS = (
    "reminder.created", "reminder.updated", "reminder.sent", "reminder.cancelled",
    "reminder.failed", "notification.created",
)
WEBHOOK_EVENT_TYPES = tuple(
    sorted({kind for kinds in CONSUMED_EVENTS.values() for kind in kinds} | set(OWN_EVENTS))
)


# -- reminders -------------------------------------------------------------------------------
class ReminderFields(Schema):
    due_at = UTCDateTimeField()
    subject = fields.String(validate=validate.Length(min=1, max=200))
    entity_type = fields.String(validate=validate.Length(min=1, max=32), allow_none=True)
    entity_id = fields.String(validate=validate.Length(min=1, max=64), allow_none=True)


class ReminderCreateSchema(ReminderFields):
    due_at = UTCDateTimeField(required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ReminderUpdateSchema(ReminderFields):
    version = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1),
        metadata={"description": "The version last read; a stale one answers 409."},
    )


class ReminderSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": list(REMINDER_KINDS)})
    user_id = fields.UUID()
    subject = fields.String(allow_none=True)
    entity_type = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    due_at = UTCDateTimeField()
    status = fields.String(metadata={"enum": list(REMINDER_STATUSES)})
    sent_at = UTCDateTimeField(allow_none=True)
    lateness_ms = fields.Integer(allow_none=True, metadata={
        "description": "sent_at - due_at in milliseconds"})
    cancelled_at = UTCDateTimeField(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class ReminderListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="due_at", validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(REMINDER_STATUSES))
    kind = fields.String(validate=validate.OneOf(REMINDER_KINDS))


REMINDER_SORT_FIELDS = ("due_at", "created_at", "status", "kind")


# -- inbox -----------------------------------------------------------------------------------
class NotificationSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    entity_type = fields.String(allow_none=True)
    entity_id = fields.String(allow_none=True)
    reminder_id = fields.UUID(allow_none=True)
    created_at = UTCDateTimeField()
    read_at = UTCDateTimeField(allow_none=True)


class NotificationListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    unread = fields.Boolean(metadata={"description": "true: only the unread ones"})


NOTIFICATION_SORT_FIELDS = ("created_at", "read_at")


class UnreadCountSchema(Schema):
    count = fields.Integer()


class ReadAllSchema(Schema):
    updated = fields.Integer()


class PreferencesSchema(Schema):
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)), required=True,
        validate=validate.Length(max=len(CHANNELS)),
        metadata={"description": "in_app is always on"},
    )
    language = fields.String(validate=validate.OneOf(LANGUAGES), allow_none=True,
                             load_default=None)
    timezone = fields.String(validate=time_zone, allow_none=True, load_default=None,
                             metadata={"example": "Asia/Shanghai"})


# -- webhooks --------------------------------------------------------------------------------
class WebhookFields(Schema):
    url = fields.Url(schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=2000))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    )
    secret = fields.String(validate=validate.Length(min=16, max=200), load_only=True)
    active = fields.Boolean()
    description = fields.String(validate=validate.Length(max=200), allow_none=True)


class WebhookCreateSchema(WebhookFields):
    url = fields.Url(schemes={"http", "https"}, require_tld=False, required=True,
                     validate=validate.Length(max=2000))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENT_TYPES)), required=True,
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    )
    secret = fields.String(validate=validate.Length(min=16, max=200), load_only=True,
                           metadata={"description": "generated when not given"})
    active = fields.Boolean(load_default=True)


class WebhookUpdateSchema(WebhookFields):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class WebhookSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    event_types = fields.List(fields.String())
    active = fields.Boolean()
    description = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class WebhookEventTypesSchema(Schema):
    items = fields.List(fields.String(), metadata={
        "description": "Every event type a webhook may subscribe to, sorted"})


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "shown once, at creation"})


class DeliveryAttemptSchema(Schema):
    number = fields.Integer()
    started_at = UTCDateTimeField()
    duration_ms = fields.Integer()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.UUID()
    webhook_id = fields.UUID(allow_none=True)
    event_id = fields.String(allow_none=True)
    event_type = fields.String(allow_none=True)
    replay_of = fields.UUID(allow_none=True)
    status = fields.String(metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = UTCDateTimeField()
    last_error = fields.String(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    created_at = UTCDateTimeField()
    delivered_at = UTCDateTimeField(allow_none=True)
    attempt_log = fields.List(fields.Nested(DeliveryAttemptSchema))


class DeliveryListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


DELIVERY_SORT_FIELDS = ("created_at", "status")
WEBHOOK_SORT_FIELDS = ("created_at", "url")


# -- events ----------------------------------------------------------------------------------
class ReminderEventSchema(ReminderSchema):
    dedup_key = fields.String(metadata={"description": "what asked for the reminder"})
    cause = fields.String(allow_none=True, metadata={"description": "reminder.failed: why"})


class NotificationEventSchema(NotificationSchema):
    user_id = fields.UUID()
    channels = fields.List(fields.String())


EVENTS = {
    "reminder.created": (ReminderEventSchema, "A reminder was scheduled."),
    "reminder.updated": (ReminderEventSchema, "A reminder changed: edited by its owner, given to "
                                              "a new owner, or brought back when its customer "
                                              "was restored."),
    "reminder.sent": (
        ReminderEventSchema,
        "A reminder was sent (once): in the inbox, and queued for the user's other channels.",
    ),
    "reminder.cancelled": (
        ReminderEventSchema, "A pending reminder was cancelled (follow-up cleared, deal closed ...)."
    ),
    "reminder.failed": (ReminderEventSchema, "A reminder could not be sent; cause says why."),
    "notification.created": (NotificationEventSchema, "A notification reached a user's inbox."),
}
