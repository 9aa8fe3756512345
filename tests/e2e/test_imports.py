"""Imports through the running gateway and services (PostgreSQL, RabbitMQ): files crafted to
break parsers, atomic and not, dry runs, duplicates, owners and assignment, errors.csv
imported again, and a job that survives the death of its service. Counts are checked against
the rows in the services' databases."""
import csv
import io
import json
import uuid

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from common.db import sqlalchemy_url
from tests.support.http import ok, refused
from tests.support.stack import wait_until

MB = 1024 * 1024
FINISHED = ("succeeded", "failed")


def marker() -> str:
    return f"imp{uuid.uuid4().hex[:10]}"


def csv_file(rows, delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def upload(client, data: bytes, entity="customers", name="file.csv", headers=None,
           **options):
    form = {"entity": entity}
    for key, value in options.items():
        form[key] = json.dumps(value) if key == "mapping" else str(value).lower()
    return client.post("/imports", data=form, files={"file": (name, data)}, timeout=300,
                       headers=headers or {})


def finished(client, job, timeout=240) -> dict:
    def done():
        current = ok(client.get(f"/imports/{job['id']}"))
        return current if current["status"] in FINISHED else None

    return wait_until(done, timeout=timeout, interval=0.5, message=f"import {job['id']} ends")


def imported(client, data: bytes, **options) -> dict:
    return finished(client, ok(upload(client, data, **options), 202))


def counts(job) -> tuple:
    c = job["counts"]
    assert c["total"] == c["created"] + c["updated"] + c["skipped"] + c["failed"], c
    assert job["processed"] == c["total"], job
    return c["created"], c["updated"], c["skipped"], c["failed"]


def in_database(stack, component: str, sql: str, **params):
    engine = sa.create_engine(sqlalchemy_url(stack.database_url(component)))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(sql), params)
    finally:
        engine.dispose()


def customers_named(stack, mark: str) -> int:
    return in_database(stack, "customers", "SELECT count(*) FROM customers WHERE name LIKE :m",
                       m=f"%{mark}%")


def listed(client, mark: str, path="/customers") -> list[dict]:
    return ok(client.get(path, params={"q": mark, "per_page": 200}))["items"]


# -- files crafted to break parsers ----------------------------------------------------------
HEADER = ["Name", "城市", "notes", "tags", "Source", "contact_name", "联系人电话"]


def tricky_rows(mark: str) -> list[list[str]]:
    return [
        [f"{mark} 杭州甲乙, Inc.", "杭州", 'He said "hi",\nthen left; twice', "vip; 出口",
         "referral", "Li Lei", "+86 138 0000 1111"],
        [f"{mark} formulas", "-Ningbo", "=1+2", "", "@SUM(A1)", "Han", "0571-8888 0000"],
        [f"{mark} long", "", "长" * 10_000, "", "", "", ""],
    ]


FORMATS = {
    "utf-8-bom-comma": dict(encoding="utf-8-sig"),
    "utf-16": dict(encoding="utf-16"),
    "gb18030-semicolon": dict(encoding="gb18030", delimiter=";"),
    "utf-8-tab": dict(delimiter="\t"),
}


@pytest.mark.parametrize("form", FORMATS, ids=list(FORMATS))
def test_crafted_files_import_exactly(users, form):
    sam, mark = users["sam"], marker()
    rows = tricky_rows(mark)
    data = csv_file([[], HEADER, rows[0], [], [""] * len(HEADER), rows[1], rows[2], []],
                    **FORMATS[form])
    job = imported(sam, data, on_duplicate="create")  # the phones are every run's
    assert job["status"] == "succeeded", job
    assert counts(job) == (3, 0, 0, 0) and job["empty_rows"] == 3 and job["errors"] == []
    assert [c["field"] for c in job["columns"]] == [
        "name", "city", "notes", "tags", "source", "contact_name", "contact_phone"]
    found = {c["name"]: c for c in listed(sam, mark)}
    first, formulas, long = (found[row[0]] for row in rows)
    assert (first["city"], first["notes"], first["tags"]) == (
        "杭州", 'He said "hi",\nthen left; twice', ["vip", "出口"])
    assert (formulas["city"], formulas["notes"], formulas["source"]) == (
        "-Ningbo", "=1+2", "@SUM(A1)")
    assert long["notes"] == "长" * 10_000 and long["city"] is None
    contact = ok(sam.get(f"/customers/{first['id']}/contacts"))["items"][0]
    assert (contact["name"], contact["phone"], contact["is_primary"]) == (
        "Li Lei", "+86 138 0000 1111", True)


def test_a_spreadsheet_imports_its_first_sheet_as_text(users):
    sam, mark = users["sam"], marker()
    book = Workbook()
    book.active.append(["name", "contact_name", "contact_phone", "notes"])
    book.active.append([f"{mark} xlsx", "Li", "013800001111", 120])
    book.active.append([])
    book.active.append([f"{mark} second", "Han", 13800001111, 4.5])
    book.create_sheet("ignored").append(["name"])
    output = io.BytesIO()
    book.save(output)
    job = imported(sam, output.getvalue(), name="customers.xlsx", on_duplicate="create")
    assert counts(job) == (2, 0, 0, 0) and job["empty_rows"] == 1
    found = {c["name"]: c for c in listed(sam, mark)}
    assert (found[f"{mark} xlsx"]["notes"], found[f"{mark} second"]["notes"]) == ("120", "4.5")
    phone = ok(sam.get(f"/customers/{found[f'{mark} xlsx']['id']}/contacts"))["items"][0]
    assert phone["phone"] == "013800001111"


def test_files_that_cannot_be_imported_are_400_and_store_nothing(stack, users):
    sam, mark = users["sam"], marker()
    jobs_before = ok(sam.get("/imports"))["total"]
    duplicate = refused(upload(sam, csv_file([["name", "City", "Name"], [mark, "A", "B"]])),
                        400, "file")
    assert "twice (columns 1 and 3)" in duplicate["errors"]["file"][0]
    chinese = refused(upload(sam, csv_file([["name", "城市", "客户名称"], [mark, "A", "B"]]),
                             headers={"Accept-Language": "zh-CN"}), 400, "file")
    assert "列 name 和 客户名称 都对应字段 name" in chinese["errors"]["file"][0]
    broken = refused(upload(sam, f'name,notes\n{mark},"unclosed\n'.encode()), 400, "file")
    assert "line" in broken["errors"]["file"][0]
    too_large = refused(upload(sam, b"name\n" + b"x" * (50 * MB)), 400, "file")
    assert "larger than 50 MB" in too_large["errors"]["file"][0]
    no_name = refused(upload(sam, csv_file([["city"], ["A"]])), 400, "file")
    assert "No column for name" in no_name["errors"]["file"][0]
    bad_option = refused(upload(sam, csv_file([["name"], [mark]]), on_duplicate="merge"),
                         400, "on_duplicate")
    assert bad_option["status"] == 400
    refused(upload(sam, csv_file([["name"], [mark]]), mapping=["name"]), 400, "mapping")
    refused(sam.post("/imports", data={"entity": "customers", "file": "not a file"}), 400,
            "file")
    assert ok(sam.get("/imports"))["total"] == jobs_before
    assert customers_named(stack, mark) == 0


def test_too_many_or_too_few_cells_are_errors_of_their_rows(stack, users):
    sam, mark = users["sam"], marker()
    data = (f"name,city,tier\n{mark} ok,Hangzhou,A\n{mark} short,Ningbo\n"
            f"{mark} shifted, Inc.,Wenzhou,B\n{mark} fine,,\n").encode()
    job = imported(sam, data, atomic=False)
    assert counts(job) == (2, 0, 0, 2)
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, None), (4, None)]
    assert "2 cells where the header has 3" in job["errors"][0]["message"]
    assert customers_named(stack, mark) == 2


@pytest.mark.parametrize("atomic", [True, False])
def test_a_wrong_type_in_row_9000(stack, users, atomic):
    sam, mark = users["sam"], marker()
    rows = [["name", "tier", "custom_fields"]]
    rows += [[f"{mark} {n:05}", "B", '{"n": %d}' % n] for n in range(2, 10_002)]
    rows[8999][2] = "[1, 2]"  # row 9,000 of the file: custom fields that are not an object
    job = imported(sam, csv_file(rows), atomic=atomic, on_duplicate="create")
    assert [(e["row"], e["column"], e["value"]) for e in job["errors"]] == [
        (9000, "custom_fields", "[1, 2]")]
    if atomic:
        assert job["status"] == "failed" and counts(job) == (0, 0, 9999, 1)
        assert customers_named(stack, mark) == 0
    else:
        assert job["status"] == "succeeded" and counts(job) == (9999, 0, 0, 1)
        assert customers_named(stack, mark) == 9999


def test_a_dry_run_changes_nothing_and_tells_what_an_import_does(stack, users):
    sam, mark = users["sam"], marker()
    data = csv_file([["name", "tier", "contact_name"], [f"{mark} a", "A", "Li"],
                     [f"{mark} b", "Z", ""], [f"{mark} A", "B", ""]])
    tables = ("customers", "contacts", "field_changes", "outbox")

    def rows_in_database():
        return {table: in_database(stack, "customers", f"SELECT count(*) FROM {table}")
                for table in tables}

    before = rows_in_database()
    dry = imported(sam, data, dry_run=True, atomic=False)
    assert rows_in_database() == before  # no record, no history, no event
    assert dry["status"] == "succeeded" and counts(dry) == (1, 0, 1, 1)
    assert dry["message"].startswith("A dry run")
    real = imported(sam, data, atomic=False)
    assert counts(real) == counts(dry)
    assert customers_named(stack, mark) == 1


def test_counts_equal_the_rows_stored_and_duplicates_follow_on_duplicate(stack, users):
    sam, mark = users["sam"], marker()
    stored = ok(sam.post("/customers", json={"name": f"{mark} Alpha Co., Ltd.",
                                              "city": "Hangzhou", "tier": "A"}), 201)
    data = csv_file([["name", "city"], [f"{mark} Alpha", "Wenzhou"],
                     [f"{mark} Beta", "Ningbo"], [f"{mark} beta", "Suzhou"]])
    skipped = imported(sam, data)
    assert counts(skipped) == (1, 0, 2, 0) and customers_named(stack, mark) == 2
    assert ok(sam.get(f"/customers/{stored['id']}"))["city"] == "Hangzhou"
    updated = imported(sam, data, on_duplicate="update")
    assert counts(updated) == (0, 2, 1, 0) and customers_named(stack, mark) == 2
    alpha = ok(sam.get(f"/customers/{stored['id']}"))
    assert (alpha["name"], alpha["city"], alpha["tier"]) == (f"{mark} Alpha", "Wenzhou", "A")
    history = ok(sam.get(f"/customers/{stored['id']}/history"))["items"]
    assert {(h["field"], h["new_value"]) for h in history if h["action"] == "updated"} == {
        ("name", f"{mark} Alpha"), ("city", "Wenzhou")}
    created = imported(sam, data, on_duplicate="create")
    assert counts(created) == (3, 0, 0, 0) and customers_named(stack, mark) == 5


def test_a_reps_import_is_theirs_and_their_job_is_theirs(users, admin):
    sam, sara, mark = users["sam"], users["sara"], marker()
    data = csv_file([["name", "owner_id"], [f"{mark} mine", ""],
                     [f"{mark} given", sara.me["id"]], [f"{mark} named", sam.me["id"]]])
    job = imported(sam, data, atomic=False)
    assert counts(job) == (2, 0, 0, 1)
    assert "Sales users own the customers they create" in job["errors"][0]["message"]
    assert {c["owner_id"] for c in listed(admin, mark)} == {sam.me["id"]}
    refused(sara.get(f"/imports/{job['id']}"), 404)
    refused(sara.get(f"/imports/{job['id']}/errors.csv"), 404)
    assert job["id"] not in [j["id"] for j in ok(sara.get("/imports"))["items"]]
    assert ok(admin.get(f"/imports/{job['id']}"))["id"] == job["id"]
    assert job["id"] in [j["id"] for j in ok(sam.get("/imports"))["items"]]
    refused(upload(users["alex"], data), 403)


def test_errors_csv_gives_the_failed_rows_back_ready_to_import_again(users):
    sam, mark = users["sam"], marker()
    header = ["Name", "Tier", "Custom fields", "notes"]
    data = csv_file([header, [f"{mark} good", "A", "", ""],
                     [f"{mark} tier", "Z", "", "=1+2"],
                     [f"{mark} json", "B", "{oops", "+86 138 0000 1111"]])
    job = imported(sam, data, atomic=False)
    assert counts(job) == (1, 0, 0, 2)
    chinese = ok(sam.get(f"/imports/{job['id']}", headers={"Accept-Language": "zh-CN"}))
    assert chinese["errors"][0]["message"] == "必须是以下之一：A, B, C。"
    response = sam.get(f"/imports/{job['id']}/errors.csv", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["error", *header]
    assert [row[1:] for row in rows[1:]] == [
        [f"{mark} tier", "Z", "", "'=1+2"], [f"{mark} json", "B", "{oops", "'+86 138 0000 1111"]]
    assert rows[1][0] == "Tier: 必须是以下之一：A, B, C。"
    rows[1][2], rows[2][3] = "C", '{"fixed": true}'
    again = imported(sam, csv_file(rows), atomic=True)
    assert counts(again) == (2, 0, 0, 0) and again["unknown_columns"] == ["error"]
    found = {c["name"]: c for c in listed(sam, mark)}
    assert found[f"{mark} tier"]["notes"] == "=1+2" and found[f"{mark} tier"]["tier"] == "C"
    assert found[f"{mark} json"]["custom_fields"] == {"fixed": True}
    assert found[f"{mark} json"]["notes"] == "+86 138 0000 1111"


def test_leads_go_through_their_teams_assignment_rule(stack, admin):
    team = ok(admin.post("/teams", json={"name": f"Import {uuid.uuid4().hex[:6]}"}), 201)
    reps = sorted(ok(admin.post("/users", json={
        "username": f"imp{uuid.uuid4().hex[:8]}", "password": "rep-password-123",
        "role": "sales", "team_id": team["id"]}), 201)["id"] for _ in range(2))
    known = csv_file([["name", "owner_id"], *[["probe", rep] for rep in reps]])
    wait_until(lambda: counts(imported(admin, known, entity="leads", dry_run=True,
                                       on_duplicate="create"))[3] == 0,
               timeout=60, interval=0.5, message="the sales service knows the new reps")
    mark = marker()
    # Phones of this test's own: a lead elsewhere in the session with the same phone would
    # be a duplicate, and skipped.
    phones = [f"+86 139 {uuid.uuid4().int % 10**8:08d}" for _ in range(4)]
    data = csv_file([["姓名", "公司", "Team ID", "电话"],
                     *[[f"{mark} {n}", f"{mark} company {n}", team["id"], phones[n]]
                       for n in range(4)]])
    job = imported(admin, data, entity="leads")
    assert job["entity"] == "leads" and counts(job) == (4, 0, 0, 0)
    leads = listed(admin, mark, "/leads")
    assert sorted(lead["owner_id"] for lead in leads) == sorted(reps * 2)
    assert {lead["team_id"] for lead in leads} == {team["id"]}
    assert in_database(stack, "sales", "SELECT count(*) FROM leads WHERE name LIKE :m",
                       m=f"{mark}%") == 4
    again = imported(admin, data, entity="leads")
    assert counts(again) == (0, 0, 4, 0)
    customers = imported(admin, csv_file([["name"], [f"{mark} customer"]]))
    newest = ok(admin.get("/imports", params={"per_page": 2}))
    assert [j["id"] for j in newest["items"]] == [customers["id"], again["id"]]
    assert newest["total"] >= 4
    only_leads = ok(admin.get("/imports", params={"entity": "leads", "per_page": 200}))["items"]
    assert {j["entity"] for j in only_leads} == {"leads"} and job["id"] in [
        j["id"] for j in only_leads]


def test_a_lead_matching_a_customer_its_importer_sees_is_a_duplicate(users):
    """The sales service asks the customers service, as the importer: sam's lead matching
    his own customer is skipped; one matching only sara's (West) customer is not."""
    sam, sara, mark = users["sam"], users["sara"], marker()
    ok(sam.post("/customers", json={"name": f"{mark} East 有限公司"}), 201)
    ok(sara.post("/customers", json={"name": f"{mark} West 有限公司"}), 201)
    data = csv_file([["name", "company"], ["Li", f"{mark} EAST Co., Ltd."],
                     ["Han", f"{mark} West Co., Ltd."]])
    job = imported(sam, data, entity="leads")
    assert job["status"] == "succeeded" and counts(job) == (1, 0, 1, 0), job
    assert [lead["company"] for lead in listed(sam, mark, "/leads")] == [
        f"{mark} West Co., Ltd."]


def test_an_import_is_resumed_after_its_service_is_killed_KILLS_CUSTOMERS(stack, users):
    sam, mark = users["sam"], marker()
    rows = [["name", "city"], *[[f"{mark} {n:05}", "Hangzhou"] for n in range(3000)]]
    job = ok(upload(sam, csv_file(rows), atomic=False, on_duplicate="create"), 202)
    wait_until(lambda: ok(sam.get(f"/imports/{job['id']}"))["processed"] >= 500,
               timeout=120, interval=0.2, message="the import under way")
    stack.kill("customers")
    try:
        halfway = customers_named(stack, mark)
    finally:
        stack.start_service("customers")
    done = finished(sam, job, timeout=300)  # once its heartbeat is old, the job is resumed
    stack.wait_ready(timeout=180)
    assert done["status"] == "succeeded" and counts(done) == (3000, 0, 0, 0)
    assert 500 <= halfway < 3000
    assert customers_named(stack, mark) == 3000
    assert in_database(stack, "customers", "SELECT count(*) FROM outbox WHERE routing_key = "
                       "'customer.created' AND CAST(payload AS TEXT) LIKE :m",
                       m=f"%{mark}%") == 3000
    print(f"{halfway} of 3000 rows were stored when the service was killed; resumed to 3000")


def test_an_api_key_reads_only_the_jobs_of_records_it_may_read(stack, admin):
    """A job's failed rows are its records' data: a key reading imports needs the records'
    read scope too."""
    from tests.e2e.test_api_keys import key_client

    job = imported(admin, csv_file([["name", "tier"], [f"{marker()} key", "Z"]]))
    imports_only = key_client(stack, admin, "imports:read")
    refused(imports_only.get(f"/imports/{job['id']}"), 404)
    refused(imports_only.get(f"/imports/{job['id']}/errors.csv"), 404)
    assert job["id"] not in [j["id"] for j in ok(imports_only.get("/imports"))["items"]]
    reader = key_client(stack, admin, "imports:read", "customers:read")
    assert ok(reader.get(f"/imports/{job['id']}"))["id"] == job["id"]
