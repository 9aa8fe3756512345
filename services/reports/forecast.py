"""The revenue trend of the forecast: a straight line fitted to the won amounts of the
history's periods by least squares, extended over the next periods.

Computed in exact fractions, so the figures round as a person working them out would (a
forecast of exactly 0.055 is 0.06).

Why this method: a sales team's history in a CRM is short (often a year or less) and noisy.
A seasonal method needs at least two years to estimate a season; a linear trend needs two
points, says plainly what it assumes (the recent direction goes on), and its error on the
history it was fitted to is shown beside it, so a manager can judge how far to trust it.
"""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

METHOD = "linear trend (ordinary least squares)"
FORMULA = ("won_amount(t) = intercept + slope * t, t = 0, 1, ... over the history's periods; "
           "the next periods are t = n, n+1, ...; a negative forecast counts as 0; with fewer "
           "than two periods the forecast is the history's mean")


class Trend(NamedTuple):
    intercept: Fraction
    slope: Fraction
    forecast: list[Fraction]
    mean_absolute_error: Fraction
    mean_absolute_percentage_error: Fraction | None  # over periods with a non-zero amount


def linear_trend(history: list[Fraction], ahead: int) -> Trend:
    n = len(history)
    if n == 0:
        return Trend(Fraction(0), Fraction(0), [Fraction(0)] * ahead, Fraction(0), None)
    mean_y = sum(history, Fraction(0)) / n
    if n == 1:
        intercept, slope = mean_y, Fraction(0)
    else:
        mean_t = Fraction(n - 1) / 2
        spread = sum((Fraction(t) - mean_t) ** 2 for t in range(n))
        slope = sum((Fraction(t) - mean_t) * (y - mean_y) for t, y in enumerate(history)) / spread
        intercept = mean_y - slope * mean_t
    fitted = [intercept + slope * t for t in range(n)]
    errors = [abs(y - f) for y, f in zip(history, fitted)]
    relative = [abs(y - f) / y for y, f in zip(history, fitted) if y]
    return Trend(
        intercept=intercept,
        slope=slope,
        forecast=[max(intercept + slope * t, Fraction(0)) for t in range(n, n + ahead)],
        mean_absolute_error=sum(errors, Fraction(0)) / n,
        mean_absolute_percentage_error=(sum(relative, Fraction(0)) / len(relative)
                                        if relative else None),
    )
