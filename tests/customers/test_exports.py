"""Pages of an export, driven without a broker: every visible customer once, in creation
order, flattened to the transfer columns with its primary contact; bad cursors refused."""
import pytest

from common.errors import ValidationError
from services.customers import exports
from services.customers import operations as op
from services.customers.schemas import TRANSFER_COLUMNS
from tests.customers.conftest import ALEX, SAM, SARA


def every_row(run, actor, query, limit):
    rows, after, pages = [], None, 0
    while True:
        page = run(actor, exports.export_page, query, after, limit)
        rows += page["items"]
        pages += 1
        if page["next"] is None:
            return rows, pages
        after = page["next"]


def test_pages_chain_over_every_visible_customer_once_in_creation_order(run):
    made = [run(SAM, op.create_customer, {"name": f"Sam {n}", "tags": ["b", "a"],
                                          "custom_fields": {"n": n}}) for n in range(7)]
    run(SARA, op.create_customer, {"name": "Sara's"})
    run(SAM, op.create_contact, made[0]["id"], {"name": "Old", "phone": "+86 1"})
    run(SAM, op.create_contact, made[0]["id"], {"name": "Li", "phone": "0571 2",
                                                "email": "li@example.cn", "is_primary": True})

    rows, pages = every_row(run, SAM, {}, 3)
    assert pages == 3
    assert [row["name"] for row in rows] == [customer["name"] for customer in made]
    assert list(rows[0]) == [field for field, *_ in TRANSFER_COLUMNS]
    assert rows[0]["tags"] == ["a", "b"] and rows[0]["custom_fields"] == {"n": 0}
    assert (rows[0]["contact_name"], rows[0]["contact_phone"], rows[0]["contact_email"]) == (
        "Li", "0571 2", "li@example.cn")
    assert rows[1]["contact_name"] is None
    assert rows[0]["owner_id"] == SAM.user_id
    assert len(every_row(run, ALEX, {}, 1000)[0]) == 8
    assert every_row(run, SARA, {"q": "Sam"}, 10)[0] == []


def test_bad_arguments_are_refused_naming_them(run):
    for query, after, limit, field in [({"page": 2}, None, 10, "page"),
                                       ({}, "not a cursor", 10, "after"),
                                       ({}, "2026-01-01T00:00:00|" + "0" * 32, 10, "after"),
                                       ({}, None, 0, "limit"), ({}, None, 10_000, "limit")]:
        with pytest.raises(ValidationError) as error:
            run(SAM, exports.export_page, query, after, limit)
        assert field in error.value.details
