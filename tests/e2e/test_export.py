"""Exports of customers and leads through the running gateway and services: the columns
import reads, every value intact (and never a formula), record-level scope, the list's
filters, and a large export streamed."""
import csv
import io
import json
import uuid

import sqlalchemy as sa
from openpyxl import load_workbook

from common.db import create_db_engine, new_id, utcnow
from common.tabular import from_cell, split_list
from services.customers import schemas as customer_contract
from services.customers.models import Customer
from services.sales import schemas as sales_contract
from tests.support.http import ok, refused

CUSTOMER_FIELDS = [field for field, *_ in customer_contract.TRANSFER_COLUMNS]
LEAD_FIELDS = [field for field, *_ in sales_contract.TRANSFER_COLUMNS]
BOM = b"\xef\xbb\xbf"


def marker() -> str:
    return f"x{uuid.uuid4().hex[:10]}"


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.content.startswith(BOM)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def records(rows: list[list[str]]) -> list[dict]:
    """The file's rows as the values import reads back (apostrophes off, lists split)."""
    header, *body = rows
    result = []
    for row in body:
        record = {field: from_cell(cell) if cell else None for field, cell in zip(header, row)}
        if "tags" in record:
            record["tags"] = split_list(row[header.index("tags")])
        if "custom_fields" in record:
            record["custom_fields"] = json.loads(record["custom_fields"] or "{}")
        result.append(record)
    return result


def new_customer(client, tag: str, contact: dict | None = None, **fields) -> dict:
    customer = ok(client.post("/customers", json={"name": f"C {marker()}", "tags": [tag],
                                                  "allow_duplicate": True, **fields}), 201)
    if contact:
        ok(client.post(f"/customers/{customer['id']}/contacts",
                       json={"is_primary": True, **contact}), 201)
    return customer


TRICKY = [
    ({"name": '杭州"引号", 有限公司\n第二行', "industry": "制造, 出口", "country": "中国",
      "province": "浙江", "city": "杭州", "source": "=HYPERLINK(\"http://evil\")",
      "tier": "A", "status": "active", "notes": "+1 leading plus\r\nand \"quotes\"",
      "custom_fields": {"erp_code": "007", "vip": True, "employees": 120, "note": "-5"}},
     {"name": "王小明", "phone": "+86 138 0013 8000", "email": "wang@example.cn"}),
    ({"name": "@Acme", "type": "person", "industry": "-", "notes": "\tTabbed",
      "tags": ["vip", "重点 客户"]},
     {"name": "Zero", "phone": "0571-8888 0000"}),
    ({"name": "Empty values"}, None),
]


def test_customers_csv_has_a_bom_the_transfer_columns_and_every_value_intact(users):
    sam, tag = users["sam"], marker()
    made = []
    for fields, contact in TRICKY:
        tags = [tag, *fields.get("tags", [])]
        made.append((new_customer(sam, tag, contact, **{**fields, "tags": tags}), contact))

    rows = csv_rows(sam.get("/customers/export", params={"tag": tag}))
    assert rows[0] == CUSTOMER_FIELDS
    exported = records(rows)
    assert len(exported) == len(made)
    for record, (customer, contact) in zip(exported, made):  # creation order
        for field in CUSTOMER_FIELDS:
            if field.startswith("contact_"):
                expected = (contact or {}).get(field.removeprefix("contact_"))
            else:
                expected = customer[field]
            if field == "custom_fields":
                expected = expected or {}
            assert record[field] == expected, field
    # what a spreadsheet would run starts with an apostrophe in the file itself
    first, second = rows[1], rows[2]
    assert first[CUSTOMER_FIELDS.index("source")].startswith("'=HYPERLINK")
    assert first[CUSTOMER_FIELDS.index("contact_phone")] == "'+86 138 0013 8000"
    assert second[CUSTOMER_FIELDS.index("name")] == "'@Acme"
    assert second[CUSTOMER_FIELDS.index("contact_phone")] == "0571-8888 0000"
    assert second[CUSTOMER_FIELDS.index("tags")] == "; ".join(sorted([tag, "vip", "重点 客户"]))
    assert rows[3][CUSTOMER_FIELDS.index("industry")] == ""


def test_customers_xlsx_holds_text_cells_and_no_formula(users):
    sam, tag = users["sam"], marker()
    fields, contact = TRICKY[0]
    customer = new_customer(sam, tag, contact, **fields)
    response = sam.get("/customers/export", params={"tag": tag, "format": "xlsx"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"].startswith('attachment; filename="customers-')
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert list(header) == CUSTOMER_FIELDS
    cells = dict(zip(CUSTOMER_FIELDS, next(sheet.iter_rows(min_row=2, max_row=2))))
    for field in ("contact_phone", "owner_id", "team_id", "source", "name"):
        assert cells[field].data_type == "s", field
    assert cells["contact_phone"].value == "'+86 138 0013 8000"
    assert from_cell(cells["owner_id"].value) == customer["owner_id"]
    assert from_cell(cells["name"].value) == fields["name"]
    assert json.loads(cells["custom_fields"].value) == fields["custom_fields"]


def test_a_rep_exports_only_what_their_list_shows(users, admin):
    tag = marker()
    sams = [new_customer(users["sam"], tag)["name"] for _ in range(2)]
    saras = [new_customer(users["sara"], tag)["name"]]

    def exported(client):
        return sorted(record["name"] for record in records(csv_rows(
            client.get("/customers/export", params={"tag": tag}))))

    def listed(client):
        return sorted(item["name"] for item in ok(client.get(
            "/customers", params={"tag": tag, "per_page": 200}))["items"])

    for client in (*users.values(), admin):
        assert exported(client) == listed(client)
    assert exported(users["sam"]) == sorted(sams)
    assert exported(users["sara"]) == saras
    assert exported(users["maria"]) == sorted(sams)  # the manager of sam's team
    assert exported(admin) == exported(users["alex"]) == sorted(sams + saras)


def test_the_list_filters_apply_and_bad_ones_are_refused(users):
    sam, tag = users["sam"], marker()
    new_customer(sam, tag, city="Ningbo", tier="B")
    new_customer(sam, tag, city="Hangzhou", tier="B")
    new_customer(sam, tag, city="Hangzhou", tier="C")
    chosen = records(csv_rows(sam.get("/customers/export",
                                      params={"tag": tag, "city": "Hangzhou", "tier": "B"})))
    assert [(record["city"], record["tier"]) for record in chosen] == [("Hangzhou", "B")]

    refused(sam.get("/customers/export", params={"format": "pdf"}), 400, "format")
    refused(sam.get("/customers/export", params={"owner_id": "nobody"}), 400, "owner_id")
    refused(sam.get("/customers/export", params={"created_from": "2026-02-01T00:00:00Z",
                                                 "created_to": "2026-01-01T00:00:00Z"}),
            400, "created_from")
    refused(sam.get("/leads/export", params={"status": "won"}), 400, "status")


def test_leads_export_the_columns_import_reads(users):
    sam, source = users["sam"], marker()
    lead = ok(sam.post("/leads", json={"name": "李雷", "company": "Acme, Inc.",
                                       "phone": "+86 139 0000 0001", "email": "li@example.cn",
                                       "source": source, "city": "杭州",
                                       "notes": "=1+1", "allow_duplicate": True}), 201)
    ok(sam.post("/leads", json={"name": "Other", "source": marker(), "allow_duplicate": True}),
       201)
    rows = csv_rows(sam.get("/leads/export", params={"source": source}))
    assert rows[0] == LEAD_FIELDS
    assert len(rows) == 2
    assert rows[1][LEAD_FIELDS.index("notes")] == "'=1+1"
    assert rows[1][LEAD_FIELDS.index("phone")] == "'+86 139 0000 0001"
    assert records(rows) == [{field: lead[field] for field in LEAD_FIELDS}]
    assert records(csv_rows(users["sara"].get("/leads/export",
                                              params={"source": source}))) == []


def test_a_large_export_streams_every_row_once(stack, users):
    """3,000 customers (written straight to the service's database: the export reads it
    there) come back in chunks, each once, in creation order."""
    sam, tag, count = users["sam"], marker(), 3000
    engine = create_db_engine(stack.database_url("customers"))
    ids = [new_id() for _ in range(count)]
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(sa.insert(Customer.__table__), [{
            "id": customer_id, "name": f"{tag} {number:05d}",
            "name_normalized": f"{tag} {number:05d}", "type": "company", "status": "prospect",
            "city": tag, "owner_id": uuid.UUID(sam.me["id"]),
            "team_id": uuid.UUID(sam.me["team_id"]), "custom_fields": {}, "version": 1,
            "created_at": now, "updated_at": now,
        } for number, customer_id in enumerate(ids)])
    engine.dispose()

    with sam.get("/customers/export", params={"city": tag}, stream=True) as response:
        assert response.status_code == 200
        assert response.headers.get("Transfer-Encoding") == "chunked"
        assert "Content-Length" not in response.headers
        chunks = list(response.iter_content(chunk_size=None))
    assert len(chunks) > 1
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))
    names = [row[0] for row in rows[1:]]
    assert len(names) == count and len(set(names)) == count
    assert sorted(names) == [f"{tag} {number:05d}" for number in range(count)]

    with sam.get("/customers/export", params={"city": tag, "format": "xlsx"},
                 stream=True) as response:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        book = load_workbook(io.BytesIO(b"".join(response.iter_content(chunk_size=None))),
                             read_only=True)
    assert [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)] == names
