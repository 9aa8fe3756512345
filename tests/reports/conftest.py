"""The reports' read model and reports driven directly, without a broker (SQLite in memory):
events go in through the projection, reports come out of ``services.reports.reports``."""
import datetime as dt

import pytest
import sqlalchemy as sa

from common.actor import Actor
from common.db import create_db_engine, make_session_factory
from services.reports import projection, query, reports
from services.reports.models import Base
from tests.support.stack import scratch_database

ADMIN = Actor(user_id=None, role="admin")


class ReadModel:
    def __init__(self, factory):
        self.factory = factory

    def apply(self, *events):
        for event in events:
            with self.factory() as session, session.begin():
                projection.apply(session, event)

    def report(self, name, actor=ADMIN, now=None, **args):
        with self.factory() as session:
            return reports.run(session, query.parse(name, {k.replace("from_", "from"): v
                                                           for k, v in args.items()},
                                                    actor, now))


@pytest.fixture(scope="session")
def postgres_read_model():
    """A read-model database on the test PostgreSQL for the session (emptied per test)."""
    with scratch_database("reports_unit", metadata=Base.metadata) as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def read_model(request, monkeypatch):
    """The read model on SQLite in memory and on PostgreSQL: the reports' SQL runs on both."""
    monkeypatch.delenv("CRM_BUSINESS_TZ", raising=False)
    monkeypatch.delenv("CRM_CURRENCY", raising=False)
    if request.param == "sqlite":
        engine = create_db_engine("sqlite://")
        Base.metadata.create_all(engine)
        yield ReadModel(make_session_factory(engine))
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_read_model")
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(
            f'"{table.name}"' for table in Base.metadata.sorted_tables)))
    yield ReadModel(make_session_factory(engine))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
