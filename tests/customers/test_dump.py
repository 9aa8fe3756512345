"""A customer as the customers service answers it is its schema's dump."""
import uuid

from services.customers import operations
from services.customers import schemas as s
from services.customers.models import Customer
from tests.customers.conftest import ADMIN


def test_a_customer_is_dumped_as_its_schema_dumps_it(run):
    """The customers service's dump (``common.dumping.Dumper``) of a stored customer."""
    made = run(ADMIN, operations.create_customer, {
        "name": "杭州 客户", "allow_duplicate": True, "tags": ["b", "a"], "city": "杭州",
        "custom_fields": {"erp": "001", "n": 1}, "notes": None})

    def both(uow):
        row = uow.session.get(Customer, uuid.UUID(made["id"]))
        return operations.customer_out.dump(row), s.CustomerSchema().dump(row)

    fast, marshmallow = run(ADMIN, both)
    assert fast == marshmallow == made


def _listed_as_read(run):
    """Customers with two tags, one tag and none, listed: each item is the customer as read
    by id (the list reads columns and the page's tags in one query, not entities)."""
    names = {"Two tags": ["z", "a"], "One tag": ["only"], "No tag": []}
    for name, tags in names.items():
        run(ADMIN, operations.create_customer, {
            "name": name, "allow_duplicate": True, "tags": tags, "city": "杭州",
            "custom_fields": {"erp": name}})
    listed = run(ADMIN, operations.list_customers, {})["items"]
    assert sorted(item["name"] for item in listed) == sorted(names)
    for item in listed:
        assert item == run(ADMIN, operations.get_customer, item["id"])
    assert {item["name"]: item["tags"] for item in listed} == {
        "Two tags": ["a", "z"], "One tag": ["only"], "No tag": []}
    trashed = run(ADMIN, operations.delete_customer, listed[0]["id"])
    assert run(ADMIN, operations.list_trash, {})["items"] == [trashed]


def test_a_listed_customer_is_the_customer_read(run):
    _listed_as_read(run)


def test_a_listed_customer_is_the_customer_read_on_postgresql(run_postgres):
    _listed_as_read(run_postgres)
