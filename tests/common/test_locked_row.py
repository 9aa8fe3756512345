"""``common.records.locked_row`` and ``newer``: a row made when missing with its defaults, or
the one there untouched; locked until the transaction ends, so a writer at the same moment
waits and then finds the first one's row; an entity's version only ever moves forward."""
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Versioned, create_db_engine, make_base, make_session_factory
from common.records import locked_row, newer
from tests.support.databases import session_factories
from tests.support.stack import wait_until

Base, _ = make_base(directory=False)


class Tracked(Base):
    __tablename__ = "tracked_rows"
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    entity_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    state: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class Rule(Versioned, Base):
    """A versioned row made by locked_row (as sales' assignment rules are)."""

    __tablename__ = "locked_rules"
    team_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(20))


postgres, factory = session_factories(Base.metadata, "locked_row")


def test_a_missing_row_is_made_with_its_defaults_and_a_present_one_kept(factory):
    with factory() as session:
        made = locked_row(session, Tracked, ("deal", "d1"), version=0, state={"open": True})
        assert (made.kind, made.entity_id, made.version, made.state) == ("deal", "d1", 0, {"open": True})
        made.version = 3
        session.commit()
    with factory() as session:
        kept = locked_row(session, Tracked, ("deal", "d1"), version=0, state={})
        assert (kept.version, kept.state) == (3, {"open": True})
        assert session.scalar(sa.select(sa.func.count()).select_from(Tracked)) == 1


def test_a_versioned_row_made_starts_at_version_1_and_is_guarded_after(factory):
    with factory() as session:
        rule = locked_row(session, Rule, "east", strategy="round_robin")
        assert (rule.version, rule.strategy) == (1, "round_robin") and rule.created_at
        rule.strategy = "region"
        session.commit()
        assert rule.version == 2
    with factory() as session, factory() as other:
        mine = locked_row(session, Rule, "east", strategy="round_robin")
        theirs = other.get(Rule, "east")
        mine.strategy = "round_robin"
        session.commit()
        theirs.strategy = "manual"
        with pytest.raises(sa.orm.exc.StaleDataError):
            other.commit()


def test_newer_applies_an_entity_version_once_and_never_backwards(factory):
    with factory() as session:
        assert newer(session, Tracked, ("lead", "l1"), 2, state={}).version == 2
        assert newer(session, Tracked, ("lead", "l1"), 2, state={}) is None  # a repeat
        assert newer(session, Tracked, ("lead", "l1"), 1, state={}) is None  # late
        assert newer(session, Tracked, ("lead", "l1"), 5, state={}).version == 5
        assert newer(session, Tracked, ("lead", "l1"), None, state={}).version == 5  # unordered
        session.commit()


def test_newer_makes_a_missing_row_at_the_events_version_in_one_statement(factory):
    statements = []

    def note(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper())

    with factory() as session:
        sa.event.listen(session.bind, "before_cursor_execute", note)
        try:
            made = newer(session, Tracked, ("activity", "a1"), 1, state={"seen": True})
            session.flush()
        finally:
            sa.event.remove(session.bind, "before_cursor_execute", note)
        assert (made.version, made.state) == (1, {"seen": True})
        assert statements == ["SELECT", "INSERT"]  # no UPDATE of the version after
        assert newer(session, Tracked, ("activity", "a1"), 1, state={}) is None  # a repeat
        assert newer(session, Tracked, ("activity", "a2"), -1, state={}) is None  # unordered
        session.commit()


def test_a_row_made_for_an_event_without_an_order_holds_version_0(factory):
    with factory() as session:
        # No version: applied (it cannot be ordered); version 0: made at 0 and refused, as a
        # directory row refuses news it cannot order.
        assert newer(session, Tracked, ("note", "n1"), None, state={}).version == 0
        assert newer(session, Tracked, ("user", "u1"), 0, state={}) is None
        assert session.get(Tracked, ("user", "u1")).version == 0
        assert newer(session, Tracked, ("user", "u1"), 1, state={}).version == 1
        session.commit()


def test_a_writer_at_the_same_moment_waits_and_finds_the_first_ones_row(postgres):
    factory = make_session_factory(create_db_engine(postgres.url))
    first = factory()
    locked_row(first, Tracked, ("deal", "d2"), version=0, state={})
    first.get(Tracked, ("deal", "d2")).state = {"by": "first"}
    first.flush()  # made, not committed: the second writer's INSERT waits for it
    found = {}

    def second_writer():
        with factory() as session:
            row = locked_row(session, Tracked, ("deal", "d2"), version=0, state={"by": "second"})
            found["state"] = row.state
            session.commit()

    thread = threading.Thread(target=second_writer)
    thread.start()
    wait_until(lambda: waiting_on_a_lock(postgres), timeout=10, message="the second waits")
    assert thread.is_alive()
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert found["state"] == {"by": "first"}
    with factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Tracked)) == 1
        session.execute(sa.delete(Tracked))
        session.commit()


def waiting_on_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")))
