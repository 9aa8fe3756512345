"""The customers service layer driven directly, without a broker (SQLite in memory)."""
import uuid

import pytest
import sqlalchemy as sa

from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.uow import UnitOfWork
from services.customers.models import Base, platform
from tests.support.directory import know

EAST, WEST = str(uuid.uuid4()), str(uuid.uuid4())
SAM = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=EAST)
SARA = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=WEST)
MARIA = Actor(user_id=str(uuid.uuid4()), role="manager", team_id=EAST)
LONER = Actor(user_id=str(uuid.uuid4()), role="manager", team_id=None)
ALEX = Actor(user_id=str(uuid.uuid4()), role="analyst")
ADMIN = Actor(user_id=str(uuid.uuid4()), role="admin")


@pytest.fixture
def run():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    know(factory, platform, "customers", SAM, SARA, MARIA, LONER, ALEX, ADMIN)

    def run(actor, operation, *args):
        with UnitOfWork(factory, platform, "customers", actor) as uow:
            return operation(uow, *args)

    run.factory = factory
    yield run
    engine.dispose()


def outbox_types(factory):
    with factory() as session:
        return [row.routing_key for row in session.scalars(
            sa.select(platform.Outbox).order_by(platform.Outbox.created_at))]
