"""Identity's records and what their use cases share: identity is for admins, a record is
found or not found, an id must name an existing row, lists come a page at a time, and users
and teams are created and changed with the event that tells the services and the audit entry
that records who did it (and a 409 on the name two may not share).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from marshmallow import Schema
from sqlalchemy.exc import IntegrityError

from common.actor import SYSTEM, Actor
from common.errors import Conflict, Forbidden, ValidationError
from common.listing import order_by, paginate
from common.records import found, update
from common.uow import UnitOfWork
from common.validation import load, schema_instance
from gateway import audit
from gateway.identity import schemas as s
from gateway.models import ApiKey, Team, User


def require_admin(actor: Actor) -> None:
    """Admins, and the system itself (the seed, the announce command); never an API key."""
    if actor.role not in ("admin", SYSTEM):
        raise Forbidden("Your role may not do this action.")


def load_change(schema_class: type[Schema], payload) -> tuple[dict, int]:
    """A change: any field of the schema, and the ``version`` it is based on (required),
    returned apart."""
    schema = schema_instance(schema_class)
    data = load(schema, payload, partial=tuple(name for name in schema.fields if name != "version"))
    return data, data.pop("version")


@dataclass(frozen=True)
class Kind:
    """A kind of identity record: its table, its answer, how it is found and listed."""

    model: type
    out: Schema  # the use cases' answer
    label: str  # what a 404 calls it: "No <label> with id <id>."
    sortable: tuple[str, ...]
    default_sort: str

    def find(self, uow: UnitOfWork, entity_id):
        return found(uow.session, self.model, entity_id, self.label)

    def page(self, uow: UnitOfWork, args: dict, conditions=()) -> dict:
        """One page of the records meeting ``conditions``; ``args`` were loaded by a
        ``PageQuerySchema``."""
        query = sa.select(self.model).where(*conditions).order_by(
            *order_by(self.model, args["sort"] or self.default_sort, self.sortable))
        return paginate(uow.session, query, args, dump=self.out.dump)


@dataclass(frozen=True)
class Published(Kind):
    """A kind of record the services keep a copy of (``common.directory``): each creation and
    change is announced as ``<name>.created`` / ``<name>.updated`` with ``event``'s dump."""

    name: str
    event: Schema  # the events' data
    unique: str  # the field no two records may share: taken, it answers 409 on that field
    references: dict[str, tuple[type, str]]  # id field -> (model it names, 400 message)

    def check_references(self, uow: UnitOfWork, data: dict) -> None:
        """A 400 on a field of ``data`` whose id names no row."""
        for field, (model, message) in self.references.items():
            if data.get(field) is not None and uow.session.get(model, data[field]) is None:
                raise ValidationError("", {field: [message]})

    @contextmanager
    def unique_name(self):
        """A flush breaking the unique field answers 409 on it."""
        try:
            yield
        except IntegrityError:
            raise Conflict("", {self.unique: ["Already taken."]}) from None


def create(uow: UnitOfWork, published: Published, data: dict) -> dict:
    """A record made of loaded ``data``, announced, audited and committed; its answer."""
    published.check_references(uow, data)
    entity = published.model(**data)
    uow.session.add(entity)
    with published.unique_name():
        uow.session.flush()
    announce(uow, published, entity, "created")
    audit.record(uow.session, f"{published.name}.created", actor=uow.actor, target=entity,
                 details=published.event.dump(entity))
    uow.commit()
    return published.out.dump(entity)


def edit(uow: UnitOfWork, published: Published, entity_id, data: dict, expected_version: int,
         on_change: Callable[[object], None] | None = None) -> dict:
    """Set loaded ``data`` on the record with ``common.records.update``. When something changed
    (what its event publishes, or a field of ``data`` not published, such as a password),
    ``on_change(record)`` writes what follows from it, the change is announced, audited and
    committed; when nothing did, nothing is written. The record's answer either way."""
    entity = published.find(uow, entity_id)

    def state(record) -> dict:
        return {**published.event.dump(record), **{name: getattr(record, name) for name in data}}

    def apply() -> None:
        published.check_references(uow, data)
        for name, value in data.items():
            setattr(entity, name, value)

    with published.unique_name():
        changed = update(uow, entity, expected_version, state, apply)
    if changed is not None:
        if on_change is not None:
            on_change(entity)
        announce(uow, published, entity, "updated")
        audit.record_change(uow.session, uow.actor, entity, changed)
        uow.commit()
    return published.out.dump(entity)


def announce(uow: UnitOfWork, published: Published, entity, action: str) -> None:
    """Record the event telling the services ``entity`` as it is now."""
    uow.emit(f"{published.name}.{action}", entity.id, entity.version, published.event.dump(entity))


# -- identity's records ----------------------------------------------------------------------
USER = Published(User, s.UserSchema(), "user", s.USER_SORT_FIELDS, "username",
                 name="user", event=s.UserEventSchema(), unique="username",
                 references={"team_id": (Team, "Team not found.")})
TEAM = Published(Team, s.TeamSchema(), "team", s.TEAM_SORT_FIELDS, "name",
                 name="team", event=s.TeamEventSchema(), unique="name",
                 references={"manager_id": (User, "User not found.")})
API_KEY = Kind(ApiKey, s.ApiKeySchema(), "API key", s.API_KEY_SORT_FIELDS,
               "-created_at")
