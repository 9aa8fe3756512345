"""Tables to files: one writer of rows as CSV or XLSX for every report and every export the
CRM offers, and the one encoding of a record's values as cells that export writes and import
reads back.

- CSV is UTF-8 with a byte-order mark, so spreadsheet programs open Chinese text correctly.
- A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) would be
  run as a formula by a spreadsheet program ("CSV injection"): it is written with a leading
  apostrophe, which spreadsheets show as text (so is a value that itself begins with an
  apostrophe, so that taking one off is always right). Import takes it off again
  (:func:`from_cell`): ``+86 138...`` goes out as ``'+86 138...`` and comes back as it was.
  Numbers of reports are written as numbers, so a negative amount stays a number.
- In an export every value is text (ids, phones with their leading zeros and ``+``): a list
  (tags) is one cell, its items joined by ``"; "``; a dict (custom fields) is one cell
  holding a JSON object; no value is an empty cell.
- The writers take rows as they come (a generator) and hand back bytes as they go, so a file
  of any length streams in flat memory: CSV, and XLSX as a zip written as a stream.
- The context of a report (the filters as applied, how fresh the data is) goes in the first
  lines of the CSV, above the header row, and in a second sheet of the XLSX.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from decimal import Decimal, InvalidOperation
from typing import Iterable, Iterator
from xml.sax.saxutils import escape

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
LIST_SEPARATOR = ";"
NUMERIC_TYPES = ("integer", "money", "rate", "number")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 64 * 1024


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith(FORMULA_STARTS + (QUOTE,)) else text


def from_cell(text: str) -> str:
    """The value a cell written by :func:`safe_text` holds: its protecting apostrophe off."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_STARTS + (QUOTE,)):
        return text[1:]
    return text


def transfer_cell(value) -> str | None:
    """A record's value as one cell of an export: text that is never a formula, or ``None``
    (an empty cell) for no value, no tags or no custom fields."""
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, list):
        value = f"{LIST_SEPARATOR} ".join(value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    return safe_text(value)


def split_list(text: str) -> list[str]:
    """The items of a list cell (tags): separated by ``;``, spaces around them ignored."""
    return [item.strip() for item in from_cell(text).split(LIST_SEPARATOR) if item.strip()]


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


def _report_rows(columns: list[dict], rows: list[dict]) -> Iterator[list]:
    yield [safe_text(column["label"]) for column in columns]
    for row in rows:
        yield [cell(row.get(column["key"]), column["type"]) for column in columns]


def to_csv(columns: list[dict], rows: list[dict], context: dict) -> bytes:
    return b"".join(csv_chunks(itertools.chain(
        _context_rows(context), [[]], _report_rows(columns, rows))))


def to_xlsx(columns: list[dict], rows: list[dict], context: dict, title: str) -> bytes:
    return b"".join(xlsx_chunks([(title, _report_rows(columns, rows)),
                                 ("filters", _context_rows(context))]))


def csv_chunks(rows: Iterable[list]) -> Iterator[bytes]:
    """``rows`` (lists of cells, ``None`` an empty one) as CSV in UTF-8 with a byte-order
    mark, in pieces of about :data:`CHUNK_SIZE` bytes, taking the rows as they come."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(sheets: list[tuple[str, Iterable[list]]]) -> Iterator[bytes]:
    """Sheets ``(title, rows)`` as an XLSX workbook, in pieces as the rows come.

    A zip written as a stream (each entry's sizes after its data, as zip allows), holding
    the parts a workbook needs (content types, relationships, the workbook) and a part per
    sheet, its cells inline: no temporary file,
    the first bytes at once, memory flat in the row count, and many times faster than
    building the XML through openpyxl. Numbers (``int``, ``float``, ``Decimal``) are number
    cells; anything else is a string cell (a phone stays ``0571...``, never a number), less
    the characters XML cannot hold (control characters other than tab and newlines).
    """
    sink = _Sink()
    book = zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED)
    titles = [escape(title[:31], {'"': "&quot;"}) for title, _ in sheets]
    for name, part in _workbook_parts(titles).items():
        book.writestr(name, part)
    yield sink.take()
    for number, (_, rows) in enumerate(sheets, start=1):
        with book.open(f"xl/worksheets/sheet{number}.xml", "w") as sheet:
            sheet.write(_XML + b'<worksheet xmlns="' + _MAIN + b'"><sheetData>')
            for index, row in enumerate(rows, start=1):
                sheet.write(_xlsx_row(index, row).encode("utf-8"))
                if sink.size >= CHUNK_SIZE:
                    yield sink.take()
            sheet.write(b"</sheetData></worksheet>")
    book.close()
    yield sink.take()


_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _workbook_parts(titles: list[str]) -> dict[str, bytes]:
    numbers = range(1, len(titles) + 1)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{number}.xml" '
                      f'ContentType="{_SHEET_TYPE}.worksheet+xml"/>' for number in numbers)
            + "</Types>"),
        "_rels/.rels": (
            f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN.decode()}" xmlns:r="{_DOC_RELS}"><sheets>'
            + "".join(f'<sheet name="{title}" sheetId="{number}" r:id="rId{number}"/>'
                      for number, title in zip(numbers, titles))
            + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_RELS}">'
            + "".join(f'<Relationship Id="rId{number}" Type="{_DOC_RELS}/worksheet" '
                      f'Target="worksheets/sheet{number}.xml"/>' for number in numbers)
            + "</Relationships>"),
    }
    return {name: _XML + part.encode("utf-8") for name, part in parts.items()}


def _column(index: int) -> str:
    """The letters of the 0-based column ``index``: A ... Z, AA ..."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xlsx_row(number: int, row: list) -> str:
    cells = []
    for index, value in enumerate(row):
        if value is None or value == "":
            continue
        ref = f"{_column(index)}{number}"
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            cells.append(f'<c r="{ref}" t="n"><v>{value}</v></c>')
        else:
            # (a carriage return as a reference: a parser reads a literal one as a line feed)
            text = escape(_ILLEGAL_XML.sub("", str(value)), {"\r": "&#13;"})
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
                         "</is></c>")
    return f'<row r="{number}">{"".join(cells)}</row>'


class _Sink(io.RawIOBase):
    """Where the zip writes: its bytes kept until taken (it cannot seek, so zipfile writes
    each entry's sizes after the entry)."""

    def __init__(self):
        super().__init__()
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        return data
