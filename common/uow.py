"""The unit of work: one transaction holding a change and the events that describe it.

Business code records domain events on the unit of work; ``commit`` writes them to the
outbox in the same transaction, then hands their ids to the relay. Nothing is published for
a transaction that did not commit, and nothing committed goes unpublished.
"""
from __future__ import annotations

from typing import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from common.actor import Actor
from common.db import PlatformModels, insert_many, without_transaction
from common.errors import Conflict
from common.events import envelope, exchange_name
from common.outbox import outbox_rows


class ReadSession(Session):
    """The session of a read's unit of work: a use case that adds or changes a record there
    fails at its next flush (or commit), and one that runs an INSERT, UPDATE or DELETE
    statement fails at once, rather than writing outside a transaction."""

    def commit(self) -> None:
        raise RuntimeError("A read's unit of work cannot commit; run the use case as a write.")


@event.listens_for(ReadSession, "before_flush")
def _refuse_writes(session, _flush_context, _instances):
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("A read's unit of work cannot write; run the use case as a write.")


@event.listens_for(ReadSession, "do_orm_execute")
def _refuse_write_statements(state):
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("A read's unit of work cannot write; run the use case as a write.")


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker,
        platform: PlatformModels,
        source: str,
        actor: Actor,
        on_commit: Callable[[Iterable], object] | None = None,
        read_only: bool = False,
    ):
        """``read_only``: a use case that only reads. On PostgreSQL its statements run
        without a transaction around them (``common.db.without_transaction``): under READ
        COMMITTED each statement sees its own snapshot anyway, so that saves the BEGIN and
        ROLLBACK round trips and changes nothing it can see. It cannot commit or flush."""
        self.session_factory = session_factory
        self.read_only = read_only
        self.platform = platform
        self.source = source
        self.actor = actor
        self.on_commit = on_commit
        self.session: Session | None = None
        self._pending: list[tuple[str, str, dict]] = []
        self.committed_event_ids: list = []
        self._held = False
        self._held_ids: list = []

    def __enter__(self) -> "UnitOfWork":
        self._pending = []
        self._held, self._held_ids = False, []
        if not self.read_only:
            self.session = self.session_factory()
            return self
        self.session = ReadSession(**self.session_factory.kw)
        try:
            without_transaction(self.session)
        except BaseException:
            self.session.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self.session.close()
        if exc_type is not None and issubclass(exc_type, StaleDataError):
            # Another writer bumped the version between our read and our UPDATE.
            raise Conflict(
                "The record was changed by someone else at the same time; reload it."
            ) from exc
        if exc_type is not None and issubclass(exc_type, IntegrityError):
            # A unique key taken by a concurrent writer after our own checks passed.
            raise Conflict("The change conflicts with another made at the same time; "
                           "reload and try again.") from exc

    def emit(self, event_type: str, entity_id, entity_version: int | None, data: dict) -> dict:
        """Record a domain event; it is written to the outbox when the unit commits."""
        event = envelope(
            source=self.source,
            event_type=event_type,
            entity_id=entity_id,
            entity_version=entity_version,
            data=data,
            actor=self.actor.as_event_actor(),
        )
        self._pending.append((exchange_name(self.source), event_type, event))
        return event

    def emit_raw(self, exchange: str, routing_key: str, payload: dict) -> None:
        """Queue a message for an exchange other than this service's event exchange."""
        self._pending.append((exchange, routing_key, payload))

    def commit(self) -> None:
        if self.read_only:
            self.session.commit()  # refused (ReadSession)
        self.session.flush()
        rows = outbox_rows(self._pending)
        # one statement for them all (an import's batch holds thousands)
        insert_many(self.session, self.platform.Outbox.__table__, rows)
        self._pending = []
        if self._held:
            self._held_ids += [row["id"] for row in rows]
            return
        self.session.commit()
        self._published([row["id"] for row in rows])

    def hold_commits(self) -> None:
        """Make the use case's ``commit`` write without committing, until :meth:`release`:
        what the caller adds after it (a request's stored answer) joins the same transaction."""
        self._held, self._held_ids = True, []

    def release(self) -> None:
        """Commit what the held commits wrote, and publish their events."""
        self._held = False
        self.session.flush()
        self.session.commit()
        ids, self._held_ids = self._held_ids, []
        self._published(ids)

    def _published(self, ids: list) -> None:
        self.committed_event_ids = ids
        if ids and self.on_commit is not None:
            self.on_commit(ids)

    def rollback(self) -> None:
        self._pending = []
        self._held_ids = []
        self.session.rollback()
