"""The customers service's public contract: RPC payloads, results and the events it publishes.

The only module of this service other code may import: the gateway validates requests and
builds its OpenAPI document from these schemas; the service validates again (it never trusts
its caller); ``docs/asyncapi.yaml`` is generated from :data:`EVENTS`.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate, validates, validates_schema
from marshmallow import ValidationError as MarshmallowError

from common.dumping import Dumper
from common.listing import PageQuerySchema  # noqa: F401 - part of this contract
from common.validation import PHONE, UTCDateTimeField, VersionedUpdate

CUSTOMER_TYPES = ("company", "person")
TIERS = ("A", "B", "C")
STATUSES = ("prospect", "active", "dormant", "churned")
ACTIVITY_TYPES = ("call", "meeting", "visit", "email", "note")
MAX_TAGS = 50
MAX_CUSTOM_FIELDS = 50

SHORT = validate.Length(max=100)
NAME = validate.Length(min=1, max=200)


def _text(max_length: int, **kwargs):
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kwargs)


class CustomFieldsField(fields.Dict):
    """Custom fields: up to 50 keys, each a scalar (string, number, boolean or null)."""

    def __init__(self, **kwargs):
        super().__init__(
            keys=fields.String(validate=validate.Length(min=1, max=64)),
            validate=validate.Length(max=MAX_CUSTOM_FIELDS),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        for key, item in result.items():
            if isinstance(item, (dict, list)):
                raise MarshmallowError(f"Custom field {key} must be a single value.")
            if isinstance(item, str) and len(item) > 1000:
                raise MarshmallowError(f"Custom field {key} is longer than 1000 characters.")
        return result


class TagsField(fields.List):
    """Up to 50 tags; a tag holds no ``;``, which separates tags in one cell of a file."""

    def __init__(self, **kwargs):
        super().__init__(
            fields.String(validate=[
                validate.Length(min=1, max=50),
                validate.Regexp(r"^[^;]*$", error="A tag may not contain ';' (it separates "
                                                  "tags in imported and exported files)."),
            ]),
            validate=validate.Length(max=MAX_TAGS),
            **kwargs,
        )


# -- customers -------------------------------------------------------------------------------
class CustomerFields(Schema):
    """Fields a client may write on a customer."""

    name = fields.String(validate=NAME)
    type = fields.String(validate=validate.OneOf(CUSTOMER_TYPES))
    industry = _text(100)
    country = _text(100)
    province = _text(100)
    city = _text(100)
    source = _text(100)
    tier = fields.String(validate=validate.OneOf(TIERS), allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    tags = TagsField()
    custom_fields = CustomFieldsField()
    notes = _text(10000)

    @validates("name")
    def _name_not_blank(self, value, **kwargs):
        if not value.strip():
            raise MarshmallowError("Must not be blank.")


class CustomerCreateSchema(CustomerFields):
    name = fields.String(required=True, validate=NAME)
    type = fields.String(load_default="company", validate=validate.OneOf(CUSTOMER_TYPES))
    status = fields.String(load_default="prospect", validate=validate.OneOf(STATUSES))
    allow_duplicate = fields.Boolean(load_default=False, metadata={"description": (
        "Create it even when customers you may see have the same name (compared as "
        "GET /customers/duplicates does); without it such a create answers 409 duplicate "
        "with the matches.")})


class CustomerUpdateSchema(VersionedUpdate, CustomerFields):
    pass


class CustomerSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    type = fields.String()
    industry = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    status = fields.String()
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    tags = fields.List(fields.String())
    custom_fields = fields.Dict()
    notes = fields.String(allow_none=True)
    version = fields.Integer()
    created_by = fields.UUID(allow_none=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    deleted_at = UTCDateTimeField(allow_none=True)


class CustomerListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Matches the name, a contact's name or email, or, when it "
                                 "is a phone number (at least 4 digits; + ( ) - . and spaces "
                                 "allowed), a contact's phone"},
    )
    owner_id = fields.UUID()
    team_id = fields.UUID()
    type = fields.String(validate=validate.OneOf(CUSTOMER_TYPES))
    industry = fields.String(validate=SHORT)
    country = fields.String(validate=SHORT)
    province = fields.String(validate=SHORT)
    city = fields.String(validate=SHORT)
    source = fields.String(validate=SHORT)
    tier = fields.String(validate=validate.OneOf(TIERS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    tag = fields.String(validate=validate.Length(min=1, max=50))
    created_from = UTCDateTimeField()
    created_to = UTCDateTimeField()

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("created_from") and data.get("created_to"):
            if data["created_from"] > data["created_to"]:
                raise MarshmallowError("Must not be after created_to.", "created_from")


# A customer as the service answers it, in every answer and event (``common.dumping``: a
# list page dumps 20 or more).
customer_out = Dumper(CustomerSchema())

CUSTOMER_SORT_FIELDS = ("created_at", "updated_at", "name", "tier", "status", "city")

# The columns of a customers file, in order: what export writes and import reads (by the
# field name or either label, case-insensitive). ``tags`` is one cell, the tags separated by
# ``;`` (written "; "; a tag may hold no ``;``); ``custom_fields`` is one cell holding a JSON
# object (``{"budget": 1200}``); the contact_* columns are the customer's primary contact.
# How values become cells and back: ``common.tabular``.
TRANSFER_COLUMNS = (
    ("name", "Name", "客户名称"),
    ("type", "Type", "类型"),
    ("industry", "Industry", "行业"),
    ("country", "Country", "国家"),
    ("province", "Province", "省份"),
    ("city", "City", "城市"),
    ("source", "Source", "来源"),
    ("tier", "Tier", "等级"),
    ("status", "Status", "状态"),
    ("owner_id", "Owner ID", "负责人ID"),
    ("team_id", "Team ID", "团队ID"),
    ("tags", "Tags", "标签"),
    ("custom_fields", "Custom fields", "自定义字段"),
    ("notes", "Notes", "备注"),
    ("contact_name", "Contact name", "联系人"),
    ("contact_phone", "Contact phone", "联系人电话"),
    ("contact_email", "Contact email", "联系人邮箱"),
)


class CustomerExportQuerySchema(CustomerListQuerySchema):
    """The list's filters, for an export: every matching customer, in creation order."""

    class Meta:
        exclude = ("page", "per_page", "sort")


# -- duplicates and merge --------------------------------------------------------------------
DUPLICATE_FIELDS = ("name", "email", "phone")
MAX_DUPLICATES = 50


class DuplicateQuerySchema(Schema):
    """What a new customer would have, at least one of: a name (compared with case, width,
    spaces, punctuation and a legal form such as 有限公司 or Co., Ltd. ignored), a contact's
    email, a contact's phone (its digits, the country code optional)."""

    name = fields.String(validate=NAME)
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(validate=PHONE)

    @validates_schema
    def _at_least_one(self, data, **kwargs):
        if not any(data.get(field) for field in DUPLICATE_FIELDS):
            raise MarshmallowError({field: ["Give at least one of name, email and phone."]
                                    for field in DUPLICATE_FIELDS})


class DuplicateSchema(Schema):
    customer = fields.Nested(CustomerSchema)
    matched = fields.List(fields.String(validate=validate.OneOf(DUPLICATE_FIELDS)), metadata={
        "description": "Which of name, email and phone matched"})


class DuplicateListSchema(Schema):
    items = fields.List(fields.Nested(DuplicateSchema), metadata={
        "description": f"Oldest first, at most {MAX_DUPLICATES}"})


class MergeSchema(VersionedUpdate):
    """``version`` is the kept customer's."""

    from_id = fields.UUID(required=True, metadata={
        "description": "The customer merged into this one, then moved to the trash"})


# -- contacts --------------------------------------------------------------------------------
class ContactFields(Schema):
    name = fields.String(validate=NAME)
    title = _text(100)
    phone = fields.String(allow_none=True, validate=PHONE)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    is_primary = fields.Boolean()


class ContactCreateSchema(ContactFields):
    name = fields.String(required=True, validate=NAME)
    is_primary = fields.Boolean(load_default=False)


class ContactUpdateSchema(VersionedUpdate, ContactFields):
    pass


class ContactSchema(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    name = fields.String()
    title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    is_primary = fields.Boolean()
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class CustomerWithContactSchema(Schema):
    """A customer and its primary contact, made in one step (a lead's conversion)."""

    customer = fields.Nested(CustomerCreateSchema, required=True)
    contact = fields.Nested(ContactCreateSchema, required=True)


class IdempotencyKeySchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CustomerWithContactResultSchema(Schema):
    customer_id = fields.UUID()
    contact_id = fields.UUID()


# -- activities (follow-up records) ---------------------------------------------------------
class ActivityFields(Schema):
    type = fields.String(validate=validate.OneOf(ACTIVITY_TYPES))
    content = fields.String(validate=validate.Length(min=1, max=20000))
    occurred_at = UTCDateTimeField()
    next_follow_up_at = UTCDateTimeField(allow_none=True)
    deal_id = fields.UUID(allow_none=True)


class ActivityCreateSchema(ActivityFields):
    type = fields.String(required=True, validate=validate.OneOf(ACTIVITY_TYPES))
    content = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class ActivityUpdateSchema(VersionedUpdate, ActivityFields):
    pass


class ActivitySchema(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    type = fields.String()
    content = fields.String()
    occurred_at = UTCDateTimeField()
    next_follow_up_at = UTCDateTimeField(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    user_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class ActivityListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-occurred_at", validate=validate.Length(max=200))


ACTIVITY_SORT_FIELDS = ("occurred_at", "created_at", "next_follow_up_at", "type")
CONTACT_SORT_FIELDS = ("name", "created_at", "updated_at")


# -- history ---------------------------------------------------------------------------------
class FieldChangeSchema(Schema):
    id = fields.UUID()
    entity_type = fields.String(metadata={"description": "customer, contact or activity"})
    entity_id = fields.UUID()
    entity_version = fields.Integer()
    action = fields.String(metadata={
        "description": "created, updated, deleted, restored or merged (into this customer, "
                       "or this one into another: new_value says which)"})
    field = fields.String(allow_none=True)
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    actor_id = fields.UUID(allow_none=True)
    actor_role = fields.String()
    request_id = fields.String(allow_none=True)
    changed_at = UTCDateTimeField()


# -- events ----------------------------------------------------------------------------------
class CustomerRef(Schema):
    """What a consumer of a contact or activity event needs to know of its customer."""

    customer_name = fields.String()
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)


class ContactEventSchema(ContactSchema, CustomerRef):
    pass


class ActivityEventSchema(ActivitySchema, CustomerRef):
    pass


class CustomerDeletedSchema(CustomerSchema):
    deleted_by = fields.UUID(allow_none=True)


class CustomerMergedSchema(Schema):
    into_id = fields.UUID(metadata={"description": "The customer kept (the event's entity)"})
    from_id = fields.UUID(metadata={"description": "The customer merged into it and trashed"})
    from_version = fields.Integer(metadata={
        "description": "from_id's version once trashed (its customer.deleted carries the same): "
                       "orders the merges of one customer, restored and merged again"})


EVENTS = {
    "customer.created": (CustomerSchema, "A customer was created."),
    "customer.updated": (CustomerSchema, "A customer's fields changed; data is the new state."),
    "customer.deleted": (CustomerDeletedSchema, "A customer was moved to the trash."),
    "customer.restored": (CustomerSchema, "A customer was restored from the trash."),
    "customer.merged": (
        CustomerMergedSchema,
        "from_id was merged into into_id: its contacts and follow-ups moved (each with its own "
        "contact.updated or activity.updated), into_id's empty fields were filled "
        "(customer.updated) and from_id went to the trash (customer.deleted); whatever else "
        "points at from_id should point at into_id now.",
    ),
    "contact.created": (ContactEventSchema, "A contact was added to a customer."),
    "contact.updated": (ContactEventSchema, "A contact changed; data is the new state."),
    "contact.deleted": (ContactEventSchema, "A contact was removed."),
    "activity.logged": (
        ActivityEventSchema,
        "A follow-up record was logged; next_follow_up_at, when set, asks for a reminder.",
    ),
    "activity.updated": (
        ActivityEventSchema,
        "A follow-up record changed (a moved or cleared next_follow_up_at included).",
    ),
}
