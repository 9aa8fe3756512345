"""The customers service layer driven directly, without a broker (SQLite in memory)."""
import uuid

import pytest
import sqlalchemy as sa

from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.uow import UnitOfWork
from services.customers.models import Base, platform
from tests.support.directory import know
from tests.support.stack import scratch_database

EAST, WEST = str(uuid.uuid4()), str(uuid.uuid4())
SAM = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=EAST)
SARA = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=WEST)
MARIA = Actor(user_id=str(uuid.uuid4()), role="manager", team_id=EAST)
LONER = Actor(user_id=str(uuid.uuid4()), role="manager", team_id=None)
ALEX = Actor(user_id=str(uuid.uuid4()), role="analyst")
ADMIN = Actor(user_id=str(uuid.uuid4()), role="admin")


def runner(engine):
    """``run(actor, use case, *args)``: the use case in a unit of work of ``actor``, on a
    customers database of ``engine`` that knows the test's actors."""
    factory = make_session_factory(engine)
    know(factory, platform, "customers", SAM, SARA, MARIA, LONER, ALEX, ADMIN)

    def run(actor, operation, *args):
        with UnitOfWork(factory, platform, "customers", actor) as uow:
            return operation(uow, *args)

    run.factory = factory
    return run


@pytest.fixture
def run():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield runner(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def customers_postgres():
    """A customers database on the test PostgreSQL for the session (emptied per test)."""
    with scratch_database("customers_unit", metadata=Base.metadata) as engine:
        yield engine


@pytest.fixture
def run_postgres(customers_postgres):
    """``run`` on PostgreSQL: what differs there (locks, a whole-file import's second
    session) runs as in the service."""
    with customers_postgres.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(
            f'"{table.name}"' for table in Base.metadata.sorted_tables)))
    yield runner(customers_postgres)
    assert customers_postgres.pool.checkedout() == 0, "a connection was not given back"


def outbox_types(factory):
    with factory() as session:
        return [row.routing_key for row in session.scalars(
            sa.select(platform.Outbox).order_by(platform.Outbox.created_at))]
