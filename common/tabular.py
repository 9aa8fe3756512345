"""Tables to files: one renderer of ``columns`` + ``rows`` as CSV or XLSX, for every report
(and every export) the CRM offers.

- CSV is UTF-8 with a byte-order mark, so spreadsheet programs open Chinese text correctly.
- A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) would be
  run as a formula by a spreadsheet program ("CSV injection"): it is written with a leading
  apostrophe, which spreadsheets show as text. Numbers are written as numbers, so a negative
  amount stays a number.
- The context (the filters as applied, how fresh the data is) goes in the first lines of the
  CSV, above the header row, and in a second sheet of the XLSX.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_TYPES = ("integer", "money", "rate", "number")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value, kind: str):
    """A value as a spreadsheet should hold it: numbers of numeric columns as numbers,
    anything else as text that is never a formula."""
    if value is None:
        return None
    if kind in NUMERIC_TYPES and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return safe_text(value)
        return int(number) if kind == "integer" else number
    return safe_text(value)


def _context_rows(context: dict) -> list[list[str]]:
    return [[safe_text(key), safe_text(value)] for key, value in context.items()]


def to_csv(columns: list[dict], rows: list[dict], context: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _context_rows(context):
        writer.writerow(line)
    writer.writerow([])
    writer.writerow([safe_text(column["label"]) for column in columns])
    for row in rows:
        writer.writerow(["" if (value := cell(row.get(column["key"]), column["type"])) is None
                         else value for column in columns])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(columns: list[dict], rows: list[dict], context: dict, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([safe_text(column["label"]) for column in columns])
    for row in rows:
        sheet.append([cell(row.get(column["key"]), column["type"]) for column in columns])
    about = book.create_sheet("filters")
    for line in _context_rows(context):
        about.append(line)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
