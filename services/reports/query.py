"""A report's question: the filters as given, checked and completed with their defaults, and
the caller whose scope bounds every figure.

Dates are calendar days in the business time zone (``CRM_BUSINESS_TZ``); money is counted in
one currency (``CRM_CURRENCY`` unless asked), never summed across currencies.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from common import config
from common.actor import Actor
from common.errors import ValidationError
from common.validation import load
from services.reports import periods, schemas as s


@dataclass(frozen=True)
class ReportQuery:
    name: str
    actor: Actor
    tz: ZoneInfo
    first_day: dt.date
    last_day: dt.date
    currency: str
    now: dt.datetime
    region: str | None = None
    product_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    options: dict = field(default_factory=dict)

    @property
    def start(self) -> dt.datetime:
        """The first instant of the range, UTC."""
        return periods.midnight(self.first_day, self.tz)

    @property
    def end(self) -> dt.datetime:
        """The instant after the range, UTC (exclusive)."""
        return periods.midnight(self.last_day + dt.timedelta(days=1), self.tz)

    def option(self, name: str):
        return self.options.get(name)

    def applied(self, *, dated: bool = True) -> dict:
        """The filters as applied, for the answer and the exports' header."""
        applied = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if not dated:
            applied.pop("from")
        for name in ("region", "product_id", "owner_id", "team_id"):
            value = getattr(self, name)
            if value is not None:
                applied[name] = str(value)
        applied["currency"] = self.currency
        applied.update({key: value for key, value in self.options.items() if value is not None})
        return applied


def default_range(name: str, today: dt.date, first, last) -> tuple[dt.date, dt.date]:
    """Twelve whole months up to ``to`` (today by default); the forecast's history ends with
    the last whole month, since the month under way is not over."""
    if last is None:
        last = today.replace(day=1) - dt.timedelta(days=1) if name == "forecast" else today
    if first is None:
        month_index = last.year * 12 + last.month - 1 - 11
        first = dt.date(month_index // 12, month_index % 12 + 1, 1)
    return first, last


def parse(name: str, args: dict, actor: Actor, now: dt.datetime | None = None) -> ReportQuery:
    data = load(s.QUERY_SCHEMAS[name](), args)
    now = now or dt.datetime.now(dt.timezone.utc)
    tz = config.business_tz()
    first, last = default_range(name, periods.local_date(now, tz), data.pop("from_", None),
                                data.pop("to", None))
    data.pop("format", None)
    if last < first:
        raise ValidationError("Invalid input.", {"to": ["Must not be before from."]})
    return ReportQuery(
        name=name, actor=actor, tz=tz, first_day=first, last_day=last,
        currency=data.pop("currency", None) or config.report_currency(), now=now,
        region=data.pop("region", None), product_id=data.pop("product_id", None),
        owner_id=data.pop("owner_id", None), team_id=data.pop("team_id", None),
        options=data)
