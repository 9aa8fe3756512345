"""The sales service layer driven directly, without a broker: a SQLite file migrated by the
service's own Alembic history (copied per test), and a stand-in for the customers service."""
import shutil
import uuid

import pytest
import sqlalchemy as sa

from common import migrations
from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from common.errors import NotFound
from common.normalize import name_key
from common.uow import UnitOfWork
from services.sales.models import platform
from tests.support.stack import scratch_database

EAST, WEST = str(uuid.uuid4()), str(uuid.uuid4())
SAM = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=EAST)
SARA = Actor(user_id=str(uuid.uuid4()), role="sales", team_id=WEST)
MARIA = Actor(user_id=str(uuid.uuid4()), role="manager", team_id=EAST)
ALEX = Actor(user_id=str(uuid.uuid4()), role="analyst")
ADMIN = Actor(user_id=str(uuid.uuid4()), role="admin")
SYSTEM = Actor.system("test")


class FakeCustomers:
    """The customers service as sales sees it: idempotent create, visibility-checked get,
    duplicates by name."""

    def __init__(self):
        self.by_key = {}
        self.customers = {}  # id -> payload
        self.hidden = set()
        self.asked = []  # the duplicate queries

    def add(self, customer_id=None, hidden=False, name="existing") -> str:
        customer_id = customer_id or str(uuid.uuid4())
        self.customers[customer_id] = {"name": name}
        if hidden:
            self.hidden.add(customer_id)
        return customer_id

    def get_customer(self, customer_id):
        if customer_id not in self.customers or customer_id in self.hidden:
            raise NotFound(f"No customer with id {customer_id}.")
        return {"id": customer_id, **self.customers[customer_id]}

    def find_duplicates(self, query):
        self.asked.append(query)
        return {"items": [
            {"customer": {"id": customer_id, **customer}, "matched": ["name"]}
            for customer_id, customer in self.customers.items()
            if customer_id not in self.hidden and query.get("name")
            and name_key(customer["name"]) == name_key(query["name"])]}

    def find_duplicates_many(self, queries):
        return [self.find_duplicates(query) for query in queries]

    def create_customer_with_contact(self, payload, key):
        if key not in self.by_key:
            customer_id = self.add()
            self.customers[customer_id] = payload["customer"]
            self.by_key[key] = {"customer_id": customer_id, "contact_id": str(uuid.uuid4())}
        return self.by_key[key]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sales-template") / "sales.db"
    migrations.upgrade("sales", f"sqlite:///{path}")
    return path


def runner(engine):
    """``run(actor, use case, *args)``: the use case in a unit of work of ``actor`` on the
    sales database of ``engine``; ``run.customers`` answers for the customers service."""
    factory = make_session_factory(engine)

    def run(actor, operation, *args):
        with UnitOfWork(factory, platform, "sales", actor) as uow:
            return operation(uow, *args)

    run.factory = factory
    run.customers = FakeCustomers()
    return run


@pytest.fixture
def run(migrated_template, tmp_path):
    path = tmp_path / "sales.db"
    shutil.copy(migrated_template, path)
    engine = create_db_engine(f"sqlite:///{path}")
    yield runner(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_postgres_template():
    """The name of a sales database migrated on the test PostgreSQL, copied by each test."""
    with scratch_database("sales_template") as engine:
        migrations.upgrade("sales", engine.url.render_as_string(hide_password=False))
        engine.dispose()
        yield engine.url.database


@pytest.fixture
def run_postgres(migrated_postgres_template):
    """``run`` on PostgreSQL: what differs there (locks, a whole-file import's second
    session) runs as in the service."""
    with scratch_database("sales_unit", template=migrated_postgres_template) as engine:
        yield runner(engine)
        assert engine.pool.checkedout() == 0, "a connection was not given back"


def outbox(factory, event_type=None) -> list[dict]:
    with factory() as session:
        rows = session.scalars(sa.select(platform.Outbox).order_by(platform.Outbox.created_at))
        return [row.payload for row in rows if event_type in (None, row.routing_key)]
