"""The one encoding of values as cells (what export writes, import reads back) and the
streamed CSV and XLSX writers."""
import csv
import io
import json
import zipfile
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from common import tabular

TRICKY = ["=SUM(A1:A9)", "+86 138 0013 8000", "-5", "@user", "\tTab", "\rCR", "'quoted",
          "''=x", "'", "0571-8888", "杭州, \"引号\"\n第二行", "plain"]


def test_every_tricky_value_goes_out_as_text_that_never_runs_and_comes_back():
    for value in TRICKY:
        cell = tabular.transfer_cell(value)
        assert not cell.startswith(tabular.FORMULA_STARTS)
        assert tabular.from_cell(cell) == value
    assert tabular.transfer_cell("+86 138") == "'+86 138"
    assert tabular.from_cell("'plain") == "'plain"  # an apostrophe a person typed stays


@given(st.text(min_size=1))
def test_any_text_round_trips(value):
    assert tabular.from_cell(tabular.transfer_cell(value)) == value


def test_lists_and_dicts_are_one_cell_each():
    assert tabular.transfer_cell(["vip", "重点 客户"]) == "vip; 重点 客户"
    assert tabular.split_list("vip; 重点 客户 ;; ") == ["vip", "重点 客户"]
    custom = {"erp": "007", "vip": True, "n": 3, "x": None}
    assert json.loads(tabular.transfer_cell(custom)) == custom
    assert [tabular.transfer_cell(empty) for empty in (None, [], {}, "")] == [None] * 3 + [""]


def test_csv_streams_in_chunks_with_one_bom():
    rows = [["name", "notes"]] + [[f"row {n}", "x" * 100] for n in range(2000)]
    chunks = list(tabular.csv_chunks(iter(rows)))
    assert len(chunks) > 1
    body = b"".join(chunks)
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))) == rows


def test_xlsx_streams_a_workbook_of_text_and_number_cells():
    rows = [["phone", "amount", "name"], ["0571-8888", Decimal("-12.50"), "bad\x01char"],
            ["'+86 138", 3, "line\r\nnext\rlast"]]
    chunks = list(tabular.xlsx_chunks([("customers", iter(rows)), ("a<b>&\"c", iter([["x"]]))]))
    body = b"".join(chunks)
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["customers", "a<b>&\"c"]
    sheet = book["customers"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("phone", "amount", "name"), ("0571-8888", -12.5, "badchar"),
        ("'+86 138", 3, "line\r\nnext\rlast")]  # a carriage return kept
    assert sheet["A2"].data_type == "s" and sheet["B2"].data_type == "n"
