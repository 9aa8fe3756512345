"""Import jobs of customers driven without a broker (SQLite in memory and PostgreSQL): the
rows of a file received in chunks, a job run by the timer's use case, and what it stores,
counts and announces, atomic or not, dry or not, interrupted or not."""
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from common import import_jobs
from common.errors import Conflict, Forbidden, NotFound, ValidationError
from services.customers import operations as op
from services.customers.imports import IMPORTER
from services.customers.models import Contact, Customer, FieldChange, ImportJob, platform
from tests.customers.conftest import ADMIN, ALEX, MARIA, SAM, SARA, outbox_types
from tests.support.imports import TimerDatabase
from tests.support.stack import wait_until

HEADER = ["Name", "城市", "tier", "contact_name", "contact_phone", "Fax"]


@pytest.fixture(params=["sqlite", "postgresql"])
def run(request, run):
    """Every import test on SQLite in memory and on PostgreSQL, where a whole-file job
    checks its next batch in a second session."""
    return run if request.param == "sqlite" else request.getfixturevalue("run_postgres")


def timer(run) -> TimerDatabase:
    return TimerDatabase(run.factory, platform, "customers")


def send(run, actor, rows, header=HEADER, chunk=1000, **options):
    """The file's rows received as the gateway sends them; the queued job."""
    numbered = [[number, cells] for number, cells in enumerate(rows, start=2)]
    chunks = [numbered[i:i + chunk] for i in range(0, len(numbered), chunk)] or [[]]
    job = run(actor, IMPORTER.create, {
        "entity": "customers", "file_name": "customers.csv", "header": header,
        "total": len(rows), "empty_rows": 0, "options": options, "rows": chunks[0],
        "last": len(chunks) == 1})
    for index, part in enumerate(chunks[1:], start=2):
        job = run(actor, IMPORTER.add_rows, job["id"],
                  {"rows": part, "last": index == len(chunks)})
    assert job["status"] == "queued"
    return job


def imported(run, actor, rows, **options) -> dict:
    job = send(run, actor, rows, **options)
    assert IMPORTER.run_queued(timer(run))
    return run(actor, IMPORTER.get, job["id"])


def names(run, actor=ADMIN) -> list:
    return sorted(c["name"] for c in run(actor, op.list_customers, {"per_page": 200})["items"])


def stored(run, model) -> int:
    with run.factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def counts(job) -> tuple:
    c = job["counts"]
    assert c["total"] == c["created"] + c["updated"] + c["skipped"] + c["failed"]
    assert job["processed"] == c["total"]
    return c["created"], c["updated"], c["skipped"], c["failed"]


ROWS = [["Acme", "Hangzhou", "A", "Li Lei", "+86 138 0000 1111", "x"],
        ["Beta", "Ningbo", "Z", "", "", ""],
        ["Gamma", "Wenzhou", "", "", "", ""],
        ["Delta", "Shanghai", "B", "", "12", ""]]


def test_not_atomic_stores_the_valid_rows_and_reports_the_others(run):
    job = imported(run, SAM, ROWS, atomic=False)
    assert job["status"] == "succeeded" and counts(job) == (2, 0, 0, 2)
    assert names(run) == ["Acme", "Gamma"]
    assert job["unknown_columns"] == ["Fax"]
    assert [(e["row"], e["column"], e["value"]) for e in job["errors"]] == [
        (3, "tier", "Z"), (5, "contact_name", ""), (5, "contact_phone", "12")]
    acme = next(c for c in run(SAM, op.list_customers, {})["items"] if c["name"] == "Acme")
    assert (acme["owner_id"], acme["city"], acme["tier"]) == (SAM.user_id, "Hangzhou", "A")
    contacts = run(SAM, op.list_contacts, acme["id"], {})["items"]
    assert [(c["name"], c["phone"], c["is_primary"]) for c in contacts] == [
        ("Li Lei", "+86 138 0000 1111", True)]
    assert outbox_types(run.factory).count("customer.created") == 2


def test_atomic_stores_nothing_when_a_row_is_invalid(run):
    job = imported(run, SAM, ROWS)
    assert job["status"] == "failed" and counts(job) == (0, 0, 2, 2)
    assert "nothing was imported" in job["message"]
    assert names(run) == [] and outbox_types(run.factory) == []
    assert [e["row"] for e in job["errors"]] == [3, 5, 5]
    valid = imported(run, SAM, [ROWS[0], ROWS[2]])
    assert valid["status"] == "succeeded" and counts(valid) == (2, 0, 0, 0)
    assert names(run) == ["Acme", "Gamma"]


@pytest.mark.parametrize("atomic", [True, False])
def test_a_dry_run_stores_nothing_and_counts_what_an_import_does(run, atomic):
    rows = ROWS + [["acme", "Hangzhou", "", "", "", ""]]  # a duplicate of an earlier row
    dry = imported(run, SAM, rows, atomic=atomic, dry_run=True, on_duplicate="skip")
    assert (stored(run, Customer), stored(run, FieldChange), outbox_types(run.factory)) == (
        0, 0, [])
    real = imported(run, SAM, rows, atomic=atomic, on_duplicate="skip")
    assert counts(dry) == counts(real)
    assert dry["status"] == real["status"] and dry["message"].startswith("A dry run")
    assert [e["row"] for e in dry["errors"]] == [e["row"] for e in real["errors"]]


def test_duplicates_skip_update_or_create_within_the_file_and_against_stored(run):
    run(SAM, op.create_customer, {"name": "ACME Co., Ltd.", "city": "Hangzhou", "tier": "A"})
    header = ["name", "city"]
    rows = [["Acme", "Wenzhou"], ["Beta", "Ningbo"], ["beta", "Suzhou"]]
    skip = imported(run, SAM, rows, header=header, on_duplicate="skip")
    assert counts(skip) == (1, 0, 2, 0)
    update = imported(run, SAM, rows, header=header, on_duplicate="update")
    assert counts(update) == (0, 2, 1, 0)  # beta: Ningbo then Suzhou; acme renamed, moved
    customers = {c["name"]: c for c in run(SAM, op.list_customers, {})["items"]}
    assert (customers["Acme"]["city"], customers["Acme"]["tier"]) == ("Wenzhou", "A")
    assert customers["beta"]["city"] == "Suzhou"
    history = run(SAM, op.customer_history, customers["Acme"]["id"], {})["items"]
    assert {(h["field"], h["old_value"], h["new_value"]) for h in history
            if h["action"] == "updated"} == {("name", "ACME Co., Ltd.", "Acme"),
                                             ("city", "Hangzhou", "Wenzhou")}
    create = imported(run, SAM, rows, header=header, on_duplicate="create")
    assert counts(create) == (3, 0, 0, 0)
    assert names(run) == ["Acme", "Acme", "Beta", "beta", "beta"]


@pytest.mark.parametrize("batch", [2, import_jobs.BATCH])
def test_a_batch_finds_duplicates_as_row_by_row_would(run, monkeypatch, batch):
    """Rows stored a batch at a time match what a row-by-row import would: earlier rows of
    the same batch, and what an update earlier in it changed."""
    monkeypatch.setattr(import_jobs, "BATCH", batch)
    zeta = run(SAM, op.create_customer_with_contact, {
        "customer": {"name": "Zeta"}, "contact": {"name": "Zed", "phone": "0571-1111"}},
        "zeta-key")
    header = ["name", "city", "contact_name", "contact_phone"]
    rows = [["Gamma", "A", "", ""], ["gamma", "B", "", ""],  # a new row, then its twin
            ["Zeta", "C", "Zed", "0571 2222"],  # Zeta's contact gets a new phone
            ["Other", "D", "Zoe", "+86 571 2222"]]  # matches Zeta by that new phone
    job = imported(run, SAM, rows, header=header, on_duplicate="update")
    assert counts(job) == (1, 3, 0, 0)
    customers = {c["name"]: c for c in run(SAM, op.list_customers, {})["items"]}
    assert sorted(customers) == ["Other", "gamma"]
    assert customers["gamma"]["city"] == "B"
    assert customers["Other"]["id"] == zeta["customer_id"]
    again = imported(run, SAM, rows, header=header, on_duplicate="skip")
    assert counts(again) == (0, 0, 4, 0)
    assert stored(run, Customer) == 2


def test_a_batch_is_created_in_the_files_order(run):
    """Rows added together keep the file's order as their creation order (what lists and
    exports sort by): an export of an import gives the rows back as they were."""
    names = [f"Order {letter}" for letter in "qwertyuiopasdfghjklzxcvbnm"]
    job = imported(run, SAM, [[name] for name in names], header=["name"])
    assert counts(job) == (len(names), 0, 0, 0)
    listed = run(SAM, op.list_customers, {"sort": "created_at", "per_page": 100})["items"]
    assert [customer["name"] for customer in listed] == names


def test_an_update_matching_several_customers_is_that_rows_error(run):
    for _ in range(2):
        run(SAM, op.create_customer, {"name": "Twin", "allow_duplicate": True})
    job = imported(run, SAM, [["Twin", "X"]], header=["name", "city"], on_duplicate="update")
    assert counts(job) == (0, 0, 0, 1) and "matches 2 customers" in job["errors"][0]["message"]


def test_owners_and_teams_as_for_created_records(run):
    header = ["name", "owner_id"]
    mine = imported(run, SAM, [["Mine", ""], ["Sara's", SARA.user_id]], header=header,
                    atomic=False)
    assert counts(mine) == (1, 0, 0, 1)
    assert "Sales users own" in mine["errors"][0]["message"]
    given = imported(run, MARIA, [["For Sam", SAM.user_id]], header=header)
    assert counts(given) == (1, 0, 0, 0)
    assert [c["name"] for c in run(SAM, op.list_customers, {})["items"]] == ["For Sam", "Mine"]
    with pytest.raises(Forbidden):
        send(run, ALEX, [["x", ""]], header=header)


def test_a_row_with_too_many_or_too_few_cells_is_its_error(run):
    job = imported(run, SAM, [["Acme", "A"], ["Beta"], ["Gamma", "G", "extra"]],
                   header=["name", "city"], atomic=False)
    assert counts(job) == (1, 0, 0, 2)
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, None), (4, None)]
    assert "3 cells where the header has 2" in job["errors"][1]["message"]


def test_rows_arrive_in_chunks_each_once(run):
    rows = [[f"Customer {n}", "C"] for n in range(25)]
    job = imported(run, SAM, rows, header=["name", "city"], chunk=10)
    assert counts(job) == (25, 0, 0, 0) and stored(run, Customer) == 25
    first = run(SAM, IMPORTER.create, {
        "entity": "customers", "header": ["name"], "total": 2, "empty_rows": 0,
        "options": {}, "rows": [[2, ["a"]]], "last": False})
    with pytest.raises(NotFound):
        run(SARA, IMPORTER.add_rows, first["id"], {"rows": [[3, ["b"]]], "last": True})
    with pytest.raises(ValidationError) as short:
        run(SAM, IMPORTER.add_rows, first["id"], {"rows": [], "last": True})
    assert "2 rows; 1 arrived" in short.value.details["rows"][0]
    done = run(SAM, IMPORTER.add_rows, first["id"], {"rows": [[3, ["b"]]], "last": True})
    assert done["status"] == "queued"
    with pytest.raises(Conflict):
        run(SAM, IMPORTER.add_rows, first["id"], {"rows": [[4, ["c"]]], "last": True})


def test_a_header_that_cannot_be_imported_stores_no_job(run):
    with pytest.raises(ValidationError) as error:
        send(run, SAM, [["Acme"]], header=["city"])
    assert "No column for name" in error.value.details["file"][0]
    assert stored(run, ImportJob) == 0


def test_a_job_is_seen_by_its_creator_and_admins(run):
    job = imported(run, SAM, [["Acme", "A"]], header=["name", "city"])
    assert run(ADMIN, IMPORTER.get, job["id"])["id"] == job["id"]
    for other in (SARA, MARIA):
        with pytest.raises(NotFound):
            run(other, IMPORTER.get, job["id"])
        assert run(other, IMPORTER.list, {})["total"] == 0
    assert [j["id"] for j in run(SAM, IMPORTER.list, {})["items"]] == [job["id"]]
    assert run(ADMIN, IMPORTER.list, {})["total"] == 1


def test_failed_rows_page_as_they_were(run):
    rows = [["Acme", "Z"], ["Beta", "A"], ["Gamma", "Q"]]
    job = imported(run, SAM, rows, header=["name", "tier"], atomic=False)
    first = run(SAM, IMPORTER.failed_rows, job["id"], {"limit": 1})
    assert (first["header"], first["items"][0]["cells"], first["next"]) == (
        ["name", "tier"], ["Acme", "Z"], 2)
    rest = run(SAM, IMPORTER.failed_rows, job["id"], {"after": first["next"]})
    assert [(i["row"], i["cells"]) for i in rest["items"]] == [(4, ["Gamma", "Q"])]
    assert rest["next"] is None


class Killed(BaseException):
    """The worker's process dying mid-job."""


def kill_at(monkeypatch, name):
    """Make the target die on the batch with the row named ``name`` (once)."""
    target = IMPORTER.target
    original = target.store

    def store(uow, checked, on_duplicate, services):
        if any(row["new"].fields["name"] == name for row in checked) and not store.died:
            store.died = True
            raise Killed()
        return original(uow, checked, on_duplicate, services)

    store.died = False
    monkeypatch.setattr(target, "store", store)


def stall(run, job_id):
    """What the clock does to a job whose worker died: its heartbeat grows old."""
    with run.factory() as session, session.begin():
        session.get(ImportJob, uuid.UUID(job_id)).heartbeat_at -= (
            import_jobs.STALLED_AFTER + dt.timedelta(seconds=1))


@pytest.mark.parametrize("atomic", [False, True])
def test_a_job_whose_worker_died_is_resumed_never_half_counted(run, monkeypatch, atomic):
    monkeypatch.setattr(import_jobs, "BATCH", 3)
    rows = [[f"Customer {n:02}", "C"] for n in range(10)]
    job = send(run, SAM, rows, header=["name", "city"], atomic=atomic)
    kill_at(monkeypatch, "Customer 07")
    with pytest.raises(Killed):
        IMPORTER.run_queued(timer(run))
    halfway = run(SAM, IMPORTER.get, job["id"])
    assert halfway["status"] == "running"
    assert stored(run, Customer) == (6 if not atomic else 0) == sum(
        halfway["counts"][name] for name in ("created", "updated", "skipped", "failed"))
    assert not IMPORTER.run_queued(timer(run))  # alive, as far as anyone knows
    stall(run, job["id"])
    assert IMPORTER.run_queued(timer(run))
    done = run(SAM, IMPORTER.get, job["id"])
    assert done["status"] == "succeeded" and counts(done) == (10, 0, 0, 0)
    assert names(run) == sorted(row[0] for row in rows)
    assert outbox_types(run.factory).count("customer.created") == 10


@pytest.mark.parametrize("atomic", [False, True])
def test_an_unexpected_error_in_a_check_stops_the_job_never_half_counted(run, monkeypatch,
                                                                          atomic):
    """A check that fails otherwise than by refusing its row (a bug, a lost connection) ends
    the job as failed, the rows not stored failed, whichever session checked them."""
    monkeypatch.setattr(import_jobs, "BATCH", 3)
    target = IMPORTER.target
    original = target.check

    def check(uow, cells):
        if cells["name"] == "Customer 07":
            raise RuntimeError("lost")
        return original(uow, cells)

    monkeypatch.setattr(target, "check", check)
    job = send(run, SAM, [[f"Customer {n:02}", "C"] for n in range(10)],
               header=["name", "city"], atomic=atomic)
    assert IMPORTER.run_queued(timer(run))
    failed = run(SAM, IMPORTER.get, job["id"])
    assert failed["status"] == "failed" and "(RuntimeError)" in failed["message"]
    kept = 0 if atomic else 6  # the batches before the row's: one transaction each
    assert counts(failed) == (kept, 0, 0, 10 - kept)
    assert stored(run, Customer) == kept
    assert outbox_types(run.factory).count("customer.created") == kept


def test_a_job_interrupted_too_often_fails_its_remaining_rows(run, monkeypatch):
    job = send(run, SAM, [["Acme", "A"], ["Beta", "B"]], header=["name", "city"])
    with run.factory() as session, session.begin():
        found = session.scalars(sa.select(ImportJob)).one()
        found.attempts = import_jobs.MAX_ATTEMPTS
    assert not IMPORTER.run_queued(timer(run))
    failed = run(SAM, IMPORTER.get, job["id"])
    assert failed["status"] == "failed" and counts(failed) == (0, 0, 0, 2)
    assert "interrupted 5 times" in failed["message"]


def test_contacts_and_history_of_an_update(run):
    made = run(SAM, op.create_customer_with_contact, {
        "customer": {"name": "Acme"}, "contact": {"name": "Li", "phone": "+86 138 0000 1111"}},
        "k")
    job = imported(run, SAM, [["Acme", "Li Lei", "13800001111"]],
                   header=["name", "contact_name", "contact_phone"], on_duplicate="update")
    assert counts(job) == (0, 1, 0, 0)
    with run.factory() as session:
        contacts = session.scalars(sa.select(Contact).where(
            Contact.customer_id == uuid.UUID(made["customer_id"]))).all()
    assert [(c.name, c.phone, c.is_primary) for c in contacts] == [("Li Lei", "13800001111", True)]


def test_a_job_on_postgresql_analyses_the_stale_tables_it_compares_rows_with(run_postgres):
    """Right after a bulk change the planner may think the customers table small, and each
    batch's duplicate lookup would then read every row: a job first ANALYZEs the tables it
    compares rows with once as many rows changed as autovacuum waits for, and not else."""
    def stats():
        with run_postgres.factory() as session:
            return {name: (analyses, changed) for name, analyses, changed in session.execute(
                sa.text("SELECT relname, analyze_count, n_mod_since_analyze "
                        "FROM pg_stat_user_tables WHERE relname IN ('customers', 'contacts')"))}

    def reported(changed: int):  # the statistics collector tells a moment after a commit
        return wait_until(lambda: (now := stats()) and all(
            rows >= changed for _, rows in now.values()) and now, timeout=10,
            message=f"{changed} changed rows reported")

    def bulk(first: int, count: int):
        rows = [[f"Bulk {n} Ltd", "", "", f"Contact {n}", f"+86 138 0000 {n:04d}", ""]
                for n in range(first, first + count)]
        assert imported(run_postgres, SAM, rows)["counts"]["created"] == count

    bulk(0, 120)
    stale = reported(120)
    bulk(120, 1)  # its job found 120 changed rows: analysed first
    analysed = wait_until(lambda: (now := stats()) and all(
        now[table][0] > stale[table][0] for table in now) and now, timeout=10,
        message="customers and contacts analysed")
    bulk(121, 1)  # one row changed since: not analysed
    assert {table: analyses for table, (analyses, _) in reported(2).items()} == {
        table: analyses for table, (analyses, _) in analysed.items()}


def test_batches_checked_in_slices_keep_each_rows_outcome_and_the_files_order(run, monkeypatch):
    """A whole-file job checks and prepares a batch a slice at a time (on PostgreSQL beside
    the writes of the batch before): outcomes, errors, skipped twins, creation order and
    each customer's history are those of the file, across slices and batches."""
    monkeypatch.setattr(import_jobs, "BATCH", 3)
    monkeypatch.setattr(import_jobs, "CHECK_SLICE", 2)
    rows = [[f"Slice {n}", "", "Z" if n in (2, 5) else "", "", "", ""] for n in range(7)]
    rows.append(["slice 1", "", "", "", "", ""])  # a twin of row 3, two batches later
    dry = imported(run, SAM, rows, atomic=False, dry_run=True)
    assert counts(dry) == (5, 0, 1, 2)
    assert [(e["row"], e["column"]) for e in dry["errors"]] == [(4, "tier"), (7, "tier")]
    valid = [row for n, row in enumerate(rows) if n not in (2, 5)]
    assert counts(imported(run, SAM, valid)) == (5, 0, 1, 0)
    with run.factory() as session:
        customers = session.execute(sa.select(Customer.id, Customer.name).order_by(
            Customer.created_at)).all()
        assert [name for _, name in customers] == [row[0] for row in valid[:5]]
        created = dict(session.execute(sa.select(FieldChange.entity_id, FieldChange.customer_id)
                                       .where(FieldChange.action == "created")).all())
        assert created == {customer_id: customer_id for customer_id, _ in customers}



def test_an_upload_never_finished_is_dropped_by_the_hourly_prune_once_an_hour_old(run):
    def started():
        return run(SAM, IMPORTER.create, {
            "entity": "customers", "file_name": "customers.csv", "header": HEADER, "total": 2,
            "empty_rows": 0, "options": {}, "rows": [[2, ["a"]]], "last": False})["id"]

    abandoned, fresh = started(), started()
    with run.factory() as session, session.begin():
        session.execute(sa.update(ImportJob).where(ImportJob.id == uuid.UUID(abandoned)).values(
            created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1, minutes=1)))
    assert not IMPORTER.run_queued(timer(run))  # a tick of the timer drops nothing
    assert stored(run, ImportJob) == 2
    with run.factory() as session, session.begin():
        assert IMPORTER.prune(session, cutoff=dt.datetime.now(dt.timezone.utc)) == {
            "import_rows": 1, "import_jobs": 1}
    with run.factory() as session:
        assert [str(job.id) for job in session.scalars(sa.select(ImportJob))] == [fresh]
