"""``common.db.sorted_json_array``: each outer row's values of a child table, sorted by the
database as ``ORDER BY`` sorts them, ``[]`` for a row with none, on SQLite and PostgreSQL;
and a page of rows reads them beside its count of all rows."""
import pytest
import sqlalchemy as sa

from common.db import create_db_engine, sorted_json_array
from common.listing import page_rows
from tests.support.stack import scratch_database

metadata = sa.MetaData()
parents = sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True))
labels = sa.Table(
    "labels", metadata,
    sa.Column("parent_id", sa.ForeignKey("parents.id"), primary_key=True),
    sa.Column("label", sa.String(40), primary_key=True),
)
LABELS = sorted_json_array(labels.c.label, labels.c.parent_id == parents.c.id).label("labels")
# Inserted out of order, with text that JSON escapes and text beyond ASCII.
GIVEN = {1: ["pear", "apple", "fig"], 2: ['say "hi"\\', "杭州", "back\nslash"], 3: []}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    if request.param == "sqlite":
        engine = create_db_engine("sqlite://")
        metadata.create_all(engine)
        yield engine
        engine.dispose()
    else:
        with scratch_database("sorted_json", metadata=metadata) as engine:
            yield engine


@pytest.fixture
def filled(engine):
    with engine.begin() as conn:
        conn.execute(sa.insert(parents), [{"id": parent} for parent in GIVEN])
        conn.execute(sa.insert(labels), [{"parent_id": parent, "label": label}
                                         for parent, given in GIVEN.items() for label in given])
    return engine


def test_each_row_has_its_values_sorted_as_order_by_sorts_them(filled):
    with filled.connect() as conn:
        got = dict(conn.execute(sa.select(parents.c.id, LABELS).order_by(parents.c.id)).all())
        for parent in GIVEN:
            assert got[parent] == conn.execute(
                sa.select(labels.c.label).where(labels.c.parent_id == parent)
                .order_by(labels.c.label)).scalars().all()
    assert got[3] == []
    assert sorted(got[1]) == got[1] == ["apple", "fig", "pear"]


@pytest.mark.parametrize("descending", [False, True])
def test_a_page_reads_the_values_of_its_rows_in_its_order_and_counts_all_rows(filled, descending):
    order = parents.c.id.desc() if descending else parents.c.id
    with filled.connect() as conn:
        rows, total = page_rows(conn, sa.select(parents.c.id).order_by(order),
                                {"page": 1, "per_page": 2}, page_columns=[LABELS],
                                key=parents.c.id)
        last, _ = page_rows(conn, sa.select(parents.c.id).order_by(order),
                            {"page": 2, "per_page": 2}, page_columns=[LABELS], key=parents.c.id)
    assert total == 3
    expected = [(parent, sorted(GIVEN[parent])) for parent in sorted(GIVEN, reverse=descending)]
    assert [tuple(row) for row in rows + last] == expected
