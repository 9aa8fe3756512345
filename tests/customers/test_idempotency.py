"""A write runs once per key (common.idempotency), shown on the customers use cases."""
import pytest
import sqlalchemy as sa

from common import idempotency
from common.errors import Conflict
from common.uow import UnitOfWork
from services.customers import operations as op
from services.customers.models import Customer, platform
from tests.customers.conftest import SAM, outbox_types


def run_once(run, key, use_case, *args):
    with UnitOfWork(run.factory, platform, "customers", SAM) as uow:
        return idempotency.run_once(uow, key, use_case, *args)


def customers(run) -> int:
    with run.factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Customer))


def test_a_repeated_request_answers_the_first_result_and_writes_nothing(run):
    first = run_once(run, "k1", op.create_customer, {"name": "Once"})
    again = run_once(run, "k1", op.create_customer, {"name": "Once"})
    assert again == first
    assert customers(run) == 1
    assert outbox_types(run.factory) == ["customer.created"]


def test_the_same_key_for_another_request_is_a_conflict(run):
    run_once(run, "k2", op.create_customer, {"name": "First"})
    with pytest.raises(Conflict) as reused:
        run_once(run, "k2", op.create_customer, {"name": "Second"})
    assert "another request" in reused.value.message
    assert customers(run) == 1


def test_a_failed_request_stores_nothing_and_may_run_again(run):
    def fails_after_commit(uow, payload):
        op.create_customer(uow, payload)  # its commit is held until the answer is stored
        raise RuntimeError("the process died here")

    with pytest.raises(RuntimeError):
        run_once(run, "k3", fails_after_commit, {"name": "Lost"})
    assert customers(run) == 0 and outbox_types(run.factory) == []
    run_once(run, "k3", op.create_customer, {"name": "Lost"})  # the key was not used up
    assert customers(run) == 1
