"""A pooled PostgreSQL connection is pinged only after it rested (``common.db``): one that
rested and died meanwhile is replaced before it serves; one used a moment ago is taken as it
is, so a death within that moment fails the next statement, and a service's read then reads
again on a new connection (``ServiceDatabase.read``)."""
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from common import db
from common.actor import Actor
from common.db import create_db_engine, make_base, make_session_factory
from common.service import ServiceDatabase
from tests.support.stack import scratch_database

Base, platform = make_base(directory=False)
SAM = Actor(user_id=str(uuid.uuid4()), role="sales")


@pytest.fixture(scope="module")
def url():
    with scratch_database("rested", metadata=Base.metadata) as engine:
        yield engine.url.render_as_string(hide_password=False)


@pytest.fixture
def engine(url):
    made = create_db_engine(url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def backend_of(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SELECT pg_backend_pid()"))


def kill(engine, pid: int) -> None:
    """The server ends that connection's session (as a restart would), from another one,
    and waits (at most 5 s) until it has ended."""
    server = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with server.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    server.dispose()


def service_database(engine) -> ServiceDatabase:
    provider = SimpleNamespace(session_factory=make_session_factory(engine), platform=platform,
                               source="tests", relay=SimpleNamespace(publish_ids=None))
    return ServiceDatabase(provider, SAM)


def read_backend(database: ServiceDatabase) -> int:
    return database.read(lambda uow: uow.session.scalar(sa.text("SELECT pg_backend_pid()")))


def test_a_connection_that_rested_is_pinged_and_replaced_if_dead(engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_REST", 0.0)
    dead = backend_of(engine)
    kill(engine, dead)
    assert backend_of(engine) != dead  # no error: the ping found it dead


def test_a_pinged_connection_serves_a_read_and_a_write(engine, monkeypatch):
    """The ping leaves no transaction open behind it (a read switches to autocommit)."""
    monkeypatch.setattr(db, "PING_AFTER_REST", 0.0)
    database = service_database(engine)
    pid = read_backend(database)
    assert read_backend(database) == pid  # pinged, alive, read without a transaction
    with database.unit_of_work() as uow:
        assert uow.session.scalar(sa.text("SELECT pg_backend_pid()")) == pid
        assert uow.session.scalar(sa.text("SELECT now() <> statement_timestamp()"))


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_REST", 60.0)
    kill(engine, backend_of(engine))
    with pytest.raises(sa.exc.DBAPIError) as failed:
        backend_of(engine)
    assert failed.value.connection_invalidated
    backend_of(engine)  # the pool replaced it


def test_a_read_on_a_connection_found_dead_is_read_again(engine, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_REST", 60.0)
    database = service_database(engine)
    pid = read_backend(database)
    kill(engine, pid)
    assert read_backend(database) != pid
