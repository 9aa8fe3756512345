"""Money arithmetic of deals and quotes, in one place so that a deal's amount and its quote's
figures always agree: each line is rounded to the cent, then lines are summed."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, NamedTuple

from common.errors import ValidationError
from services.sales.schemas import MAX_MONEY

CENT = Decimal("0.01")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class LineFigures(NamedTuple):
    subtotal: Decimal  # quantity x unit price
    discount_amount: Decimal
    amount: Decimal  # what the line adds to the deal


def line(quantity, unit_price, discount) -> LineFigures:
    subtotal = cents(Decimal(quantity) * Decimal(unit_price))
    discount_amount = cents(subtotal * Decimal(discount))
    return LineFigures(subtotal, discount_amount, subtotal - discount_amount)


def check_fits(field: str, *amounts: Decimal) -> None:
    """Refuse totals the money columns cannot hold (more than 999,999,999,999.99)."""
    if any(abs(amount) > MAX_MONEY for amount in amounts):
        raise ValidationError("Invalid input.", {field: [
            f"The total would be larger than {MAX_MONEY}; split it into several deals."]})


def deal_amount(lines: Iterable) -> Decimal:
    """The sum of lines (objects with quantity, unit_price, discount) after discount."""
    return sum((line(item.quantity, item.unit_price, item.discount).amount for item in lines),
               Decimal("0.00"))


class QuoteTotals(NamedTuple):
    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal


def quote_totals(figures: Iterable[LineFigures], tax_rate) -> QuoteTotals:
    figures = list(figures)
    subtotal = sum((f.subtotal for f in figures), Decimal("0.00"))
    discount_total = sum((f.discount_amount for f in figures), Decimal("0.00"))
    tax = cents((subtotal - discount_total) * Decimal(tax_rate))
    return QuoteTotals(subtotal, discount_total, tax, subtotal - discount_total + tax)
