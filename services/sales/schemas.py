"""The sales service's public contract: RPC payloads, results and the events it publishes.

The only module of this service other code may import: the gateway validates requests and
builds its OpenAPI document from these schemas; the service validates again (it never trusts
its caller); ``docs/asyncapi.yaml`` is generated from :data:`EVENTS`.

Money is a decimal string with two places plus a three-letter currency code. A lead's region
is its top-level ``country``, ``province`` and ``city``, the same three fields as a customer's
(conversion copies them; a region assignment rule maps the city, else the province, else the
country).
"""
from __future__ import annotations

import decimal

from marshmallow import Schema, fields, pre_load, validate, validates, validates_schema
from marshmallow import ValidationError as MarshmallowError

from common.listing import PageQuerySchema  # noqa: F401 - part of this contract
from common.validation import PHONE, BoundedDate, UTCDateTimeField, VersionedUpdate

LEAD_STATUSES = ("new", "working", "qualified", "disqualified", "converted")
OPEN_LEAD_STATUSES = ("new", "working", "qualified")
STRATEGIES = ("round_robin", "region", "least_open")
DEAL_STATUSES = ("open", "won", "lost")
QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected", "expired")
CONTRACT_STATUSES = ("active", "expired", "terminated")
WON, LOST = "won", "lost"
DEFAULT_CURRENCY = "CNY"
MAX_MONEY = decimal.Decimal("999999999999.99")
MAX_LINES = 200

NAME = validate.Length(min=1, max=200)
SHORT = validate.Length(max=100)


def _text(max_length: int, **kwargs):
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kwargs)


def _between(low, high, *, low_inclusive: bool = True):
    """Range validation of a decimal sent as a string. (``validate.Range`` would be documented
    as a numeric ``maximum`` on a string field, which is not valid OpenAPI.)"""

    def check(value):
        if value < low or (value == low and not low_inclusive) or value > high:
            lower = "greater than or equal to" if low_inclusive else "greater than"
            raise MarshmallowError(f"Must be {lower} {low} and less than or equal to {high}.")

    return check


def decimal_string(places: int, low, high, *, low_inclusive: bool = True, **kwargs):
    """A decimal with ``places`` places, answered as a string (and so documented)."""
    metadata = kwargs.pop("metadata", {})
    above = "from" if low_inclusive else "above"
    metadata = {"type": "string", "format": "decimal",
                "description": f"A decimal string, {above} {low} to {high}", **metadata}
    return fields.Decimal(places=places, rounding=decimal.ROUND_HALF_UP, as_string=True,
                          validate=_between(low, high, low_inclusive=low_inclusive),
                          metadata=metadata, **kwargs)


def money(**kwargs):
    """A decimal amount with two places, never negative."""
    return decimal_string(2, 0, MAX_MONEY, **kwargs)


def rate(**kwargs):
    """A rate from 0 to 1 (``0.10`` is 10 %), four places."""
    return decimal_string(4, 0, 1, **kwargs)


def currency(**kwargs):
    return fields.String(
        validate=validate.Regexp(r"^[A-Z]{3}$", error="Not a valid currency: use a three-letter "
                                 "ISO 4217 code such as CNY."),
        **kwargs,
    )


class NotBlankName(Schema):
    @validates("name")
    def _name_not_blank(self, value, **kwargs):
        if not value.strip():
            raise MarshmallowError("Must not be blank.")


# -- products --------------------------------------------------------------------------------
SKU = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$",
                      error="Not a valid SKU: up to 64 letters, digits and ._- characters.")


class ProductFields(NotBlankName):
    sku = fields.String(validate=SKU)
    name = fields.String(validate=NAME)
    category = _text(100)
    list_price = money()
    currency = currency()
    active = fields.Boolean()


class ProductCreateSchema(ProductFields):
    sku = fields.String(required=True, validate=SKU)
    name = fields.String(required=True, validate=NAME)
    list_price = money(required=True)
    currency = currency(load_default=DEFAULT_CURRENCY)
    active = fields.Boolean(load_default=True)


class ProductUpdateSchema(VersionedUpdate, ProductFields):
    pass


class ProductSchema(Schema):
    id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    category = fields.String(allow_none=True)
    list_price = money()
    currency = fields.String()
    active = fields.Boolean()
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class ProductListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="sku", validate=validate.Length(max=200))
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "Matches the SKU or the name"})
    category = fields.String(validate=SHORT)
    active = fields.Boolean()


PRODUCT_SORT_FIELDS = ("sku", "name", "category", "list_price", "created_at")


# -- pipeline --------------------------------------------------------------------------------
class StageSchema(Schema):
    key = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{0,39}$", error="Not a valid stage key: lower-case letters, digits "
        "and _, starting with a letter."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    probability = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class PipelineSchema(Schema):
    """The ordered stages; ``won`` and ``lost`` are always there (they close a deal)."""

    stages = fields.List(fields.Nested(StageSchema), required=True,
                         validate=validate.Length(min=2, max=50))
    version = fields.Integer(dump_only=True, metadata={
        "description": "Counts the pipeline's changes (pipeline.updated carries it)"})

    @validates_schema
    def _keys(self, data, **kwargs):
        keys = [stage["key"] for stage in data.get("stages", [])]
        if len(set(keys)) != len(keys):
            raise MarshmallowError("Stage keys must be unique.", "stages")
        if not {WON, LOST} <= set(keys):
            raise MarshmallowError("The stages won and lost are required.", "stages")


# -- leads -----------------------------------------------------------------------------------
# (A field's description, not the schema's: apispec drops additionalProperties: false from a
# schema with a description.)
PLACE = {"description": "Top-level, as on a customer (conversion copies it there); a lead has "
                        "no region object."}
NESTED_REGION = ("A lead has no region object: send country, province and city as top-level "
                 "fields, as for a customer.")

WRITABLE_LEAD_STATUS = validate.OneOf(
    [status for status in LEAD_STATUSES if status != "converted"],
    error="Must be one of: {choices}; a lead is converted with POST /leads/{{id}}/convert.")


class LeadFields(NotBlankName):
    name = fields.String(validate=NAME)
    company = _text(200)
    phone = fields.String(allow_none=True, validate=PHONE)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    source = _text(100)
    country = _text(100, metadata=PLACE)
    province = _text(100, metadata=PLACE)
    city = _text(100, metadata=PLACE)
    status = fields.String(validate=WRITABLE_LEAD_STATUS)
    notes = _text(10000)
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)

    @pre_load
    def _no_nested_region(self, data, **kwargs):
        """The old nested ``region`` object answers how to send it, not just "unknown field"."""
        if isinstance(data, dict) and "region" in data:
            raise MarshmallowError(NESTED_REGION, "region")
        return data


class LeadCreateSchema(LeadFields):
    name = fields.String(required=True, validate=NAME)
    status = fields.String(load_default="new", validate=WRITABLE_LEAD_STATUS)
    allow_duplicate = fields.Boolean(load_default=False, metadata={"description": (
        "Capture it even when leads or customers you may see have the same company "
        "(compared as GET /customers/duplicates compares names), email or phone; without "
        "it such a lead answers 409 duplicate with the matches.")})


class LeadUpdateSchema(VersionedUpdate, LeadFields):
    pass


class LeadSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    company = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    country = fields.String(allow_none=True, metadata=PLACE)
    province = fields.String(allow_none=True, metadata=PLACE)
    city = fields.String(allow_none=True, metadata=PLACE)
    status = fields.String(metadata={"enum": list(LEAD_STATUSES)})
    notes = fields.String(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    customer_id = fields.UUID(allow_none=True)
    contact_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    converted_at = UTCDateTimeField(allow_none=True)
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class DuplicateLeadSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    company = fields.String(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    matched_on = fields.List(fields.String(), metadata={
        "description": "Which of company, email and phone matched"})


class LeadWithDuplicatesSchema(LeadSchema):
    duplicates = fields.List(
        fields.Nested(DuplicateLeadSchema),
        metadata={"description": "Leads you may see with the same company, email or phone "
                                 "(only with allow_duplicate: without it, such a lead is "
                                 "refused)."},
    )


class LeadListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "Matches the name, company or email, or, "
                                               "when it is a phone number (at least 4 digits; "
                                               "+ ( ) - . and spaces allowed), the phone"})
    status = fields.String(validate=validate.OneOf(LEAD_STATUSES))
    owner_id = fields.UUID()
    team_id = fields.UUID()
    source = fields.String(validate=SHORT)
    country = fields.String(validate=SHORT)
    province = fields.String(validate=SHORT)
    city = fields.String(validate=SHORT)


LEAD_SORT_FIELDS = ("created_at", "updated_at", "name", "company", "status")

# The columns of a leads file (the only entity of this service imported and exported), in
# order: what export writes and import reads (by the field name or either label,
# case-insensitive). How values become cells and back: ``common.tabular``.
TRANSFER_COLUMNS = (
    ("name", "Name", "姓名"),
    ("company", "Company", "公司"),
    ("phone", "Phone", "电话"),
    ("email", "Email", "邮箱"),
    ("source", "Source", "来源"),
    ("country", "Country", "国家"),
    ("province", "Province", "省份"),
    ("city", "City", "城市"),
    ("status", "Status", "状态"),
    ("notes", "Notes", "备注"),
    ("owner_id", "Owner ID", "负责人ID"),
    ("team_id", "Team ID", "团队ID"),
)


class LeadExportQuerySchema(LeadListQuerySchema):
    """The list's filters, for an export: every matching lead, in creation order."""

    class Meta:
        exclude = ("page", "per_page", "sort")


class AssignmentRulePutSchema(Schema):
    strategy = fields.String(required=True, validate=validate.OneOf(STRATEGIES))
    region_map = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.UUID(),
        load_default=dict,
        validate=validate.Length(max=500),
        metadata={"description": "City, province or country -> the user who gets its leads"},
    )

    @validates_schema
    def _region_map(self, data, **kwargs):
        if data.get("strategy") == "region" and not data.get("region_map"):
            raise MarshmallowError("Required by the region strategy.", "region_map")


class AssignmentRuleSchema(Schema):
    team_id = fields.UUID()
    strategy = fields.String(metadata={"enum": list(STRATEGIES)})
    region_map = fields.Dict(keys=fields.String(), values=fields.UUID())
    version = fields.Integer()
    updated_at = UTCDateTimeField()


class ConvertDealSchema(Schema):
    title = fields.String(validate=NAME)
    amount = money()
    currency = currency(load_default=DEFAULT_CURRENCY)
    expected_close_date = BoundedDate(allow_none=True)


class ConvertLeadSchema(Schema):
    deal = fields.Nested(ConvertDealSchema,
                         load_default=lambda: {"currency": DEFAULT_CURRENCY})


class ConversionSchema(Schema):
    customer_id = fields.UUID()
    contact_id = fields.UUID()
    deal_id = fields.UUID()


# -- deals -----------------------------------------------------------------------------------
class LineInputSchema(Schema):
    product_id = fields.UUID(required=True)
    quantity = decimal_string(3, 0, 10**8, low_inclusive=False, required=True)
    unit_price = money(metadata={"description": "Defaults to the product's list price"})
    discount = rate(load_default=decimal.Decimal("0"))


class DealLineSchema(Schema):
    product_id = fields.UUID()
    quantity = fields.Decimal(as_string=True)
    unit_price = money()
    discount = rate()
    amount = money(metadata={"description": "quantity x unit_price, less the discount"})


class DealFields(Schema):
    title = fields.String(validate=NAME)
    amount = money(metadata={"description": "With lines, their sum after discount"})
    currency = currency()
    expected_close_date = BoundedDate(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    lines = fields.List(fields.Nested(LineInputSchema), validate=validate.Length(max=MAX_LINES))

    @validates("title")
    def _title_not_blank(self, value, **kwargs):
        if not value.strip():
            raise MarshmallowError("Must not be blank.")


class DealCreateSchema(DealFields):
    customer_id = fields.UUID(required=True)
    title = fields.String(required=True, validate=NAME)
    currency = currency(load_default=DEFAULT_CURRENCY)
    stage = fields.String(validate=validate.Length(min=1, max=40),
                          metadata={"description": "Defaults to the first stage"})
    lost_reason = _text(2000)


class DealUpdateSchema(VersionedUpdate, DealFields):
    pass


class StageMoveSchema(Schema):
    stage = fields.String(required=True, validate=validate.Length(min=1, max=40))
    lost_reason = _text(2000, metadata={"description": "Required when the stage is lost"})
    version = fields.Integer(strict=True, validate=validate.Range(min=1),
                             metadata={"description": "Optional: refuse if the deal changed"})


class DealSchema(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    title = fields.String()
    amount = money()
    currency = fields.String()
    stage = fields.String()
    probability = fields.Integer()
    status = fields.String(metadata={"enum": list(DEAL_STATUSES)})
    expected_close_date = BoundedDate(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    lost_reason = fields.String(allow_none=True)
    stage_changed_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(allow_none=True)
    customer_deleted = fields.Boolean(
        metadata={"description": "The customer is in the trash (restoring it clears this)"})
    lead_id = fields.UUID(allow_none=True)
    lines = fields.List(fields.Nested(DealLineSchema))
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class DealListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "Matches the title"})
    customer_id = fields.UUID()
    owner_id = fields.UUID()
    team_id = fields.UUID()
    stage = fields.String(validate=validate.Length(max=40))
    status = fields.String(validate=validate.OneOf(DEAL_STATUSES))
    customer_deleted = fields.Boolean()


DEAL_SORT_FIELDS = ("created_at", "updated_at", "title", "amount", "stage",
                    "expected_close_date", "stage_changed_at")


class BoardQuerySchema(Schema):
    per_stage = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                               metadata={"description": "Deals shown per stage, newest change "
                                                        "first (the counts and totals are of all)"})
    owner_id = fields.UUID()
    team_id = fields.UUID()


class BoardTotalSchema(Schema):
    currency = fields.String()
    amount = money()
    weighted_amount = money(metadata={"description": "amount x the stage's probability"})


class BoardStageSchema(StageSchema):
    count = fields.Integer(metadata={"description": "Every deal you may see in the stage"})
    totals = fields.List(fields.Nested(BoardTotalSchema), metadata={
        "description": "Per currency, of every deal in the stage"})
    deals = fields.List(fields.Nested(lambda: DealSchema()), metadata={
        "description": "The first per_stage of them, most recently changed first"})


class BoardSchema(Schema):
    stages = fields.List(fields.Nested(BoardStageSchema))


class StageChangeSchema(Schema):
    id = fields.UUID()
    deal_id = fields.UUID()
    from_stage = fields.String(allow_none=True, metadata={"description": "null at creation"})
    to_stage = fields.String()
    lost_reason = fields.String(allow_none=True)
    changed_at = UTCDateTimeField()
    changed_by = fields.UUID(allow_none=True)
    actor_role = fields.String()


# -- quotes ----------------------------------------------------------------------------------
class QuoteCreateSchema(Schema):
    tax_rate = rate(load_default=decimal.Decimal("0"))
    valid_until = BoundedDate(required=True)


class QuoteUpdateSchema(VersionedUpdate):
    status = fields.String(validate=validate.OneOf(("sent", "accepted", "rejected")))
    tax_rate = rate()
    valid_until = BoundedDate()


class QuoteLineSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = money()
    discount = rate()
    subtotal = money()
    discount_amount = money()
    amount = money()


class QuoteSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"example": "Q-2026-0001"})
    deal_id = fields.UUID()
    status = fields.String(metadata={"enum": list(QUOTE_STATUSES)})
    currency = fields.String()
    tax_rate = rate()
    valid_until = BoundedDate()
    lines = fields.List(fields.Nested(QuoteLineSchema))
    subtotal = money()
    discount_total = money()
    tax = money()
    total = money()
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class QuoteListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))


QUOTE_SORT_FIELDS = ("created_at", "number", "valid_until", "total", "status")


# -- contracts -------------------------------------------------------------------------------
class ContractFields(Schema):
    amount = money()
    currency = currency()
    start_date = BoundedDate()
    end_date = BoundedDate()

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            raise MarshmallowError("Must not be before start_date.", "end_date")


class ContractCreateSchema(ContractFields):
    """From a won deal (``deal_id``: customer, amount and currency default to the deal's), or
    directly (``customer_id``, ``amount`` and ``currency``)."""

    deal_id = fields.UUID()
    customer_id = fields.UUID()
    owner_id = fields.UUID(allow_none=True)
    start_date = BoundedDate(required=True)
    end_date = BoundedDate(required=True)

    @validates_schema
    def _source(self, data, **kwargs):
        if "deal_id" not in data:
            missing = [name for name in ("customer_id", "amount") if name not in data]
            for name in missing:
                raise MarshmallowError("Required when there is no deal_id.", name)


class ContractUpdateSchema(VersionedUpdate, ContractFields):
    status = fields.String(validate=validate.OneOf(("active", "terminated")))


class ContractSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"example": "C-2026-0001"})
    deal_id = fields.UUID(allow_none=True)
    customer_id = fields.UUID()
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    amount = money()
    currency = fields.String()
    start_date = BoundedDate()
    end_date = BoundedDate()
    status = fields.String(metadata={"enum": list(CONTRACT_STATUSES)})
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class ContractListQuerySchema(PageQuerySchema):
    sort = fields.String(load_default="-created_at", validate=validate.Length(max=200))
    customer_id = fields.UUID()
    deal_id = fields.UUID()
    owner_id = fields.UUID()
    team_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(CONTRACT_STATUSES))


CONTRACT_SORT_FIELDS = ("created_at", "number", "start_date", "end_date", "amount", "status")


# -- events ----------------------------------------------------------------------------------
class LeadEventSchema(LeadSchema):
    previous_owner_id = fields.UUID(
        allow_none=True, metadata={"description": "lead.assigned: the owner before (or null)"})


class DealEventSchema(DealSchema):
    from_stage = fields.String(
        allow_none=True, metadata={"description": "deal.stage_changed, won, lost: the stage left"})


class QuoteEventSchema(QuoteSchema):
    """A quote with what a consumer needs of its deal."""

    customer_id = fields.UUID()
    owner_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)


EVENTS = {
    "product.created": (ProductSchema, "A product was added to the catalogue."),
    "product.updated": (ProductSchema, "A product changed; data is the new state."),
    "lead.created": (LeadEventSchema, "A lead was captured."),
    "lead.updated": (LeadEventSchema, "A lead's fields changed; data is the new state."),
    "lead.assigned": (
        LeadEventSchema,
        "A lead got an owner (by a team's rule or by a person other than the new owner); "
        "previous_owner_id is the one before.",
    ),
    "lead.converted": (
        LeadEventSchema,
        "A lead became a customer, a contact and a deal (customer_id, contact_id, deal_id).",
    ),
    "deal.created": (DealEventSchema, "A deal was opened (or created directly as won or lost)."),
    "deal.updated": (DealEventSchema, "A deal's fields changed; data is the new state."),
    "deal.stage_changed": (
        DealEventSchema, "A deal moved from from_stage to stage; status follows the stage."),
    "deal.won": (DealEventSchema, "A deal entered the won stage."),
    "deal.lost": (DealEventSchema, "A deal entered the lost stage; lost_reason says why."),
    "quote.created": (QuoteEventSchema, "A draft quote was made from a deal's lines."),
    "quote.updated": (QuoteEventSchema, "A draft quote's tax rate or validity changed, or its "
                                        "deal moved to another customer (a merge)."),
    "quote.sent": (QuoteEventSchema, "A quote was sent to the customer."),
    "quote.accepted": (QuoteEventSchema, "A quote was accepted; the deal's other open quotes "
                                         "are rejected."),
    "quote.rejected": (QuoteEventSchema, "A quote was rejected."),
    "quote.expired": (QuoteEventSchema, "A draft or sent quote passed its valid_until date."),
    "pipeline.updated": (
        PipelineSchema, "The pipeline's stages, in order, as they are now (published when an "
                        "admin changes them, and once when the service first starts)."),
    "contract.created": (ContractSchema, "A contract was made (from a won deal or directly)."),
    "contract.updated": (
        ContractSchema, "A contract changed (dates, amount, terminated or expired)."),
}
