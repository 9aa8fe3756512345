"""The customers list's statements are built once per shape (the viewer's scope, the filters
and search named, the order) and serve every caller of that shape: what each caller sees, and
the values of their filters, search and page, are bound when the statement runs. On SQLite
and PostgreSQL."""
import pytest

from services.customers import access, operations as op
from services.customers.models import Customer
from tests.customers.conftest import ADMIN, ALEX, EAST, LONER, MARIA, SAM, SARA


@pytest.fixture(params=["sqlite", "postgresql"])
def either(request):
    return request.getfixturevalue("run" if request.param == "sqlite" else "run_postgres")


def names(run, actor, query=None):
    return sorted(item["name"] for item in run(actor, op.list_customers, query or {})["items"])


def test_one_statement_serves_every_viewer_of_a_scope_each_seeing_what_they_may(either):
    run = either
    for label, owner, team in [("sam's", SAM.user_id, EAST), ("maria's", MARIA.user_id, EAST),
                               ("east, nobody's", None, EAST), ("sara's", SARA.user_id, None),
                               ("nobody's", None, None)]:
        run(ADMIN, op.create_customer, {"name": label, "allow_duplicate": True,
                                        "owner_id": owner, "team_id": team})
    op._list_statements.cache_clear()

    def may_see(actor):
        def rows(uow):
            return sorted(row.name for row in uow.session.query(Customer)
                          if access.may_see(actor, row))
        return run(ADMIN, rows)

    for actor in (SAM, SARA, MARIA, LONER, ALEX, ADMIN):
        assert names(run, actor) == may_see(actor), actor.role
    assert names(run, SAM) == ["sam's"] and names(run, SARA) == ["sara's"]
    assert names(run, MARIA) == ["east, nobody's", "maria's", "sam's"]
    # Three scopes (own: sam, sara; team: maria; all: the analyst and the admin; a manager
    # with no team sees as a rep), each built once.
    assert op._list_statements.cache_info().misses == 3


def test_filters_search_and_page_are_the_callers_own(either):
    run = either
    for name, city in [("50% Off", "杭州"), ("500 Ltd", "杭州"), ("50_50 Co", "Berlin"),
                       ("a/b Trading", "Berlin")]:
        run(SAM, op.create_customer, {"name": name, "city": city, "allow_duplicate": True})
    op._list_statements.cache_clear()
    assert names(run, SAM, {"city": "杭州"}) == ["50% Off", "500 Ltd"]
    assert names(run, SAM, {"city": "Berlin"}) == ["50_50 Co", "a/b Trading"]
    # A search matches its text as it is: % and _ are no wildcards, / no escape.
    assert names(run, SAM, {"q": "50%"}) == ["50% Off"]
    assert names(run, SAM, {"q": "0_"}) == ["50_50 Co"]
    assert names(run, SAM, {"q": "a/b"}) == ["a/b Trading"]
    assert names(run, SAM, {"q": "50"}) == ["50% Off", "500 Ltd", "50_50 Co"]
    first = run(SAM, op.list_customers, {"per_page": 3, "sort": "name"})
    second = run(SAM, op.list_customers, {"per_page": 3, "page": 2, "sort": "name"})
    assert [item["name"] for item in first["items"]] == ["50% Off", "500 Ltd", "50_50 Co"]
    assert [item["name"] for item in second["items"]] == ["a/b Trading"]
    assert first["total"] == second["total"] == 4
    # city twice, search (text alone) four times, the page twice: three shapes.
    assert op._list_statements.cache_info().misses == 3
