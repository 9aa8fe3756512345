"""Reading an import file: its bytes into a header and rows of text, the header into the
fields its columns fill, and a row's cells into the payload the API's create takes.

The gateway reads the upload here, so a file it cannot read (too large, not CSV or XLSX,
broken quoting, no header, a column named twice) is a 400 before anything is stored; the
owning service maps the header again and turns each row into a payload with the same
functions (it never trusts its caller), then validates it with the create schema of its
contract, the one its API uses.

- CSV: UTF-8 with or without a byte-order mark, UTF-16 with one, else GB18030 (which GBK
  is part of): UTF-8 is tried strictly first, so a GB18030 file is never read as UTF-8. The
  delimiter (``,`` ``;`` tab or ``|``) is what ``csv.Sniffer`` finds in the first lines, else
  a comma; quoted fields may hold delimiters, quotes and newlines.
- XLSX: the first sheet, every value as text (an integer without ``.0``, a date in ISO
  8601); a row has as many cells as the header (a spreadsheet does not tell an empty cell
  from a missing one).
- A row is numbered as a spreadsheet shows it (the header's row is usually 1); empty rows
  are skipped and counted. Cells are kept as they were: the service checks that a row has as
  many as the header (a CSV row with one more or one less is an error of that row: its
  columns would be shifted).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import zipfile
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from marshmallow import Schema, fields

from common import config, tabular
from common.errors import ValidationError
from common.validation import load

DELIMITERS = ",;\t|"
SNIFF_CHARS = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003) and other OLE files
# Columns, as field name and its English and Chinese labels (a contract's TRANSFER_COLUMNS).
Columns = tuple[tuple[str, str, str], ...]
Row = tuple[int, list[str]]


def file_problem(message: str) -> ValidationError:
    return ValidationError("Invalid input.", {"file": [message]})


def too_large(max_bytes: int) -> ValidationError:
    return file_problem(f"The file is larger than {max_bytes / (1024 * 1024):g} MB, the import "
                        "limit (CRM_IMPORT_MAX_MB); split it into smaller files.")


@dataclass(frozen=True)
class Table:
    """A readable file: its header, where it is, and its rows (read again on each call)."""

    header: list[str]
    header_row: int
    records: Callable[[], Iterator[list[str]]]  # every record after the header, empty ones too
    total: int  # rows with something in them
    empty_rows: int
    padded: bool  # a spreadsheet's: no row is short of cells, its trailing empty ones dropped

    def rows(self) -> Iterator[Row]:
        """``(row number, cells)`` of every row that is not empty, in file order."""
        width = len(self.header)
        for number, cells in enumerate(self.records(), start=self.header_row + 1):
            if not is_empty(cells):
                yield number, (cells + [""] * (width - len(cells)) if self.padded else cells)


def is_empty(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def read_table(data: bytes, max_bytes: int) -> Table:
    """The table in ``data`` (CSV or XLSX), read once through so that an unreadable part
    anywhere is a 400 now; a :class:`ValidationError` naming ``file`` otherwise."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    padded = data.startswith(ZIP_MAGIC)
    if padded:
        records = _xlsx_records(data, max_bytes)
    elif data.startswith(OLE_MAGIC):
        raise file_problem("An .xls file (Excel 97-2003) cannot be read; save it as .xlsx or "
                           "as CSV.")
    else:
        records = _csv_records(_decode(data))
    numbered = enumerate(records(), start=1)
    header_row, header = next(((number, cells) for number, cells in numbered
                               if not is_empty(cells)), (0, None))
    if header is None:
        raise file_problem("The file has no header row: it is empty.")
    header = [cell.strip() for cell in header]
    total = empty = 0
    max_rows = config.import_max_rows()
    for _, cells in numbered:
        if is_empty(cells):
            empty += 1
        else:
            total += 1
        if total + empty > max_rows:
            raise file_problem(f"The file has more than {max_rows} rows, the import limit "
                               "(CRM_IMPORT_MAX_ROWS); split it into several files.")
    return Table(header, header_row,
                 lambda: itertools.islice(records(), header_row, None), total, empty, padded)


# -- CSV -------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif data.startswith(codecs.BOM_UTF8):
        data, encodings = data[len(codecs.BOM_UTF8):], ("utf-8",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise file_problem("The file holds NUL characters: it is not a CSV text file "
                               "(UTF-16 needs its byte-order mark); save it as CSV UTF-8 or "
                               "XLSX.")
        return text
    raise file_problem("The file is not text in UTF-8, UTF-16 (with its byte-order mark) or "
                       "GB18030/GBK; save it as CSV UTF-8 or XLSX.")


def sniff_delimiter(text: str) -> str:
    """The delimiter ``csv.Sniffer`` finds in the first lines of ``text``, else a comma."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _csv_records(text: str) -> Callable[[], Iterator[list[str]]]:
    delimiter = sniff_delimiter(text)

    def records() -> Iterator[list[str]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            yield from reader
        except csv.Error as exc:
            raise file_problem(f"The CSV cannot be read at line {reader.line_num} ({exc}); "
                               "check the quotes around it.") from None

    return records


# -- XLSX ------------------------------------------------------------------------------------
XLSX_EXPANSION = 10  # a workbook's XML is rarely more than 10 times its zip
def _xlsx_records(data: bytes, max_bytes: int) -> Callable[[], Iterator[list[str]]]:
    """The first sheet's rows. A workbook is a zip: one that unpacks to more than
    ``XLSX_EXPANSION`` times the import limit is refused unread, and a sheet is read as far
    as its cells go, not as far as the size it declares (a few bytes can declare a million
    rows of 16,384 columns)."""
    from openpyxl import load_workbook

    try:
        unpacked = sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except zipfile.BadZipFile as exc:
        raise unreadable(exc) from None
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise file_problem("The workbook unpacks to more than the import can read; save its "
                           "first sheet as CSV.")

    def records() -> Iterator[list[str]]:
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - whatever a broken zip or XML raises
            raise unreadable(exc) from None
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            for values in sheet.iter_rows(values_only=True):
                cells = [cell_text(value) for value in values]
                while cells and not cells[-1]:
                    cells.pop()
                yield cells
        except Exception as exc:  # noqa: BLE001
            raise unreadable(exc) from None
        finally:
            book.close()

    return records


def unreadable(exc: Exception) -> ValidationError:
    return file_problem(f"The file is not a readable XLSX workbook ({exc}); save it "
                        "again as .xlsx or as CSV.")


def cell_text(value) -> str:
    """A spreadsheet value as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def chunks(rows: Iterable[Row], max_rows: int, max_chars: int) -> Iterator[list[Row]]:
    """``rows`` in lists of at most ``max_rows`` rows and about ``max_chars`` characters (a
    chunk holds at least one row), so that each stays a small message."""
    chunk, size = [], 0
    for row in rows:
        row_size = sum(len(cell) for cell in row[1]) + len(row[1])
        if chunk and (len(chunk) == max_rows or size + row_size > max_chars):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += row_size
    if chunk:
        yield chunk


# -- the header ------------------------------------------------------------------------------
def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def required_fields(schema: type[Schema]) -> list[str]:
    """The fields every row needs: those the create schema requires."""
    return [name for name, field in schema().fields.items() if field.required]


def map_columns(header: list[str], columns: Columns, mapping: dict | None,
                required: Iterable[str] = ()) -> tuple[list[str | None], list[str]]:
    """``(fields, unknown)``: the field each column of ``header`` fills (``None``: none) and
    the headers that name no field (reported, their cells ignored).

    A column is named by its field or either label, case-insensitive; ``mapping``
    (``{"<header>": "<field>"}``, a field of ``None`` or ``""`` ignoring the column) wins.
    Empty headers after the last named column (a spreadsheet's habit) are not reported.
    A column named twice, two columns for one field, a mapping that names no column or no
    field, or no column for a ``required`` field: a :class:`ValidationError`."""
    by_name = {}
    for field, english, chinese in columns:
        for name in (field, english, chinese):
            by_name[_key(name)] = field
    named = {_key(key): key for key in mapping or {}}
    mapping = {_key(key): value for key, value in (mapping or {}).items()}
    problems: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for position, text in enumerate(header, start=1):
        if text and _key(text) in seen:
            problems.setdefault("file", []).append(
                f"The header names the column {text} twice (columns {seen[_key(text)]} and "
                f"{position}); rename or remove one.")
        seen.setdefault(_key(text), position)
    for key in mapping:
        if key not in seen:
            problems.setdefault("mapping", []).append(
                f"{named[key]} is not a column of the file.")
    known = {field for field, *_ in columns}
    for key, field in mapping.items():
        if field and field not in known:
            problems.setdefault("mapping", []).append(
                f"{field} is not a field to import; use one of: {', '.join(sorted(known))}.")
    fields_of = [mapping[_key(text)] or None if _key(text) in mapping
                 else by_name.get(_key(text)) for text in header]
    filled: dict[str, str] = {}
    for text, field in zip(header, fields_of):
        if field in filled:
            problems.setdefault("file", []).append(
                f"The columns {filled[field]} and {text} both fill {field}; keep one, or map "
                "one elsewhere with mapping.")
        elif field:
            filled[field] = text
    labels = {field: (english, chinese) for field, english, chinese in columns}
    for field in required:
        if field not in filled:
            english, chinese = labels.get(field, (field, field))
            problems.setdefault("file", []).append(
                f"No column for {field} ({english} / {chinese}), which every row needs; name "
                "a column so, or map one to it with mapping.")
    if problems:
        raise ValidationError("Invalid input.", problems)
    named_width = max((position for position, text in enumerate(header, start=1) if text),
                      default=0)
    unknown = [text or f"(column {position})" for position, (text, field)
               in enumerate(zip(header[:named_width], fields_of), start=1)
               if field is None and _key(text) not in mapping]
    return fields_of, unknown


# -- a row -----------------------------------------------------------------------------------
NOT_JSON_OBJECT = 'Not a JSON object: write it as {"key": "value", ...}.'


def load_row(schema: Schema, cells: dict[str, str]) -> tuple[dict, dict]:
    """The payload of one row for the create ``schema`` (``field -> cell``), validated by
    it: each cell as the API would take the field (``tabular.from_cell`` undoes what export
    did to a formula-like value; a list is split, a dict read as a JSON object; an empty cell
    is ``None`` where the field may be null, an empty list or dict, else left out). A
    :class:`ValidationError` names every field at fault. Answers the payload (the file's
    columns only: what an update changes) and what ``schema`` loaded of it (defaults
    included: what a create stores)."""
    payload, problems = {}, {}
    for name, text in cells.items():
        field = schema.fields[name]
        if isinstance(field, fields.List):
            payload[name] = tabular.split_list(text)
        elif isinstance(field, fields.Dict):
            try:
                payload[name] = _json_object(tabular.from_cell(text)) if text.strip() else {}
            except ValueError:
                problems[name] = [NOT_JSON_OBJECT]
        elif text.strip():
            payload[name] = tabular.from_cell(text)
        elif field.allow_none:
            payload[name] = None
    try:
        loaded = load(schema, payload)
    except ValidationError as exc:
        problems = {**exc.details, **problems}
    if problems:
        raise ValidationError("Invalid input.", problems)
    return payload, loaded


def _json_object(text: str) -> dict:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value
