"""``common.db.insert_many``: rows written as one JSON recordset on PostgreSQL read back
exactly as an INSERT writes them (every type the models use, text that JSON escapes, model
defaults), a taken key is the INSERT's ``IntegrityError``, and it works beside a wait
callback (what psycogreen sets in a service)."""
import datetime as dt
import decimal
import uuid

import psycopg2.extensions
import psycopg2.extras
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import (RECORDSET_FROM_ROWS, UTCDateTime, create_db_engine, insert_many,
                       make_session_factory, new_id, update_many)
from tests.support.stack import scratch_database

metadata = sa.MetaData()


def shaped(name: str) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Uuid, primary_key=True, default=new_id),
        sa.Column("name", sa.String(200)),
        sa.Column("notes", sa.Text),
        sa.Column("data", sa.JSON),
        sa.Column("at", UTCDateTime),
        sa.Column("flag", sa.Boolean),
        sa.Column("count", sa.Integer, default=7),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("owner_id", sa.Uuid),
    )


BY_RECORDSET, BY_INSERT = shaped("by_recordset"), shaped("by_insert")


class Base(DeclarativeBase):
    metadata = metadata


class Outcome(Base):
    """Rows updated by their primary key (as an import's rows get their outcomes)."""

    __tablename__ = "outcomes"
    job_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(8))
    errors: Mapped[list | None] = mapped_column(sa.JSON)
    record_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
TEXTS = ["plain", "", "tab\there", "line\nbreak", "carriage\rreturn", "back\\slash",
         "\\N", "\\.", "杭州 有限公司, \"quoted\"", "=1+2", " spaced "]


def rows(count: int) -> list[dict]:
    at = dt.datetime(2026, 12, 6, 22, 15, 30, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return [{
        "id": uuid.UUID(int=number + 1),
        "name": TEXTS[number % len(TEXTS)],
        "notes": None if number % 3 == 0 else f"{TEXTS[(number + 1) % len(TEXTS)]}\n{number}",
        "data": None if number % 4 == 0 else {
            "tags": ["vip", "重点"], "text": TEXTS[number % len(TEXTS)], "n": number,
            "nested": {"none": None, "yes": True}},
        "at": None if number % 5 == 0 else at + dt.timedelta(seconds=number),
        "flag": [True, False, None][number % 3],
        "amount": None if number % 2 else decimal.Decimal(f"{number}.25"),
        "owner_id": None if number % 2 else uuid.UUID(int=10_000 + number),
    } for number in range(count)]


@pytest.fixture(scope="module")
def postgres_engine():
    with scratch_database("insert_many") as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request):
    engine = (create_db_engine("sqlite://") if request.param == "sqlite"
              else request.getfixturevalue("postgres_engine"))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    yield make_session_factory(engine)
    metadata.drop_all(engine)


def test_integers_past_64_bits_are_written_as_an_insert_writes_them(factory):
    # (orjson refuses them; insert_many then writes the batch with the json module)
    written = [{**row, "data": {"account": 10**24 + number, "name": "杭州"}}
               for number, row in enumerate(rows(RECORDSET_FROM_ROWS))]
    with factory() as session, session.begin():
        insert_many(session, BY_RECORDSET, written)
        session.execute(sa.insert(BY_INSERT), written)
    with factory() as session:
        recordset, inserted = read(session, BY_RECORDSET), read(session, BY_INSERT)
    assert recordset == inserted and len(recordset) == RECORDSET_FROM_ROWS
    assert dict(zip(BY_RECORDSET.c.keys(), recordset[3]))["data"] == {
        "account": 10**24 + 3, "name": "杭州"}


def read(session, table) -> list[tuple]:
    return [tuple(row) for row in session.execute(
        sa.select(table).order_by(table.c.id)).all()]


@pytest.mark.parametrize("count", [RECORDSET_FROM_ROWS - 1, RECORDSET_FROM_ROWS + 40])
def test_rows_read_back_as_an_insert_writes_them(factory, count):
    written = rows(count)
    # the model default filled for a column left out
    given = [{key: value for key, value in row.items() if key != "count"} for row in written]
    with factory() as session, session.begin():
        insert_many(session, BY_RECORDSET, given)
        session.execute(sa.insert(BY_INSERT), given)
    with factory() as session:
        recordset, inserted = read(session, BY_RECORDSET), read(session, BY_INSERT)
    assert len(recordset) == count
    assert recordset == inserted
    first = dict(zip(BY_RECORDSET.c.keys(), recordset[1]))
    assert first["name"] == TEXTS[1] and first["notes"] == f"{TEXTS[2]}\n1"
    assert first["count"] == 7 and first["flag"] is False
    assert first["data"]["nested"] == {"none": None, "yes": True}
    assert first["at"] == written[1]["at"] and first["at"].tzinfo is not None


@pytest.mark.parametrize("count", [RECORDSET_FROM_ROWS - 1, RECORDSET_FROM_ROWS + 40])
def test_rows_are_updated_by_their_primary_key(factory, count):
    job, other = uuid.uuid4(), uuid.uuid4()
    with factory() as session, session.begin():
        insert_many(session, Outcome.__table__, [
            {"job_id": owner, "number": number} for owner in (job, other)
            for number in range(1, count + 1)])
    given = [{"job_id": job, "number": number, "outcome": "failed" if number % 2 else "created",
              "errors": [{"column": "名称", "message": "tab\there"}] if number % 2 else None,
              "record_id": None if number % 2 else uuid.UUID(int=number)}
             for number in range(1, count + 1)]
    with factory() as session, session.begin():
        update_many(session, Outcome, given)
    with factory() as session:
        stored = {(row.job_id, row.number): row for row in session.scalars(sa.select(Outcome))}
    for row in given:
        kept = stored[(job, row["number"])]
        assert (kept.outcome, kept.errors, kept.record_id) == (
            row["outcome"], row["errors"], row["record_id"])
    assert all(stored[(other, number)].outcome is None for number in range(1, count + 1))


def test_a_taken_key_is_the_inserts_integrity_error_and_nothing_is_kept(factory):
    given = rows(RECORDSET_FROM_ROWS + 1)
    given[-1]["id"] = given[0]["id"]
    with pytest.raises(sa.exc.IntegrityError), factory() as session, session.begin():
        insert_many(session, BY_RECORDSET, given)
    with factory() as session:
        assert read(session, BY_RECORDSET) == []


def test_rows_are_written_beside_a_wait_callback(postgres_engine):
    metadata.drop_all(postgres_engine)
    metadata.create_all(postgres_engine)
    before = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    green = None
    try:
        # a new engine: its connections made in green mode
        green = create_db_engine(postgres_engine.url.render_as_string(hide_password=False))
        with make_session_factory(green)() as session, session.begin():
            insert_many(session, BY_RECORDSET, rows(RECORDSET_FROM_ROWS + 10))
            assert (session.scalar(sa.select(sa.func.count()).select_from(BY_RECORDSET))
                    == RECORDSET_FROM_ROWS + 10)
    finally:
        psycopg2.extensions.set_wait_callback(before)
        if green is not None:
            green.dispose()
        metadata.drop_all(postgres_engine)
