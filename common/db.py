"""Database engines, the declarative base of each component, and the platform tables.

Every service owns one database. Its models derive from a base made by :func:`make_base`,
which also carries the platform tables (outbox, processed and parked events) so that one
Alembic history per service covers everything in its database.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import uuid

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, sessionmaker

from common import config

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; all times are UTC-aware")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def sqlalchemy_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2 (made cooperative by psycogreen); SQLAlchemy 2.1
    would otherwise pick psycopg 3 for a bare ``postgresql://``."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_green() -> None:
    """Make psycopg2 yield to eventlet while it waits on the server (inside services)."""
    try:
        import eventlet.patcher
    except ImportError:  # pragma: no cover - the gateway has no eventlet hub
        return
    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


def create_db_engine(url: str, **kwargs) -> sa.Engine:
    url = sqlalchemy_url(url)
    if is_sqlite(url):
        engine = sa.create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    # Waiting for a connection never outlasts the caller's deadline: better a clear 503/504
    # than an answer to nobody.
    kwargs.setdefault("pool_timeout", config.db_pool_timeout())
    return sa.create_engine(url, **kwargs)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database (or the SQLite file's folder) named by ``url``."""
    parsed = make_url(sqlalchemy_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    server = sa.create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with server.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
                log.info("created database %s", parsed.database)
    finally:
        server.dispose()


def make_session_factory(engine: sa.Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


class Versioned:
    """A mutable entity: optimistic concurrency (SQLAlchemy adds ``WHERE version = :old`` to
    every UPDATE and bumps it) and creation and change times."""

    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.version}


def new_row(table: sa.Table, values: dict) -> dict:
    """A row of ``table`` for a Core INSERT of many: ``values``, and every other column as
    the model would fill it (its default, else NULL), so that all rows carry the same keys."""
    row = {}
    for column in table.columns:
        if column.key in values:
            row[column.key] = values[column.key]
        elif column.default is None:
            row[column.key] = None
        else:
            default = column.default
            row[column.key] = default.arg if default.is_scalar else default.arg(None)
    return row


# From this many rows on, ``insert_many`` writes by COPY on PostgreSQL (below it, the INSERT's
# single round trip is cheaper than COPY's two).
COPY_FROM_ROWS = 50


def insert_many(session, table: sa.Table, rows: list[dict]) -> None:
    """``rows`` (each with the same keys) added to ``table`` in the session's transaction: on
    PostgreSQL, from ``COPY_FROM_ROWS`` rows on, by one ``COPY ... FROM STDIN`` (an import's
    batch with its history and events in a third of the time of SQLAlchemy's multi-row
    INSERT, bench/import_export.py); otherwise one executemany INSERT. Columns left out get
    their model default, as an INSERT gives them; values are bound by the columns' own types
    (a JSON column's ``None`` is JSON ``null``, as an INSERT writes it). A refusal raises
    what the INSERT would (``sqlalchemy.exc.IntegrityError`` for a taken key)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        session.execute(sa.insert(table), rows)
        return
    session.flush()
    columns = [column for column in table.columns
               if column.key in rows[0] or column.default is not None]
    encoders = [(column.key, _copy_encoder(column, dialect)) for column in columns]
    defaults = {column.key: column.default for column in columns if column.key not in rows[0]}
    lines = []
    for row in rows:
        if defaults:
            row = {**row, **{key: default.arg if default.is_scalar else default.arg(None)
                             for key, default in defaults.items()}}
        lines.append("\t".join([encode(row[key]) for key, encode in encoders]))
    lines.append("")
    statement = (f"COPY {dialect.identifier_preparer.format_table(table)} "
                 f"({', '.join(dialect.identifier_preparer.format_column(c) for c in columns)})"
                 " FROM STDIN")
    dbapi = dialect.loaded_dbapi
    cursor = connection.connection.driver_connection.cursor()
    try:
        with _wait_callback_lifted():
            cursor.copy_expert(statement, io.StringIO("\n".join(lines)))
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error,
                                         dialect=dialect) from exc
    finally:
        cursor.close()


def _copy_encoder(column: sa.Column, dialect):
    """How a value of ``column`` is written in COPY's text format: bound by the column's type
    (a datetime made UTC, a JSON value serialised), then ``\\N`` for NULL and the format's
    escapes for backslash, tab, newline and carriage return."""
    bind = column.type.dialect_impl(dialect).bind_processor(dialect)

    def encode(value) -> str:
        if bind is not None:
            value = bind(value)
        if value is None:
            return "\\N"
        if value.__class__ is not str:
            if value is True or value is False:
                return "t" if value else "f"
            value = str(value)
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (value.replace("\\", "\\\\").replace("\t", "\\t")
                     .replace("\n", "\\n").replace("\r", "\\r"))
        return value

    return encode


@contextlib.contextmanager
def _wait_callback_lifted():
    """psycopg2 refuses COPY while a wait callback is set (psycogreen's, in a service): it is
    lifted for the COPY and put back after. The COPY then holds the process until the server
    has the rows (for an import's batch of 500, about a tenth of a second): eventlet
    switches to no other green thread in between, so none runs a query without it, and one
    waiting in it carries on afterwards."""
    from psycopg2 import extensions

    wait = extensions.get_wait_callback()
    if wait is None:
        yield
        return
    extensions.set_wait_callback(None)
    try:
        yield
    finally:
        extensions.set_wait_callback(wait)


class PlatformModels:
    """The platform tables of one component's database."""

    def __init__(self, outbox, processed_event, parked_event, idempotent_request,
                 directory_user=None, directory_team=None):
        self.Outbox = outbox
        self.ProcessedEvent = processed_event
        self.ParkedEvent = parked_event
        self.IdempotentRequest = idempotent_request
        self.DirectoryUser = directory_user
        self.DirectoryTeam = directory_team


def make_base(*, directory: bool = True):
    """A fresh declarative base for one component, with its platform tables attached.

    ``directory``: also the local copy of users and teams (``common.directory``) that every
    service keeps; the gateway, which owns the originals, has none.
    Returns ``(Base, PlatformModels)``.
    """

    class Base(DeclarativeBase):
        type_annotation_map = {dt.datetime: UTCDateTime}

    class Outbox(Base):
        """Events written in the same transaction as the change they describe."""

        __tablename__ = "outbox"
        id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
        exchange: Mapped[str] = mapped_column(sa.String(100))
        routing_key: Mapped[str] = mapped_column(sa.String(100))
        payload: Mapped[dict] = mapped_column(sa.JSON)
        created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
        published_at: Mapped[dt.datetime | None] = mapped_column(index=True)
        attempts: Mapped[int] = mapped_column(default=0)
        last_error: Mapped[str | None] = mapped_column(sa.Text)

    class ProcessedEvent(Base):
        """Event ids a handler has applied: a repeated delivery is ignored."""

        __tablename__ = "processed_events"
        event_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
        handler: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
        processed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    class ParkedEvent(Base):
        """An event whose handler failed: retried with back-off, then dead-lettered."""

        __tablename__ = "parked_events"
        event_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
        handler: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
        payload: Mapped[dict] = mapped_column(sa.JSON)
        attempts: Mapped[int] = mapped_column(default=1)
        next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
        last_error: Mapped[str] = mapped_column(sa.Text)
        status: Mapped[str] = mapped_column(sa.String(16), default="retrying", index=True)
        parked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    class IdempotentRequest(Base):
        """A write request already run: its key, what it asked and what it answered, stored
        in the write's own transaction, so a redelivery or a retry answers this instead of
        running again (``common.idempotency``)."""

        __tablename__ = "idempotent_requests"
        key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
        fingerprint: Mapped[str] = mapped_column(sa.String(64))
        result: Mapped[dict | None] = mapped_column(sa.JSON)
        created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    tables = (Outbox, ProcessedEvent, ParkedEvent, IdempotentRequest)
    if not directory:
        return Base, PlatformModels(*tables)

    class DirectoryUser(Base):
        """A user as the gateway's last ``user.*`` event told it (never read from its database)."""

        __tablename__ = "directory_users"
        id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
        username: Mapped[str | None] = mapped_column(sa.String(64))
        display_name: Mapped[str | None] = mapped_column(sa.String(100))
        email: Mapped[str | None] = mapped_column(sa.String(254))
        role: Mapped[str | None] = mapped_column(sa.String(16))
        team_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
        language: Mapped[str | None] = mapped_column(sa.String(8))
        timezone: Mapped[str | None] = mapped_column(sa.String(64))
        active: Mapped[bool] = mapped_column(default=True)
        version: Mapped[int] = mapped_column(default=0)

    class DirectoryTeam(Base):
        """A team as the gateway's last ``team.*`` event told it."""

        __tablename__ = "directory_teams"
        id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
        name: Mapped[str | None] = mapped_column(sa.String(100))
        manager_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
        version: Mapped[int] = mapped_column(default=0)

    return Base, PlatformModels(*tables, DirectoryUser, DirectoryTeam)
