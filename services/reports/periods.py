"""Calendar periods in the business time zone: what a day, week, month, quarter or year is
when the numbers must not change with who is looking.

A period is a half-open range of UTC instants ``[start, end)`` computed from local midnights,
so daylight-saving changes and zones east of UTC put a deal won at 23:30 UTC on the 31st in
the next month in Shanghai and in this month in London.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc


class Period(NamedTuple):
    label: str
    first_day: dt.date
    last_day: dt.date
    start: dt.datetime  # UTC, inclusive
    end: dt.datetime  # UTC, exclusive


def midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant at which ``day`` begins in ``tz``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()


def period_start(day: dt.date, period: str) -> dt.date:
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_start(first: dt.date, period: str) -> dt.date:
    if period == "day":
        return first + dt.timedelta(days=1)
    if period == "week":
        return first + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def label(first: dt.date, period: str) -> str:
    if period == "day":
        return first.isoformat()
    if period == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{first.year}-{first.month:02d}"
    if period == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    return str(first.year)


def label_of(day: dt.date, period: str) -> str:
    return label(period_start(day, period), period)


def periods(first_day: dt.date, last_day: dt.date, period: str, tz: ZoneInfo) -> list[Period]:
    """The periods covering ``first_day .. last_day``, the first and last cut to the range."""
    result = []
    first = period_start(first_day, period)
    while first <= last_day:
        following = next_start(first, period)
        low, high = max(first, first_day), min(following - dt.timedelta(days=1), last_day)
        result.append(Period(label(first, period), low, high, midnight(low, tz),
                             midnight(high + dt.timedelta(days=1), tz)))
        first = following
    return result
