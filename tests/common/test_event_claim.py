"""An event claimed by a handler (``common.service._claim``, the first statement of
``ServiceDatabase.apply_event``): once per event and handler, and a delivery at the same
moment as another waits for the other's transaction, then finds the event claimed, or claims
it if the other rolled back; a parked event's row goes once the event is applied."""
import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from common.db import create_db_engine, make_base, make_session_factory, utcnow
from common.actor import Actor
from common.service import ServiceDatabase, _claim
from tests.support.databases import session_factories
from tests.support.stack import wait_until

Base, platform = make_base(directory=False)
PROCESSED = platform.ProcessedEvent


postgres, factory = session_factories(Base.metadata, "event_claim")


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


def park(session, event_id):
    session.add(platform.ParkedEvent(event_id=event_id, handler="h", payload={}, attempts=1,
                                     next_attempt_at=utcnow(), last_error="ValueError: boom"))
    session.commit()


def parked(factory) -> dict:
    with factory() as session:
        return dict(session.execute(sa.select(platform.ParkedEvent.event_id,
                                              platform.ParkedEvent.attempts)).all())


def service_database(factory) -> ServiceDatabase:
    """``ServiceDatabase`` as a consumer's worker has it, on ``factory``'s database."""
    provider = SimpleNamespace(session_factory=factory, platform=platform, source="tests",
                               relay=SimpleNamespace(publish_ids=lambda ids: None))
    return ServiceDatabase(provider, Actor.system("tests"))


def test_a_claim_clears_the_events_parked_row_with_it(factory):
    """A retry of a parked event, or a delivery again after its handler failed: the parked
    row goes when the event is applied, and stays when it is not."""
    with factory() as session:
        park(session, "e3")
        park(session, "e4")
        assert _claim(session, platform, "e3", "h")
        session.commit()
        assert _claim(session, platform, "e4", "h")
        session.rollback()
        assert session.scalars(sa.select(platform.ParkedEvent.event_id)).all() == ["e4"]


def test_an_event_whose_handler_fails_is_parked_then_applied_once(factory):
    db, applied = service_database(factory), []

    def fail(uow):
        raise ValueError("boom")

    assert db.apply_event({"id": "e5", "type": "t"}, "h", fail) == "parked"
    assert parked(factory) == {"e5": 1}
    assert db.apply_event({"id": "e5", "type": "t"}, "h", applied.append) == "applied"
    assert parked(factory) == {} and len(applied) == 1
    assert db.apply_event({"id": "e5", "type": "t"}, "h", applied.append) == "duplicate"
    assert len(applied) == 1


def test_a_repeat_clears_a_parked_row_left_by_a_delivery_that_failed_meanwhile(factory):
    """Two deliveries at once: the first fails, the second (which waited for it) applies the
    event, and the first parks it before the second commits. The next delivery, a retry
    of the parked row, finds the event applied and clears the row."""
    with factory() as session:
        park(session, "e6")
        session.add(PROCESSED(event_id="e6", handler="h", processed_at=utcnow()))
        session.commit()
    applied = []
    assert service_database(factory).apply_event({"id": "e6"}, "h", applied.append) == "duplicate"
    assert applied == [] and parked(factory) == {}


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
    first, second, waiting = factory(), factory(), None
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
        if waiting is not None:
            waiting.join(timeout=10)
        second.close()
        engine.dispose()
