"""An engine on each dialect the services run on, for the tests of SQL that must hold on both
(SQLite, the quick start's; PostgreSQL, production's)."""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from common.db import create_db_engine, make_session_factory
from tests.support.stack import scratch_database

DIALECTS = ["sqlite", "postgresql"]


@contextlib.contextmanager
def engine_on(dialect: str, metadata: sa.MetaData, postgres: sa.Engine | None = None,
              directory: Path | None = None):
    """An engine with the tables of ``metadata``: on SQLite, a new database (a file in
    ``directory``, so that several connections share it; else in memory); on PostgreSQL, the
    scratch database of ``postgres`` (made once by the caller's module or session), its tables
    emptied after."""
    if dialect == "sqlite":
        engine = create_db_engine(f"sqlite:///{directory / 'test.db'}" if directory
                                  else "sqlite://")
        metadata.create_all(engine)
    else:
        engine = create_db_engine(postgres.url)
    try:
        yield engine
    finally:
        if dialect == "postgresql":
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
        engine.dispose()


def session_factories(metadata: sa.MetaData, purpose: str):
    """Two fixtures for a test module, ``postgres, factory = session_factories(...)``: its
    PostgreSQL scratch database (``crmt_<random>_<purpose>``, made once for the module), and
    a session factory on each dialect in turn (:func:`engine_on`)."""

    @pytest.fixture(scope="module")
    def postgres():
        with scratch_database(purpose, metadata=metadata) as engine:
            yield engine

    @pytest.fixture(params=DIALECTS)
    def factory(request, tmp_path):
        on_postgres = request.param == "postgresql"
        with engine_on(request.param, metadata,
                       request.getfixturevalue("postgres") if on_postgres else None,
                       tmp_path) as engine:
            yield make_session_factory(engine)

    return postgres, factory
