"""Every component's Alembic history builds exactly its models, on SQLite and on PostgreSQL
(a model changed without a migration, or the reverse, fails here)."""
from __future__ import annotations

import importlib
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from common import components
from common.db import create_db_engine, sqlalchemy_url
from common.migrations import upgrade
from tests.support.stack import PG_SERVER


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield lambda component: f"sqlite:///{tmp_path / (component + '.db')}"
        return
    made = []

    def url(component):
        made.append(f"crm_test_mig_{uuid.uuid4().hex[:8]}")
        return f"{PG_SERVER}/{made[-1]}"

    yield url
    server = sa.create_engine(sqlalchemy_url(f"{PG_SERVER}/postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.mark.parametrize("component", components.names())
def test_migrations_match_the_models(component, fresh_url):
    url = fresh_url(component)
    upgrade(component, url)
    metadata = importlib.import_module(components.by_name(component).models_module).Base.metadata
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
