"""A read's unit of work (``UnitOfWork(read_only=True)``, what ``ServiceDatabase.read``
runs): on PostgreSQL its statements run without a transaction around them, it can neither
commit nor flush a change, and the pooled connection it used serves the next write inside a
transaction again; on SQLite it reads as any unit of work."""
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.actor import Actor
from common.db import create_db_engine, make_base, make_session_factory
from common.uow import UnitOfWork
from tests.support.stack import scratch_database

Base, platform = make_base(directory=False)
SAM = Actor(user_id=str(uuid.uuid4()), role="sales")


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))



@pytest.fixture(scope="module")
def postgres():
    with scratch_database("read_uow", metadata=Base.metadata) as engine:
        yield engine


@pytest.fixture
def factory(postgres):
    # One pooled connection: the read and the write after it use the same one.
    engine = create_db_engine(postgres.url, pool_size=1, max_overflow=0)
    yield make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(Note))
    engine.dispose()


def unit(factory, read_only: bool) -> UnitOfWork:
    return UnitOfWork(factory, platform, "tests", SAM, read_only=read_only)


def in_transaction(uow: UnitOfWork) -> bool:
    """Whether the statement runs inside a transaction begun before it: a transaction's
    start time (``now()``) is then earlier than the statement's own."""
    uow.session.execute(sa.text("SELECT 1"))
    return uow.session.scalar(sa.text("SELECT now() <> statement_timestamp()"))


def test_a_read_runs_its_statements_without_a_transaction(factory):
    with unit(factory, read_only=False) as uow:
        assert in_transaction(uow)
    with unit(factory, read_only=True) as uow:
        assert not in_transaction(uow)


def test_a_write_after_a_read_on_the_same_connection_is_one_transaction_again(factory):
    with unit(factory, read_only=True) as uow:
        uow.session.scalars(sa.select(Note)).all()
    with pytest.raises(ZeroDivisionError):
        with unit(factory, read_only=False) as uow:
            assert in_transaction(uow)
            uow.session.add(Note(id=1, text="half-written"))
            uow.session.flush()
            1 / 0  # the use case fails after its first write
    with unit(factory, read_only=True) as uow:
        assert uow.session.scalars(sa.select(Note)).all() == []


def test_a_read_cannot_write(factory):
    with unit(factory, read_only=True) as uow:
        uow.session.add(Note(id=2, text="by a read"))
        with pytest.raises(RuntimeError, match="cannot write"):
            uow.session.flush()
    with unit(factory, read_only=True) as uow:
        uow.session.add(Note(id=3, text="by a read"))
        with pytest.raises(RuntimeError, match="cannot commit"):
            uow.commit()
    for statement in (sa.insert(Note).values(id=5, text="by a read"),
                      sa.update(Note).values(text="changed"), sa.delete(Note)):
        with unit(factory, read_only=True) as uow:
            with pytest.raises(RuntimeError, match="cannot write"):
                uow.session.execute(statement)
    with unit(factory, read_only=True) as uow:
        assert uow.session.scalars(sa.select(Note)).all() == []


def test_a_read_on_sqlite():
    engine = create_db_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with unit(factory, read_only=False) as uow:
        uow.session.add(Note(id=4, text="stored"))
        uow.commit()
    with unit(factory, read_only=True) as uow:
        assert [note.text for note in uow.session.scalars(sa.select(Note))] == ["stored"]
    engine.dispose()


def test_a_read_that_gives_its_connection_back_early_leaves_it_for_a_write(factory):
    """However a read's connection goes back to the pool (here its use case rolls back
    half-way, which returns it), it goes back out of autocommit."""
    with unit(factory, read_only=True) as uow:
        assert not in_transaction(uow)
        uow.rollback()
        assert uow.session.scalars(sa.select(Note)).all() == []
    with unit(factory, read_only=False) as uow:
        assert in_transaction(uow)
