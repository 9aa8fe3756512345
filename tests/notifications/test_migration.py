"""Revision 0002: what the service knew of its recipients moves into the directory of people,
at the version of each user's last applied event, and back on downgrade (SQLite and
PostgreSQL)."""
import uuid

import sqlalchemy as sa
from alembic import command

from common.db import create_db_engine, ensure_database
from common.migrations import alembic_config
from tests.test_migrations import fresh_url  # noqa: F401 - the fixture

TEAM = uuid.uuid4()
KNOWN, UNVERSIONED = uuid.uuid4(), uuid.uuid4()


def _rows(engine, query):
    with engine.connect() as conn:
        return conn.execute(sa.text(query)).mappings().all()


def test_recipients_become_directory_users_and_come_back(fresh_url):  # noqa: F811
    url = fresh_url("notifications")
    ensure_database(url)
    config = alembic_config("notifications", url)
    command.upgrade(config, "0001")
    engine = create_db_engine(url)
    recipients = sa.table("recipients", *[sa.column(name) for name in (
        "username", "display_name", "email", "role", "language", "timezone", "active")],
        sa.column("user_id", sa.Uuid), sa.column("team_id", sa.Uuid))
    tracked = sa.table("tracked_entities", sa.column("entity_type"), sa.column("entity_id"),
                       sa.column("version"), sa.column("state", sa.JSON))
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(recipients), [
                {"user_id": KNOWN, "username": "sam", "display_name": "Sam", "role": "sales",
                 "email": "sam@example.com", "team_id": TEAM, "language": "zh-CN",
                 "timezone": "Asia/Shanghai", "active": False},
                {"user_id": UNVERSIONED, "username": "ann", "display_name": "Ann",
                 "role": "manager", "email": None, "team_id": None, "language": "en",
                 "timezone": "UTC", "active": True}])
            conn.execute(sa.insert(tracked), [
                {"entity_type": "user", "entity_id": str(KNOWN), "version": 7, "state": {}},
                {"entity_type": "deal", "entity_id": str(KNOWN), "version": 3, "state": {}}])
        command.upgrade(config, "head")
        users = {row["username"]: row for row in _rows(engine, "SELECT * FROM directory_users")}
        assert {name: (row["version"], row["email"], row["timezone"], bool(row["active"]))
                for name, row in users.items()} == {
            "sam": (7, "sam@example.com", "Asia/Shanghai", False), "ann": (1, None, "UTC", True)}
        assert users["sam"]["role"] == "sales" and users["sam"]["language"] == "zh-CN"
        assert [row["entity_type"] for row in _rows(engine, "SELECT * FROM tracked_entities")] == [
            "deal"]

        command.downgrade(config, "0001")
        back = {row["username"]: row for row in _rows(engine, "SELECT * FROM recipients")}
        assert {name: (row["email"], row["language"], bool(row["active"]))
                for name, row in back.items()} == {
            "sam": ("sam@example.com", "zh-CN", False), "ann": (None, "en", True)}
        assert sorted((row["entity_type"], row["version"]) for row in _rows(
            engine, "SELECT * FROM tracked_entities")) == [("deal", 3), ("user", 1), ("user", 7)]
    finally:
        engine.dispose()
