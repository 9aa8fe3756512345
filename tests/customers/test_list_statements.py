"""The customers list's statements are built once per shape (the viewer's scope, the filters
and search named, the order) and serve every caller of that shape: what each caller sees, and
the values of their filters, search and page, are bound when the statement runs. On SQLite
and PostgreSQL."""
import datetime as dt
import uuid

import pytest

from common.actor import INTEGRATION, Actor
from services.customers import exports, operations as op
from tests.customers.conftest import ADMIN, ALEX, EAST, LONER, MARIA, SAM, SARA

SYSTEM = Actor.system("test")
API_KEY = Actor(user_id=None, role=INTEGRATION, scopes=("customers:read",))
NO_ID_REP = Actor(user_id=None, role="sales", team_id=EAST)
NO_ID_MANAGER = Actor(user_id=None, role="manager", team_id=EAST)
EVERY = ["east, nobody's", "maria's", "nobody's", "sam's", "sara's"]


@pytest.fixture(params=["sqlite", "postgresql"])
def either(request):
    return request.getfixturevalue("run" if request.param == "sqlite" else "run_postgres")


def names(run, actor, query=None, *, trash=False):
    listed = run(actor, op.list_trash if trash else op.list_customers, query or {})
    return sorted(item["name"] for item in listed["items"])


def exported(run, actor, query):
    return sorted(row["name"] for row in run(actor, exports.export_page, query, None, 100)["items"])


def test_one_statement_serves_every_viewer_of_a_scope_each_seeing_what_they_may(either):
    run = either
    for label, owner, team in [("sam's", SAM.user_id, EAST), ("maria's", MARIA.user_id, EAST),
                               ("east, nobody's", None, EAST), ("sara's", SARA.user_id, None),
                               ("nobody's", None, None)]:
        run(ADMIN, op.create_customer, {"name": label, "allow_duplicate": True,
                                        "owner_id": owner, "team_id": team})
    op._list_statements.cache_clear()
    assert names(run, SAM) == ["sam's"]
    assert names(run, SARA) == ["sara's"]
    assert names(run, LONER) == []  # a manager with no team sees their own: none
    misses = op._list_statements.cache_info().misses
    assert misses == 1  # three callers of the scope "own", one statement
    assert names(run, MARIA) == ["east, nobody's", "maria's", "sam's"]
    for sees_all in (ALEX, ADMIN, SYSTEM, API_KEY):
        assert names(run, sees_all) == EVERY, sees_all.role
    # A caller with no user id who does not see everything owns nothing: not even the
    # customers nobody owns, in the list, the export and a read by id alike.
    for no_id in (NO_ID_REP, NO_ID_MANAGER):
        assert names(run, no_id) == [] and exported(run, no_id, {}) == []
    assert op._list_statements.cache_info().misses == 4  # own, team, all, none


def test_filters_search_trash_and_page_are_the_callers_own(either):
    run = either
    for name, city, tags in [("50% Off", "杭州", ["vip"]), ("500 Ltd", "杭州", []),
                             ("50_50 Co", "Berlin", ["vip"]), ("a/b Trading", "Berlin", [])]:
        run(SAM, op.create_customer, {"name": name, "city": city, "tags": tags,
                                      "allow_duplicate": True})
    op._list_statements.cache_clear()
    assert names(run, SAM, {"city": "杭州"}) == ["50% Off", "500 Ltd"]
    assert names(run, SAM, {"city": "Berlin"}) == ["50_50 Co", "a/b Trading"]
    # A search matches its text as it is: % and _ are no wildcards, / no escape; the export
    # searches alike.
    for needle, found in [("50%", ["50% Off"]), ("0_", ["50_50 Co"]), ("a/b", ["a/b Trading"]),
                          ("50", ["50% Off", "500 Ltd", "50_50 Co"])]:
        assert names(run, SAM, {"q": needle}) == found, needle
        assert exported(run, SAM, {"q": needle}) == found, needle
    first = run(SAM, op.list_customers, {"per_page": 3, "sort": "name"})
    second = run(SAM, op.list_customers, {"per_page": 3, "page": 2, "sort": " name,-name,"})
    assert [item["name"] for item in first["items"]] == ["50% Off", "500 Ltd", "50_50 Co"]
    assert [item["name"] for item in second["items"]] == ["a/b Trading"]
    assert first["total"] == second["total"] == 4
    # city twice, search four times, the page twice (the same order, written two ways).
    assert op._list_statements.cache_info().misses == 3

    # Typed values bound: ids, times, a tag.
    other_owner = run(ADMIN, op.create_customer, {"name": "Maria's own", "owner_id": MARIA.user_id,
                                                  "team_id": EAST, "allow_duplicate": True})
    assert names(run, ADMIN, {"owner_id": MARIA.user_id}) == ["Maria's own"]
    assert names(run, ADMIN, {"owner_id": str(uuid.uuid4())}) == []
    assert names(run, ADMIN, {"team_id": EAST, "tag": "vip"}) == ["50% Off", "50_50 Co"]
    made = dt.datetime.fromisoformat(other_owner["created_at"])
    later = (made + dt.timedelta(seconds=1)).isoformat()
    assert names(run, ADMIN, {"created_from": made.isoformat()}) == ["Maria's own"]
    assert "Maria's own" not in names(run, ADMIN, {"created_to": (made - dt.timedelta(seconds=1)).isoformat()})
    assert names(run, ADMIN, {"created_from": later}) == []

    # The trash is a shape of its own: what is in it, not what is out of it.
    run(SAM, op.delete_customer, run(SAM, op.list_customers, {"q": "a/b"})["items"][0]["id"])
    assert names(run, SAM, trash=True) == ["a/b Trading"]
    assert "a/b Trading" not in names(run, SAM)
