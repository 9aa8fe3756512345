"""Export → import into a fresh database: customers and leads exported from the session's
stack, imported into a second stack of their own (new PostgreSQL databases, a new broker
vhost, none of the first's users), then exported again from it. Every column comes back
identical, ids aside: the owner and team columns name users and teams of the first system,
so the import maps them away (``mapping``) and the importer owns the records, as an
operator moving data between systems would do."""
import csv
import io
import json
import uuid

import pytest

from services.customers import schemas as customer_contract
from services.sales import schemas as sales_contract
from tests.support.http import ok
from tests.support.stack import Stack, wait_until

IDS = ("owner_id", "team_id")
NOT_THE_IDS = {column: None for column in IDS}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    other = Stack(tmp_path_factory.mktemp("fresh-stack"))
    # Small, beside the session's stack on one PostgreSQL (its default 100 connections).
    other.env.update(CRM_MAX_WORKERS="4", GUNICORN_WORKERS="1")
    try:
        other.start()
        yield other.login("admin")
    finally:
        other.stop()


def table(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def without_ids(rows: list[list[str]]) -> list[list[str]]:
    keep = [index for index, column in enumerate(rows[0]) if column not in IDS]
    return [[row[index] for index in keep] for row in rows]


def imported(client, entity: str, name: str, data: bytes, **options) -> dict:
    form = {"entity": entity, "mapping": json.dumps(NOT_THE_IDS),
            **{key: str(value).lower() for key, value in options.items()}}
    job = ok(client.post("/imports", data=form, files={"file": (name, data)}, timeout=300),
             202)

    def done():
        current = ok(client.get(f"/imports/{job['id']}"))
        return current if current["status"] in ("succeeded", "failed") else None

    return wait_until(done, timeout=240, interval=0.5, message=f"import {job['id']} ends")


def counts(job) -> tuple:
    c = job["counts"]
    return c["created"], c["updated"], c["skipped"], c["failed"]


def round_trip(source, fresh, entity: str, contract, query: dict, count: int) -> None:
    """``entity`` exported from ``source`` (those ``query`` filters: ``count`` of them),
    imported into ``fresh`` and exported again: the same file, ids aside. Then the same
    records as a spreadsheet, imported with ``on_duplicate=update``: an update that finds
    every value already there changes nothing (counted as skipped)."""
    exported = source.get(f"/{entity}/export", params=query)
    first = table(exported)
    assert first[0] == [field for field, *_ in contract.TRANSFER_COLUMNS]
    assert len(first) == 1 + count
    job = imported(fresh, entity, f"{entity}.csv", exported.content)
    assert job["status"] == "succeeded" and counts(job) == (count, 0, 0, 0), job
    again = table(fresh.get(f"/{entity}/export", params=query))
    assert without_ids(again) == without_ids(first)

    workbook = source.get(f"/{entity}/export", params={**query, "format": "xlsx"})
    assert workbook.status_code == 200
    job = imported(fresh, entity, f"{entity}.xlsx", workbook.content, on_duplicate="update")
    assert job["status"] == "succeeded" and counts(job) == (0, 0, count, 0), job


CUSTOMERS = [
    ({"name": '杭州"引号", 有限公司\n第二行', "type": "company",
      "industry": "=cmd|' /C calc'!A0", "country": "中国", "province": "浙江", "city": "杭州",
      "source": "-展会", "tier": "A", "status": "active", "notes": "+1\r\nline \"two\", 三",
      "tags": ["重点 客户", "export, wholesale"],
      "custom_fields": {"erp": "007", "vip": True, "employees": 120, "备注": "a\tb"}},
     {"name": "王小明", "title": "采购经理", "phone": "+86 138 0013 8000",
      "email": "wang@example.cn"}),
    ({"name": "@Person 00123", "type": "person", "city": "", "notes": "x" * 10_000,
      "tags": []},
     {"name": "Zero", "phone": "0571-8888 0000"}),
    ({"name": "Empty values Co."}, None),
]

LEADS = [
    {"name": "李雷", "company": "Acme, \"Asia\" 有限公司", "phone": "+86 021 5555 0000",
     "email": "li@acme.cn", "source": "=HYPERLINK(\"x\")", "country": "中国", "city": "上海",
     "status": "working", "notes": "first line\r\nsecond, line"},
    {"name": "Empty lead", "company": None, "phone": "007", "email": "e@example.cn",
     "status": "new"},  # (an email: a lead is found again by company, email or phone)
]


def test_customers_come_back_identical_in_a_fresh_database(users, fresh):
    sam, mark = users["sam"], f"fresh{uuid.uuid4().hex[:8]}"
    for fields, contact in CUSTOMERS:
        customer = ok(sam.post("/customers", json={
            **fields, "tags": fields.get("tags", []) + [mark], "allow_duplicate": True}), 201)
        if contact:
            ok(sam.post(f"/customers/{customer['id']}/contacts",
                        json={**contact, "is_primary": True}), 201)
    round_trip(sam, fresh, "customers", customer_contract, {"tag": mark}, len(CUSTOMERS))

    stored = {customer["name"]: customer for customer in ok(fresh.get(
        "/customers", params={"tag": mark, "per_page": 50}))["items"]}
    first_one = stored[CUSTOMERS[0][0]["name"]]
    assert first_one["custom_fields"] == CUSTOMERS[0][0]["custom_fields"]
    assert sorted(first_one["tags"]) == sorted(CUSTOMERS[0][0]["tags"] + [mark])
    assert first_one["industry"] == CUSTOMERS[0][0]["industry"]
    contacts = ok(fresh.get(f"/customers/{first_one['id']}/contacts"))["items"]
    assert [(c["name"], c["phone"], c["email"], c["is_primary"]) for c in contacts] == [
        ("王小明", "+86 138 0013 8000", "wang@example.cn", True)]
    assert stored["@Person 00123"]["notes"] == "x" * 10_000


def test_leads_come_back_identical_in_a_fresh_database(users, fresh):
    sam, mark = users["sam"], f"fresh{uuid.uuid4().hex[:8]}"
    for lead in LEADS:
        ok(sam.post("/leads", json={**lead, "name": f"{lead['name']} {mark}",
                                    "allow_duplicate": True}), 201)
    round_trip(sam, fresh, "leads", sales_contract, {"q": mark}, len(LEADS))
