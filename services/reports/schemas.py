"""The reports service's public contract: the query of each report, the one shape every
report answers, and the rebuild job. The gateway validates requests and builds its OpenAPI
document from these schemas; the service validates again.

Reports publish no events (``EVENTS`` is empty): they only read what the others publish.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from common.validation import BoundedDate, UTCDateTimeField

PERIODS = ("day", "week", "month", "quarter", "year")
REGION_LEVELS = ("country", "province", "city")
REVENUE_GROUPS = ("region", "product", "owner", "team", "industry", "tier")
WIN_RATE_GROUPS = ("owner", "team", "region", "product")
CYCLE_GROUPS = ("owner", "team", "region", "product", "industry", "tier")
FORECAST_PERIODS = ("month", "quarter")
FORMATS = ("json", "csv", "xlsx")
MAX_DAYS = 3650
MAX_ROWS = 5000
# The longest range a report covers; with ``period=day`` it is also 3,660 rows at most.
MAX_RANGE_DAYS = 3660
EVENTS: dict = {}


class ReportQuerySchema(Schema):
    """The filters every report takes. Dates are calendar days in the business time zone
    (``CRM_BUSINESS_TZ``), both inclusive."""

    from_ = BoundedDate(data_key="from", metadata={
        "description": "First day (inclusive); default: the first day of the month 11 months "
                       "before `to`, so twelve whole months"})
    to = BoundedDate(metadata={"description": "Last day (inclusive); default: today"})
    region = fields.String(validate=validate.Length(min=1, max=100), metadata={
        "description": "The customer's country, province or city (any case)"})
    product_id = fields.UUID(metadata={
        "description": "Only deals with a line of this product; money counts those lines only"})
    owner_id = fields.UUID()
    team_id = fields.UUID()
    currency = fields.String(validate=validate.Regexp(
        r"^[A-Z]{3}$", error="Not a valid currency: use a three-letter ISO 4217 code such as CNY."),
        metadata={"description": "Default: CRM_CURRENCY (CNY); amounts of other currencies "
                                 "are never added in"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @validates_schema
    def _range(self, data, **kwargs):
        start, end = data.get("from_"), data.get("to")
        if start and end and end < start:
            raise MarshmallowError("Must not be before from.", "to")
        if start and end and (end - start).days > MAX_RANGE_DAYS:
            raise MarshmallowError(f"The range may cover at most {MAX_RANGE_DAYS} days.", "to")


class PeriodQuerySchema(ReportQuerySchema):
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS))


class RegionLevel(Schema):
    region_level = fields.String(load_default="province", validate=validate.OneOf(
        REGION_LEVELS), metadata={"description": "What `group_by=region` groups by"})


class RevenueQuerySchema(PeriodQuerySchema, RegionLevel):
    group_by = fields.String(validate=validate.OneOf(REVENUE_GROUPS))


class WinRateQuerySchema(ReportQuerySchema, RegionLevel):
    group_by = fields.String(load_default="owner", validate=validate.OneOf(WIN_RATE_GROUPS))


class SalesCycleQuerySchema(ReportQuerySchema, RegionLevel):
    group_by = fields.String(validate=validate.OneOf(CYCLE_GROUPS))


class DormantQuerySchema(ReportQuerySchema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=MAX_DAYS),
                          metadata={"description": "No follow-up for this many days up to `to`"})
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=MAX_ROWS),
                           metadata={"description": "Rows at most, longest dormant first; "
                                                    "totals count them all"})


class ForecastQuerySchema(ReportQuerySchema):
    period = fields.String(load_default="month", validate=validate.OneOf(FORECAST_PERIODS),
                           metadata={"description": "The trend's period"})


QUERY_SCHEMAS = {
    "funnel": ReportQuerySchema,
    "revenue": RevenueQuerySchema,
    "win-rate": WinRateQuerySchema,
    "sales-cycle": SalesCycleQuerySchema,
    "leaderboard": ReportQuerySchema,
    "activities": PeriodQuerySchema,
    "dormant-customers": DormantQuerySchema,
    "forecast": ForecastQuerySchema,
}
REPORT_NAMES = tuple(QUERY_SCHEMAS)


class ColumnSchema(Schema):
    key = fields.String()
    label = fields.String()
    type = fields.String(metadata={"enum": ["string", "integer", "money", "rate", "number",
                                            "date", "datetime", "id"]})


class ReportSchema(Schema):
    """Every report's answer; one renderer (table, CSV, XLSX, chart) serves them all."""

    report = fields.String(metadata={"enum": list(REPORT_NAMES)})
    filters = fields.Dict(metadata={"description": "The filters as applied, defaults filled"})
    currency = fields.String()
    time_zone = fields.String(metadata={"description": "The business time zone of the periods"})
    columns = fields.List(fields.Nested(ColumnSchema))
    rows = fields.List(fields.Dict(), metadata={
        "description": "One object per row, keyed by the columns' keys; money and rates are "
                       "decimal strings"})
    totals = fields.Dict()
    method = fields.Dict(metadata={"description": "forecast only: the trend's method, formula, "
                                                  "inputs and its error on that history"})
    generated_at = UTCDateTimeField()
    as_of = UTCDateTimeField(allow_none=True, metadata={
        "description": "The time of the newest event applied: how fresh the numbers are"})


class RebuildSchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    requested_by = fields.UUID(allow_none=True)
    requested_at = UTCDateTimeField()
    started_at = UTCDateTimeField(allow_none=True)
    finished_at = UTCDateTimeField(allow_none=True)
    counts = fields.Dict(metadata={"description": "Records loaded per kind"})
    error = fields.String(allow_none=True)
