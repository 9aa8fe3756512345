"""create_customer_with_contact: one customer per idempotency key, whatever the retries."""
import pytest

from common.errors import Forbidden
from services.customers import operations as op
from tests.customers.conftest import ALEX, SAM, outbox_types

PAYLOAD = {"customer": {"name": "Acme", "province": "Zhejiang"},
           "contact": {"name": "Li Lei", "email": "li@acme.cn"}}


def test_a_retry_with_the_same_key_makes_nothing_new(run):
    first = run(SAM, op.create_customer_with_contact, PAYLOAD, "sales.lead-conversion:1")
    again = run(SAM, op.create_customer_with_contact, PAYLOAD, "sales.lead-conversion:1")
    assert again == first
    assert run(SAM, op.list_customers, {})["total"] == 1
    contacts = run(SAM, op.list_contacts, first["customer_id"], {})["items"]
    assert [(c["id"], c["is_primary"]) for c in contacts] == [(first["contact_id"], True)]
    assert outbox_types(run.factory) == ["customer.created", "contact.created"]
    other = run(SAM, op.create_customer_with_contact, PAYLOAD, "sales.lead-conversion:2")
    assert other["customer_id"] != first["customer_id"]


def test_access_rules_still_apply(run):
    with pytest.raises(Forbidden):
        run(ALEX, op.create_customer_with_contact, PAYLOAD, "k")
    assert run(SAM, op.list_customers, {})["total"] == 0
