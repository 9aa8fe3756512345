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
