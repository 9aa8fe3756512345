"""Reading import files without a broker: encodings, delimiters, quoting, spreadsheets, the
header's mapping to fields, and a row's cells to the API's payload."""
import codecs
import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook

from common import importing
from common.errors import ValidationError
from services.customers import schemas as customer_schemas
from services.sales import schemas as sales_schemas

MB = 1024 * 1024
COLUMNS = customer_schemas.TRANSFER_COLUMNS
NAME_ONLY = ["name"]


def read(data: bytes, max_bytes: int = 50 * MB) -> importing.Table:
    return importing.read_table(data, max_bytes)


def refusal(data: bytes, max_bytes: int = 50 * MB) -> str:
    with pytest.raises(ValidationError) as error:
        read(data, max_bytes)
    assert list(error.value.details) == ["file"]
    return error.value.details["file"][0]


def xlsx(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


TEXT = "名称,城市\n杭州甲乙有限公司,杭州\n"


@pytest.mark.parametrize("data", [
    TEXT.encode(),
    codecs.BOM_UTF8 + TEXT.encode(),
    TEXT.encode("utf-16"),  # with its byte-order mark
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("gb18030"),
    TEXT.encode("gbk"),
], ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "gb18030", "gbk"])
def test_every_encoding_reads_the_same_text(data):
    table = read(data)
    assert table.header == ["名称", "城市"]
    assert list(table.rows()) == [(2, ["杭州甲乙有限公司", "杭州"])]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["name", "city", "notes"]) + "\n" + delimiter.join(
        ["Acme", "Hangzhou", "1,5 or 2;5"] if delimiter == "\t" else ["Acme", "Hangzhou", "x"]
    ) + "\n"
    table = read(text.encode())
    assert table.header == ["name", "city", "notes"]
    assert [cells for _, cells in table.rows()][0][:2] == ["Acme", "Hangzhou"]


def test_quoted_delimiters_quotes_and_newlines_stay_in_their_cell():
    text = ('name,notes,city\n'
            '"Acme, Inc.","He said ""hi""\nthen left; twice",Hangzhou\n'
            'Beta,plain,Ningbo\n')
    table = read(text.encode())
    assert list(table.rows()) == [
        (2, ["Acme, Inc.", 'He said "hi"\nthen left; twice', "Hangzhou"]),
        (3, ["Beta", "plain", "Ningbo"])]  # a row is a record, as a spreadsheet shows it


def test_semicolon_files_with_commas_in_values():
    table = read('name;notes\n"Acme";"x, y"\nBeta;"1,5"\n'.encode())
    assert list(table.rows()) == [(2, ["Acme", "x, y"]), (3, ["Beta", "1,5"])]


def test_formula_like_values_are_kept_as_text():
    text = "name,notes\n=1+2,@SUM(A1)\n+86 138,-5\n"
    assert [cells for _, cells in read(text.encode()).rows()] == [
        ["=1+2", "@SUM(A1)"], ["+86 138", "-5"]]


def test_a_ten_thousand_character_cell():
    long = "长" * 10_000
    table = read(f"name,notes\nAcme,{long}\n".encode())
    assert list(table.rows()) == [(2, ["Acme", long])]


def test_empty_rows_are_skipped_and_counted_and_rows_keep_their_numbers():
    table = read(b"\n\nname,city\nAcme,A\n\n,\n  ,  \nBeta,B\n")
    assert table.header_row == 3
    assert (table.total, table.empty_rows) == (2, 3)
    assert list(table.rows()) == [(4, ["Acme", "A"]), (8, ["Beta", "B"])]


def test_rows_keep_their_cells_as_they_were():
    """Too many or too few cells is the row's error (the service says so), never shifted."""
    table = read(b"name,city\nAcme\nBeta,B,extra\n")
    assert list(table.rows()) == [(2, ["Acme"]), (3, ["Beta", "B", "extra"])]


@pytest.mark.parametrize("data, says", [
    (b"", "no header"),
    (b"\n\n ,\n", "no header"),
    (codecs.BOM_UTF8, "no header"),
    (b"name,notes\nAcme,\"unclosed\n", "line"),
    (b'name,notes\n"Acme"x,y\n', "line 2"),
    ("名称\n\ud800".encode("utf-8", "surrogatepass"), "GB18030"),
    (b"name\x00,city\n", "NUL"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old workbook", ".xls"),
    (b"PK\x03\x04 not really a zip", "XLSX"),
], ids=["empty", "blank-lines", "bom-only", "unclosed-quote", "text-after-quote", "not-text",
        "nul", "xls", "broken-zip"])
def test_an_unreadable_file_is_refused_saying_why(data, says):
    assert says in refusal(data)


def test_a_file_over_the_limit_is_refused():
    assert "larger than 1 MB" in refusal(b"name\n" + b"x" * MB, max_bytes=MB)
    assert read(b"name\nx\n", max_bytes=MB).total == 1


def test_xlsx_values_read_as_text():
    data = xlsx(["name", "phone", "employees", "score", "since", "active", None, None],
                ["Acme", "013800001111", 120, 4.5, dt.datetime(2026, 1, 31), True],
                [],
                ["Beta", "+86 138", 3.0, None, dt.datetime(2026, 1, 31, 9, 30), False, None, "x"])
    table = read(data)
    assert table.header == ["name", "phone", "employees", "score", "since", "active"]
    assert (table.total, table.empty_rows) == (2, 1)
    assert list(table.rows()) == [
        (2, ["Acme", "013800001111", "120", "4.5", "2026-01-31", "true"]),
        (4, ["Beta", "+86 138", "3", "", "2026-01-31T09:30:00", "false", "", "x"])]


def test_an_empty_workbook_has_no_header():
    assert "no header" in refusal(xlsx())


# -- the header ------------------------------------------------------------------------------
def test_columns_by_field_or_label_in_any_case_and_unknown_ones_reported():
    fields, unknown = importing.map_columns(
        ["NAME", "城市", "Contact Phone", "Fax", "", "tier", "", ""], COLUMNS, None, NAME_ONLY)
    assert fields == ["name", "city", "contact_phone", None, None, "tier", None, None]
    assert unknown == ["Fax", "(column 5)"]  # trailing empty headers are a spreadsheet's habit


def test_a_mapping_names_fields_and_ignores_columns():
    fields, unknown = importing.map_columns(
        ["Firma", "Stadt", "Intern"], COLUMNS,
        {"firma": "name", "Stadt": "city", "Intern": None}, NAME_ONLY)
    assert (fields, unknown) == (["name", "city", None], [])


@pytest.mark.parametrize("header, mapping, field, says", [
    (["name", "Name"], None, "file", "twice (columns 1 and 2)"),
    (["name", "客户名称"], None, "file", "both fill name"),
    (["city"], None, "file", "No column for name (Name / 客户名称)"),
    (["name"], {"nom": "name"}, "mapping", "nom is not a column"),
    (["name", "x"], {"x": "password"}, "mapping", "password is not a field"),
], ids=["duplicate-header", "two-columns-one-field", "required-missing", "no-such-column",
        "no-such-field"])
def test_a_header_that_cannot_be_imported(header, mapping, field, says):
    with pytest.raises(ValidationError) as error:
        importing.map_columns(header, COLUMNS, mapping, NAME_ONLY)
    assert says in " ".join(error.value.details[field])


def test_the_required_columns_are_the_create_schemas():
    assert importing.required_fields(customer_schemas.CustomerCreateSchema) == ["name"]
    assert importing.required_fields(sales_schemas.LeadCreateSchema) == ["name"]


# -- a row -----------------------------------------------------------------------------------
def test_a_row_becomes_the_payload_the_api_takes():
    payload, _ = importing.load_row(customer_schemas.CustomerCreateSchema(), {
        "name": "'=Acme", "tier": "", "type": "", "tags": "vip; export ;",
        "custom_fields": '{"erp": "H-001", "employees": 120}', "notes": "'+86 138"})
    assert payload == {"name": "=Acme", "tier": None, "tags": ["vip", "export"],
                       "custom_fields": {"erp": "H-001", "employees": 120}, "notes": "+86 138"}


def test_every_field_at_fault_is_named():
    with pytest.raises(ValidationError) as error:
        importing.load_row(customer_schemas.CustomerCreateSchema(), {
            "name": "Acme", "tier": "Z", "custom_fields": "[1, 2]", "owner_id": "sam"})
    assert set(error.value.details) == {"tier", "custom_fields", "owner_id"}
    assert error.value.details["custom_fields"] == [importing.NOT_JSON_OBJECT]


def test_rows_go_in_chunks_small_by_count_and_size():
    rows = [(number, ["x" * 10]) for number in range(2, 12)]
    assert [len(chunk) for chunk in importing.chunks(rows, 4, 10_000)] == [4, 4, 2]
    assert [len(chunk) for chunk in importing.chunks(rows, 100, 25)] == [2, 2, 2, 2, 2]
    assert [len(chunk) for chunk in importing.chunks(rows, 100, 1)] == [1] * 10


def test_a_file_of_more_rows_than_the_limit_is_refused_before_anything(monkeypatch):
    monkeypatch.setenv("CRM_IMPORT_MAX_ROWS", "3")
    data = "name\n" + "".join(f"row {n}\n" for n in range(4))
    with pytest.raises(ValidationError, match="more than 3 rows"):
        importing.read_table(data.encode(), 1024 * 1024)
    assert importing.read_table("name\na\nb\nc\n".encode(), 1024 * 1024).total == 3


def test_a_workbook_that_unpacks_far_beyond_the_limit_is_refused_unread():
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"0" * 200_000)  # a few hundred bytes packed
    data = packed.getvalue()
    with pytest.raises(ValidationError, match="unpacks to more"):
        importing.read_table(data, 10_000)
