"""Import jobs of leads driven without a broker (the sales database migrated, on SQLite and on
PostgreSQL): a team's assignment rule, the duplicate rule of leads, owners as for captured
leads."""
import collections
import uuid

import pytest

from common import directory
from common.actor import Actor
from services.sales import leads
from services.sales.imports import IMPORTER
from services.sales.models import platform
from tests.sales.conftest import ADMIN, EAST, SAM, SARA, SYSTEM, outbox
from tests.support.directory import user_event
from tests.support.imports import TimerDatabase


@pytest.fixture(params=["sqlite", "postgresql"])
def run(request, run):
    """Every import test on SQLite and on PostgreSQL, where a whole-file job checks its next
    batch in a second session."""
    return run if request.param == "sqlite" else request.getfixturevalue("run_postgres")


def timer(run) -> TimerDatabase:
    return TimerDatabase(run.factory, platform, "sales")


def imported(run, actor, header, rows, **options) -> dict:
    job = run(actor, IMPORTER.create, {
        "entity": "leads", "header": header, "total": len(rows), "empty_rows": 0,
        "options": options, "rows": [[n, cells] for n, cells in enumerate(rows, start=2)],
        "last": True})
    assert IMPORTER.run_queued(timer(run), {"customers": run.customers})
    job = run(actor, IMPORTER.get, job["id"])
    c = job["counts"]
    assert c["total"] == c["created"] + c["updated"] + c["skipped"] + c["failed"]
    return job


def counts(job) -> tuple:
    return tuple(job["counts"][name] for name in ("created", "updated", "skipped", "failed"))


def rep(run) -> str:
    user_id = str(uuid.uuid4())

    def apply(uow):
        directory.apply_user(uow, user_event(user_id, role="sales", team_id=EAST))
        uow.commit()

    run(SYSTEM, apply)
    return user_id


def test_leads_of_a_team_go_through_its_assignment_rule(run):
    reps = [rep(run), rep(run)]
    rows = [[f"Lead {n}", f"Company {n}", EAST] for n in range(4)]
    job = imported(run, ADMIN, ["姓名", "公司", "Team ID"], rows)
    assert counts(job) == (4, 0, 0, 0)
    owners = [lead["owner_id"] for lead in run(ADMIN, leads.list_leads, {})["items"]]
    assert collections.Counter(owners) == {reps[0]: 2, reps[1]: 2}
    assert len(outbox(run.factory, "lead.created")) == 4
    assert len(outbox(run.factory, "lead.assigned")) == 4


def test_lead_duplicates_follow_on_duplicate(run):
    stored = run(SAM, leads.create_lead, run.customers, {
        "name": "Li", "company": "Acme Co., Ltd.", "city": "Hangzhou", "notes": "kept"})
    header = ["name", "company", "city", "phone"]
    rows = [["Li Lei", "ACME 有限公司", "Ningbo", ""], ["Han", "Beta", "", "+86 21 5555"],
            ["Wang", "", "", "021-5555"]]
    assert counts(imported(run, SAM, header, rows)) == (1, 0, 2, 0)
    updated = imported(run, SAM, header, rows, on_duplicate="update")
    assert counts(updated) == (0, 2, 1, 0)
    lead = run(SAM, leads.get_lead, stored["id"])
    assert (lead["name"], lead["company"], lead["city"], lead["notes"]) == (
        "Li Lei", "ACME 有限公司", "Ningbo", "kept")
    assert counts(imported(run, SAM, header, rows, on_duplicate="create")) == (3, 0, 0, 0)
    assert run(SAM, leads.list_leads, {})["total"] == 5


def test_a_reps_lead_import_is_theirs(run):
    job = imported(run, SAM, ["name", "owner_id"], [["Mine", ""], ["Hers", SARA.user_id]],
                   atomic=False)
    assert counts(job) == (1, 0, 0, 1)
    assert "Sales users own the leads" in job["errors"][0]["message"]
    assert [lead["owner_id"] for lead in run(SAM, leads.list_leads, {})["items"]] == [
        SAM.user_id]


def test_a_lead_matching_a_customer_follows_on_duplicate(run):
    """As a captured lead is: a row whose company is a customer's name is a duplicate."""
    run.customers.add(name="Acme Co., Ltd.")
    header = ["name", "company", "email"]
    rows = [["Li", "ACME 有限公司", ""], ["Han", "Beta", "han@beta.cn"]]
    assert counts(imported(run, SAM, header, rows)) == (1, 0, 1, 0)
    assert {"name": "ACME 有限公司"} in run.customers.asked
    updated = imported(run, SAM, header, rows, on_duplicate="update")
    assert counts(updated) == (0, 0, 1, 1)  # Beta: unchanged; Acme: a customer, not a lead
    assert "updates leads only" in updated["errors"][0]["message"]
    assert counts(imported(run, SAM, header, rows, on_duplicate="create")) == (2, 0, 0, 0)


def test_an_update_the_placement_rule_refuses_changes_nothing_of_the_lead(run):
    """A rep moved to another team since their lead was made may not keep it in the old team:
    the row fails, and the lead keeps every field (a non-atomic import commits the rest)."""
    stored = run(SAM, leads.create_lead, run.customers,
                 {"name": "Li", "company": "Kept Co", "city": "Hangzhou"})
    moved = Actor(user_id=SAM.user_id, role="sales", team_id=str(uuid.uuid4()))
    job = imported(run, moved, ["name", "company", "city", "Owner ID"],
                   [["Li Lei", "Kept Co", "Ningbo", SAM.user_id]], on_duplicate="update",
                   atomic=False)
    assert counts(job) == (0, 0, 0, 1)
    lead = run(SAM, leads.get_lead, stored["id"])
    assert (lead["name"], lead["city"], lead["version"]) == ("Li", "Hangzhou", stored["version"])
    assert len(outbox(run.factory, "lead.updated")) == 0
