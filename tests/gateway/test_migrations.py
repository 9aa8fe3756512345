"""The gateway's Alembic history builds exactly the models, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from common.db import create_db_engine
from common.migrations import upgrade
from gateway.models import Base


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", url)
    return url


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "database_url"])
def test_migrations_match_the_models(request, url_fixture):
    engine = create_db_engine(request.getfixturevalue(url_fixture))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
