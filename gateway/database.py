"""The identity database as the Flask app sees it: one engine and session factory per app.

Authentication (tokens, API keys, the login) reads and writes through one session per
request, opened on first use and closed when the app context ends, so a view never has to
remember to close it and a failed request never leaves a transaction open. The identity use
cases open their own units of work from the same factory (``gateway.outbox``).
"""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from common import config
from common.db import create_db_engine, make_session_factory

EXTENSION = "identity_db"


def init_app(app: Flask) -> None:
    # One connection per request thread, and a few for the outbox sweeper and the commands.
    engine = create_db_engine(app.config["DATABASE_URL"], pool_size=config.gateway_threads(),
                              max_overflow=config.EXTRA_CONNECTIONS)
    app.extensions[EXTENSION] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def session_factory(app: Flask) -> sessionmaker:
    return app.extensions[EXTENSION]


def engine(app: Flask):
    return session_factory(app).kw["bind"]


def session() -> Session:
    if "db_session" not in g:
        g.db_session = session_factory(current_app)()
    return g.db_session


def _close_session(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
