"""What every service's records share: ids from callers, optimistic concurrency and the
update skeleton, and record-level access by owner and team (who may *place* a record with an
owner is ``common.placement``).

A rep sees the records they own; a manager those of their team (and their own); an admin and
an analyst see all; an analyst writes nothing. A record the caller may not see is answered as
not found, never as someone else's data.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from common.actor import Actor
from common.db import insert_on_conflict, utcnow
from common.errors import Conflict, Forbidden, NotFound


def as_uuid(value, label: str) -> uuid.UUID:
    """An id from a caller; one that is not a UUID names no record."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No {label} with id {value}.") from None


def found(session, model, record_id, label: str, belongs: Callable[[object], bool] | None = None):
    """The ``model`` row with the caller's ``record_id``; ``NotFound`` when there is none or
    ``belongs(row)`` is false (a record the caller may not see is not found, never shown)."""
    row = session.get(model, as_uuid(record_id, label))
    if row is None or (belongs is not None and not belongs(row)):
        raise NotFound(f"No {label} with id {record_id}.")
    return row


def optional_uuid(value) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def check_version(entity, expected: int) -> None:
    """Refuse a change based on a version that is no longer the current one."""
    if expected != entity.version:
        raise Conflict(
            f"The record was changed by someone else (version {entity.version}); "
            "reload it and apply your change again.",
            {"current_version": str(entity.version)},
        )


def viewer_scope(actor: Actor) -> str:
    """What of a table's records ``actor`` sees: ``all``, their ``team``'s and their own,
    their ``own``, or ``none`` (a caller with no user id that does not see everything owns
    nothing)."""
    if actor.sees_everything:
        return "all"
    if not actor.user_id:
        return "none"
    return "team" if actor.role == "manager" and actor.team_id else "own"


def viewer_ids(actor: Actor, scope: str) -> tuple:
    """``(viewer_id, viewer_team_id)``: the ids of ``actor`` that :func:`visible_where` uses
    for ``scope``, ``None`` for those it does not (they are not read)."""
    return (actor.user_uuid if scope in ("own", "team") else None,
            actor.team_uuid if scope == "team" else None)


def visible_where(scope: str, model, viewer_id, viewer_team_id):
    """The records of ``model`` (with ``owner_id`` and ``team_id``) a viewer of ``scope``
    (:func:`viewer_scope`) sees, as a condition; ``None``: all. ``viewer_id`` and
    ``viewer_team_id`` are the viewer's ids (:func:`viewer_ids`), or parameters bound when a
    statement built once for every viewer of the scope runs."""
    if scope == "all":
        return None
    if scope == "none":
        return sa.false()
    own = model.owner_id == viewer_id
    return sa.or_(own, model.team_id == viewer_team_id) if scope == "team" else own


def visible(actor: Actor, query, model):
    """Restrict a select of ``model`` (with ``owner_id`` and ``team_id``) to what ``actor``
    may see."""
    scope = viewer_scope(actor)
    where = visible_where(scope, model, *viewer_ids(actor, scope))
    return query if where is None else query.where(where)


def may_see(actor: Actor, record) -> bool:
    """:func:`visible` for one record already loaded: the same rule, for a read by id whose
    statement is built once for every caller."""
    scope = viewer_scope(actor)
    if scope in ("all", "none"):
        return scope == "all"
    viewer_id, viewer_team_id = viewer_ids(actor, scope)
    return record.owner_id == viewer_id or (scope == "team" and record.team_id == viewer_team_id)


def require_write(actor: Actor, noun: str) -> None:
    if not actor.can_write:
        raise Forbidden(f"Your role may read {noun} but not change them.")


@dataclass(frozen=True)
class Change:
    """What an update did to a record: its representation before and after."""

    before: dict
    after: dict


def update(uow, entity, expected_version: int, dump: Callable[[object], dict],
           apply: Callable[[], None]) -> Change | None:
    """The skeleton of every update: refuse a stale version, ``apply`` the change, and say
    whether anything changed. ``None`` means nothing did: the caller answers the record as it
    is and writes nothing (no version bump, no history, no event). Otherwise the row is
    written (its version moves even when only related rows changed, such as tags or lines)
    and the caller records and announces the :class:`Change`."""
    check_version(entity, expected_version)
    before = dump(entity)
    apply()
    if dump(entity) == before:
        return None
    entity.updated_at = utcnow()
    uow.session.flush()
    return Change(before, dump(entity))


def locked_row(session, model, key, **defaults):
    """The row of ``model`` with primary key ``key``, created with ``defaults`` when missing,
    locked (``SELECT ... FOR UPDATE``) until the transaction ends: concurrent writers of the
    same row (a counter, a cursor) take turns. A missing row is made by an INSERT that skips
    the key if it was taken meanwhile (``ON CONFLICT (key) DO NOTHING``) and answers the row
    it wrote, which is this transaction's, so locked: two statements, not a savepoint and
    three. The INSERT is a statement, not a flush: the ORM's flush events do not see it, and
    the row's columns come from ``defaults`` and the columns' own defaults."""
    return _locked_or_made(session, model, key, defaults)[0]


def _locked_or_made(session, model, key, defaults: dict):
    """:func:`locked_row`, and whether this call made the row."""
    names = tuple(sorted(defaults))
    select, insert, key_params, default_params = _locked_row_statements(
        model, session.bind.dialect.name, names)
    params = dict(zip(key_params, key if isinstance(key, tuple) else (key,)))
    row = session.scalars(select, params).first()
    if row is not None:
        return row, False
    created = session.scalars(
        insert, {**params, **{param: defaults[name] for name, param in zip(names, default_params)}},
        # One row with its parameters, not an ORM bulk INSERT (which would read the
        # parameters' names as the model's attributes).
        execution_options={"dml_strategy": "orm", "populate_existing": True}).first()
    if created is not None:
        return created, True
    # Made at the same moment by another writer (this INSERT waited for its commit): lock it.
    return session.scalars(select, params,
                           execution_options={"populate_existing": True}).one(), False


@functools.lru_cache(maxsize=None)
def _locked_row_statements(model, dialect: str, names: tuple[str, ...]):
    """The SELECT ... FOR UPDATE of a row of ``model`` by its key and the INSERT that makes it
    with the defaults ``names``, and the names of their parameters for the key's columns and
    for the defaults, bound when run: built once, as building them and their cache keys costs
    about what running them does."""
    primary_key = sa.inspect(model).primary_key
    key_params = tuple(f"key_{column.key}" for column in primary_key)
    default_params = tuple(f"new_{name}" for name in names)
    select = sa.select(model).where(*(column == sa.bindparam(param)
                                      for column, param in zip(primary_key, key_params)))
    insert = (insert_on_conflict(dialect, model)
              .values(**{column.key: sa.bindparam(param)
                         for column, param in zip(primary_key, key_params)},
                      **{name: sa.bindparam(param) for name, param in zip(names, default_params)})
              .on_conflict_do_nothing(index_elements=list(primary_key)).returning(model))
    return select.with_for_update(), insert, key_params, default_params


def newer(session, model, key, version: int | None, **defaults):
    """Apply only if newer, under a row lock: the row of ``model`` (which has a ``version``)
    with primary key ``key``, locked until the transaction ends (made with ``defaults`` when
    missing), when ``version`` is newer than the one it holds, now recorded on it; ``None``
    when it is not (a repeat, or an event that arrives after a newer one): apply nothing.
    Every consumer of another service's entity events orders them with it. An event with no
    version cannot be ordered and is applied. A row made here is made at ``version`` (at 0
    when the event has none, or one not above 0, which such a row then refuses): one INSERT,
    not an INSERT and an UPDATE."""
    ordered = version is not None and version > 0
    row, made = _locked_or_made(session, model, key,
                                {"version": version if ordered else 0, **defaults})
    if version is None or (made and ordered):
        return row
    if version <= row.version:
        return None
    row.version = version
    return row
