"""An event claimed by a handler (``common.service._claim``, the first statement of
``ServiceDatabase.apply_event``): once per event and handler, and a delivery at the same
moment as another waits for the other's transaction, then finds the event claimed, or claims
it if the other rolled back."""
import threading

import pytest
import sqlalchemy as sa

from common.db import create_db_engine, make_base, make_session_factory, utcnow
from common.service import _claim
from tests.support.stack import scratch_database, wait_until

Base, platform = make_base(directory=False)
PROCESSED = platform.ProcessedEvent


@pytest.fixture(scope="module")
def postgres():
    with scratch_database("event_claim", metadata=Base.metadata) as engine:
        yield engine


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request, tmp_path):
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'claims.db'}")
        Base.metadata.create_all(engine)
    else:
        engine = create_db_engine(request.getfixturevalue("postgres").url)
    yield make_session_factory(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(PROCESSED.__table__))
        conn.execute(sa.delete(platform.ParkedEvent.__table__))
    engine.dispose()


def test_an_event_is_claimed_once_per_handler(factory):
    with factory() as session:
        assert _claim(session, platform, "e1", "reports.on_deal")
        assert not _claim(session, platform, "e1", "reports.on_deal")
        assert _claim(session, platform, "e1", "notifications.on_deal")
        session.commit()
    with factory() as session:
        assert not _claim(session, platform, "e1", "reports.on_deal")
        assert session.get(PROCESSED, ("e1", "reports.on_deal")).processed_at is not None


def test_a_claim_rolled_back_leaves_the_event_to_claim(factory):
    with factory() as session:
        assert _claim(session, platform, "e2", "h")
        session.rollback()  # the handler failed: the event is parked, not processed
        assert _claim(session, platform, "e2", "h")


def test_a_claim_clears_the_events_parked_row_with_it(factory):
    """A retry of a parked event, or a delivery again after its handler failed: the parked
    row goes when the event is applied, and stays when it is not."""
    def park(session, event_id):
        session.add(platform.ParkedEvent(event_id=event_id, handler="h", payload={},
                                         attempts=1, next_attempt_at=utcnow(),
                                         last_error="ValueError: boom"))
        session.commit()

    with factory() as session:
        park(session, "e3")
        park(session, "e4")
        assert _claim(session, platform, "e3", "h")
        session.commit()
        assert _claim(session, platform, "e4", "h")
        session.rollback()
        assert session.scalars(sa.select(platform.ParkedEvent.event_id)).all() == ["e4"]


def _waiting_on_a_lock(engine) -> int:
    # A connection a poll: pg_stat_activity is read once in a transaction.
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar()


@pytest.mark.parametrize("first_ends, second_claims", [("commit", False), ("rollback", True)])
def test_a_delivery_at_the_same_moment_waits_for_the_first(postgres, first_ends, second_claims):
    engine = create_db_engine(postgres.url)
    factory, answers = make_session_factory(engine), {}
    first, second = factory(), factory()
    try:
        assert _claim(first, platform, f"e-{first_ends}", "h")
        waiting = threading.Thread(daemon=True, target=lambda: answers.setdefault(
            "second", _claim(second, platform, f"e-{first_ends}", "h")))
        waiting.start()
        wait_until(lambda: _waiting_on_a_lock(postgres) == 1, timeout=10,
                   message="the second delivery waits on the first's row")
        assert "second" not in answers
        getattr(first, first_ends)()
        waiting.join(timeout=10)
        assert answers == {"second": second_claims}
    finally:
        first.close()  # lets a second still waiting go on
        waiting.join(timeout=10)
        second.close()
        engine.dispose()
