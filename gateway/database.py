"""The identity database as the Flask app sees it: one engine per app, one session per request.

The session is opened on first use in a request and closed when the app context ends, so a
view never has to remember to close it and a failed request never leaves a transaction open.
The helpers below are what the users and teams routes share: 404s, references that must
exist, and saving with the 409s a unique name or a concurrent update can cause.
"""
from __future__ import annotations

from flask import Flask, current_app, g, has_request_context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from common.db import create_db_engine
from common.errors import Conflict, NotFound, ValidationError
from gateway import events

EXTENSION = "identity_db"


def init_app(app: Flask) -> None:
    engine = create_db_engine(app.config["DATABASE_URL"])
    session_factory, relay = events.identity_sessions(engine, actor=_request_actor)
    app.extensions[EXTENSION] = session_factory
    sweeper = app.extensions["identity_outbox"] = events.OutboxSweeper(relay)
    sweeper.start()
    app.teardown_appcontext(_close_session)


def _request_actor():
    return g.get("actor") if has_request_context() else None


def engine(app: Flask):
    return app.extensions[EXTENSION].kw["bind"]


def session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session


def _close_session(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def get_or_404(model, entity_id, message: str):
    entity = session().get(model, entity_id)
    if entity is None:
        raise NotFound(message)
    return entity


def check_reference(data: dict, field: str, model, message: str) -> None:
    """A 400 on ``field`` when the id it names does not exist."""
    if data.get(field) is not None and session().get(model, data[field]) is None:
        raise ValidationError("", {field: [message]})


def save(entity, changes: dict, unique_field: str):
    """Apply validated ``changes`` to a new or loaded entity and commit the request's session.

    The only constraint a validated change can still break is the entity's unique
    ``unique_field`` (a concurrent insert), answered as a 409 on that field; a concurrent
    update of the same version is a 409 too.
    """
    for name, value in changes.items():
        setattr(entity, name, value)
    db = session()
    db.add(entity)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict("", {unique_field: ["Already taken."]}) from None
    except StaleDataError:
        db.rollback()
        raise Conflict("The record was changed by someone else at the same time; reload it.") from None
    return entity
