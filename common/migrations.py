"""Apply every component's Alembic migrations with one command.

    python -m common.migrations            # upgrade all components to head
    python -m common.migrations customers  # just one

Each component of ``common.components`` keeps its own history under its ``migrations/``
(applied in the registry's order); its ``env.py`` calls :func:`run_env` with its metadata.
PostgreSQL databases are created when missing. Run this as a one-off step before the
services start (never at container start: replicas would race).
"""
from __future__ import annotations

import argparse

from alembic import command
from alembic.config import Config

from common import components, config
from common.db import ensure_database, is_sqlite, sqlalchemy_url


def alembic_config(component: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(components.by_name(component).migrations))
    url = sqlalchemy_url(url or config.database_url(component))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(component: str, url: str | None = None) -> None:
    url = url or config.database_url(component)
    ensure_database(url)
    command.upgrade(alembic_config(component, url), "head")


def create_platform_tables() -> None:
    """The outbox, processed and parked events every component's database has (see
    ``common.db.make_base``); each component's first revision calls this."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("exchange", sa.String(length=100), nullable=False),
        sa.Column("routing_key", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "parked_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("handler", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler"),
    )
    op.create_index("ix_parked_events_next_attempt_at", "parked_events", ["next_attempt_at"])
    op.create_index("ix_parked_events_status", "parked_events", ["status"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("handler", sa.String(length=120), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler"),
    )


def create_directory_tables() -> None:
    """The local copy of users and teams every service keeps (``common.directory``)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "directory_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_directory_users_team_id", "directory_users", ["team_id"])
    op.create_table(
        "directory_teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("manager_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def create_idempotency_table() -> None:
    """The write requests already run, with their answers (``common.idempotency``)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "idempotent_requests",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_idempotent_requests_created_at", "idempotent_requests", ["created_at"])


def drop_idempotency_table() -> None:
    from alembic import op

    op.drop_index("ix_idempotent_requests_created_at", "idempotent_requests")
    op.drop_table("idempotent_requests")


def recompute(table: str, target: str, source: str, rule) -> None:
    """Set column ``target`` to ``rule(source)`` on every row of ``table`` (a stored key
    backfilled, or computed again when its rule changes)."""
    import sqlalchemy as sa
    from alembic import op

    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table}")).all()
    if rows:
        bind.execute(sa.text(f"UPDATE {table} SET {target} = :value WHERE id = :id"),
                     [{"id": row[0], "value": rule(row[1])} for row in rows])


def digits_only(value: str | None) -> str | None:
    """The phone rule before the country code became optional (what a downgrade restores)."""
    import re

    return re.sub(r"\D", "", value or "") or None


def create_import_tables() -> None:
    """The import jobs and their rows of a service that imports (``common.import_jobs``)."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("on_duplicate", sa.String(length=8), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("atomic", sa.Boolean(), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("mapped_fields", sa.JSON(), nullable=False),
        sa.Column("unknown_columns", sa.JSON(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in (
            "total", "empty_rows", "received", "processed", "cursor", "created", "updated",
            "skipped", "failed")],
        sa.Column("actor", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("claim", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("status", "created_by", "created_at", "finished_at"):
        op.create_index(f"ix_import_jobs_{column}", "import_jobs", [column])
    op.create_table(
        "import_rows",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["import_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "number"),
    )


def drop_import_tables() -> None:
    from alembic import op

    op.drop_table("import_rows")
    for column in ("status", "created_by", "created_at", "finished_at"):
        op.drop_index(f"ix_import_jobs_{column}", "import_jobs")
    op.drop_table("import_jobs")


def drop_directory_tables() -> None:
    from alembic import op

    op.drop_table("directory_teams")
    op.drop_index("ix_directory_users_team_id", "directory_users")
    op.drop_table("directory_users")


def drop_platform_tables() -> None:
    from alembic import op

    for table in ("processed_events", "parked_events", "outbox"):
        op.drop_table(table)


def _render_item(type_, obj, autogen_context):
    """Render our UTC type decorator as the plain column type it stores."""
    from common.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata) -> None:
    """The body of every component's ``migrations/env.py``."""
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    alembic_cfg = context.config
    url = alembic_cfg.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        alembic_cfg.get_section(alembic_cfg.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=is_sqlite(url),
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Apply Alembic migrations")
    parser.add_argument("components", nargs="*",
                        help=f"default: all of {', '.join(components.names())}")
    args = parser.parse_args(argv)
    unknown = set(args.components) - set(components.names())
    if unknown:
        parser.error(f"unknown component(s): {', '.join(sorted(unknown))}")
    for component in args.components or components.names():
        upgrade(component)
        print(f"migrated {component}: {config.database_url(component).split('@')[-1]}")


if __name__ == "__main__":
    main()
