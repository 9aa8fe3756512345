"""The gateway in-process (Flask's test client) on a fresh PostgreSQL database per session.

No service runs: these tests cover what the gateway owns (identity, tokens, errors, docs).
"""
from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from common.config import env
from common.db import create_db_engine
from common.migrations import upgrade
from gateway import database
from gateway import outbox as gateway_outbox
from gateway.app import create_app
from gateway.auth.passwords import hash_password
from gateway.models import Team, User, platform
from tests.gateway.helpers import PASSWORD, bearer, login

PG_SERVER = env("CRM_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
def database_url():
    name = f"crm_test_gw_{secrets.token_hex(6)}"
    url = f"{PG_SERVER}/{name}"
    upgrade("gateway", url)
    patch = pytest.MonkeyPatch()
    patch.setenv("GATEWAY_DATABASE_URL", url)
    patch.setenv("CRM_SECRET_KEY", SECRET)
    yield url
    patch.undo()
    server = create_db_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def make_app(database_url):
    """Build apps with config overrides; their outbox sweepers stop with the test, and the
    rate-limit counts they shared in the database are forgotten."""
    made = []

    def make(overrides=None):
        made.append(create_app({"TESTING": True, **(overrides or {})}))
        return made[-1]

    yield make
    for built in made:
        built.extensions[gateway_outbox.SWEEPER].stop()
    if made:
        with database.engine(made[0]).begin() as conn:
            conn.execute(sa.text("DELETE FROM rate_limit_counters"))


@pytest.fixture
def app(make_app):
    """A new app per test (rate-limit counts start empty). Tables are emptied after."""
    app = make_app()
    yield app
    engine = database.engine(app)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE refresh_tokens, api_keys, users, teams, outbox, audit_entries"))
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def password_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def db(app):
    with database.engine(app).connect() as conn, sa.orm.Session(conn) as session:
        yield session


@pytest.fixture
def unit_of_work(app):
    """``unit_of_work(actor)``: a unit of work of the app's identity database, as the
    identity routes open one."""
    return app.extensions[gateway_outbox.EXTENSION].unit_of_work


@pytest.fixture
def outbox(db):
    """``outbox()``: the events the gateway wrote to its outbox so far, oldest first."""

    def events_written() -> list[dict]:
        db.rollback()
        model = platform.Outbox
        return [row.payload for row in db.scalars(sa.select(model).order_by(model.created_at))]

    return events_written


@pytest.fixture
def make_user(db, password_hash):
    def make(username: str, role: str = "sales", **fields) -> User:
        user = User(username=username, password_hash=password_hash, role=role,
                    display_name=username.title(), **fields)
        db.add(user)
        db.commit()
        return user

    return make


@pytest.fixture
def make_team(db):
    def make(name: str) -> Team:
        team = Team(name=name)
        db.add(team)
        db.commit()
        return team

    return make


@pytest.fixture
def admin_headers(client, make_user):
    make_user("admin", "admin")
    return bearer(login(client, "admin").get_json()["access_token"])


@pytest.fixture
def sales_headers(client, make_user):
    make_user("sam", "sales")
    return bearer(login(client, "sam").get_json()["access_token"])
