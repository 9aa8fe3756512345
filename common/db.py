"""Database engines, the declarative base of each component, and the platform tables.

Every service owns one database. Its models derive from a base made by :func:`make_base`,
which also carries the platform tables (outbox, processed and parked events) so that one
Alembic history per service covers everything in its database.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import time
import uuid

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
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
    # Waiting for a connection never outlasts the caller's deadline: better a clear 503/504
    # than an answer to nobody.
    kwargs.setdefault("pool_timeout", config.db_pool_timeout())
    engine = sa.create_engine(url, **kwargs)
    if kwargs.get("isolation_level") != "AUTOCOMMIT":  # an engine for DDL stays in it
        sa_event.listen(engine, "checkin", _leave_autocommit)
    if not kwargs.get("pool_pre_ping"):
        _ping_after_rest(engine)
    return engine


def _leave_autocommit(dbapi_connection, _record) -> None:
    """A connection a read switched to autocommit (:func:`without_transaction`) goes back
    into the pool out of it, so the next unit of work, a write perhaps, has its transaction."""
    if dbapi_connection is not None and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


# A pooled PostgreSQL connection that rested longer than this is pinged before it serves.
PING_AFTER_REST = 1.0  # seconds


def _ping_after_rest(engine: sa.Engine) -> None:
    """Ping a pooled connection (``SELECT 1``) when it comes out of the pool after resting
    ``PING_AFTER_REST`` seconds or more, and replace the pool's connections if the ping
    fails: what SQLAlchemy's ``pool_pre_ping`` does on every checkout, which under load cost
    a round trip per unit of work (a third of a read by id's). A connection used a moment ago
    is taken as alive; one that died within that moment (a database restarted in under a
    second) fails its first statement, and SQLAlchemy then replaces every connection of the
    pool. A read is run again once on a new one (``common.service.ServiceDatabase.read``)."""

    @sa_event.listens_for(engine, "checkin")
    def _resting_since(_dbapi_connection, record):
        record.info["resting_since"] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy):
        since = record.info.get("resting_since")
        if since is None or time.monotonic() - since < PING_AFTER_REST:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # outside a transaction, as it found it
        except engine.dialect.loaded_dbapi.Error as exc:
            # As pool_pre_ping: every connection of the pool is replaced (they went with
            # the same server), this one at once.
            raise sa.exc.InvalidatePoolError(f"a rested connection failed its ping: {exc}") from exc


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


def without_transaction(session) -> None:
    """Check out ``session``'s PostgreSQL connection and run its statements without BEGIN and
    ROLLBACK (psycopg2 autocommit; SQLAlchemy still sees a transaction, whose rollback then
    sends nothing). Set on the driver's connection, not through SQLAlchemy's isolation level,
    which would cost a ``SET`` round trip when the connection next serves a write; the pool
    switches it back as the connection returns (:func:`_leave_autocommit`), whatever path
    returns it. Nothing to do on SQLite, whose driver sends no BEGIN before a SELECT."""
    if session.get_bind().dialect.driver == "psycopg2":
        session.connection().connection.dbapi_connection.autocommit = True


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


def insert_on_conflict(dialect: str, table: sa.Table):
    """An INSERT of ``table`` for the dialect named (``postgresql``, else SQLite's), whose
    ``on_conflict_do_nothing`` / ``on_conflict_do_update`` skip or merge a row whose key is
    taken."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class _json_array_agg(sa.sql.functions.GenericFunction):
    """The aggregate of its argument (a column) as a JSON array: ``json_agg`` on PostgreSQL
    (ordered by the argument), ``json_group_array`` on SQLite (in the order its rows come:
    SQLite before 3.44 has no ``ORDER BY`` in an aggregate)."""

    type = sa.JSON()
    inherit_cache = True


@compiles(_json_array_agg)
def _json_array_agg_elsewhere(element, compiler, **kw):
    raise sa.exc.CompileError("sorted_json_array is written for PostgreSQL and SQLite only")


@compiles(_json_array_agg, "postgresql")
def _json_agg_ordered(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    return f"json_agg({value} ORDER BY {value})"


@compiles(_json_array_agg, "sqlite")
def _json_group_array(element, compiler, **kw):
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


def sorted_json_array(column, *where) -> sa.ScalarSelect:
    """A column of a select: the values of ``column`` (not null) in the rows of its table
    where ``where`` holds (which names the outer select's table: a correlated subquery),
    sorted, as a JSON array read back as a list (``[]`` for none). A page's one-to-many values
    (a customer's tags) so come with its rows, in the same statement; it is computed for each
    row the statement produces, OFFSET's skipped rows included (``common.listing.page_rows``
    reads it for a page's rows only)."""
    values = (sa.select(column.label("value")).where(*where).order_by(column)
              .correlate_except(column.table).subquery())
    return sa.select(sa.func.coalesce(_json_array_agg(values.c.value), sa.literal_column("'[]'"),
                                      type_=sa.JSON)).scalar_subquery()


# From this many rows on, ``insert_many`` sends them as one JSON document on PostgreSQL (below
# it, SQLAlchemy's INSERT is as quick).
RECORDSET_FROM_ROWS = 50


def insert_many(session, table: sa.Table, rows: list[dict]) -> None:
    """``rows`` (each with the same keys) added to ``table`` in the session's transaction: on
    PostgreSQL, from ``RECORDSET_FROM_ROWS`` rows on, by one ``INSERT ... SELECT FROM
    json_populate_recordset(...)`` of them all as one JSON parameter (an import's batch with
    its history and events in 45 % of the time of SQLAlchemy's multi-row INSERT, about 80 %
    of a ``COPY``'s, which psycopg2 cannot do cooperatively under eventlet); otherwise one
    executemany INSERT. Columns left out get their model default, as an INSERT gives them;
    values are bound by the columns' own types (a datetime made UTC); a JSON column's
    ``None`` is SQL NULL (the INSERT writes JSON ``null``: both read back as ``None``)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or len(rows) < RECORDSET_FROM_ROWS:
        session.execute(sa.insert(table), rows)
        return
    columns = [column for column in table.columns
               if column.key in rows[0] or column.default is not None]
    quote = dialect.identifier_preparer
    names = ", ".join(quote.format_column(column) for column in columns)
    table_name = quote.format_table(table)
    session.execute(sa.text(
        f"INSERT INTO {table_name} ({names}) SELECT {names} "
        f"FROM json_populate_recordset(CAST(NULL AS {table_name}), :rows)"),
        {"rows": _recordset(columns, rows, dialect)})


def update_many(session, model, rows: list[dict]) -> None:
    """Stored rows of ``model`` given new values: each of ``rows`` names one by its primary
    key and holds the columns to set (every row the same keys). On PostgreSQL, from
    ``RECORDSET_FROM_ROWS`` rows on, one ``UPDATE ... FROM json_populate_recordset(...)``,
    the values bound as :func:`insert_many` binds them (an executemany UPDATE is a round trip
    per row there); otherwise SQLAlchemy's UPDATE by primary key."""
    if not rows:
        return
    table = model.__table__
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or len(rows) < RECORDSET_FROM_ROWS:
        session.execute(sa.update(model), rows)
        return
    columns = [column for column in table.columns if column.key in rows[0]]
    quote = dialect.identifier_preparer
    table_name = quote.format_table(table)
    matched = " AND ".join(f"stored.{name} = given.{name}" for name in (
        quote.format_column(column) for column in table.primary_key.columns))
    changed = ", ".join(f"{name} = given.{name}" for name in (
        quote.format_column(column) for column in columns if not column.primary_key))
    session.execute(sa.text(
        f"UPDATE {table_name} AS stored SET {changed} "
        f"FROM json_populate_recordset(CAST(NULL AS {table_name}), :rows) AS given "
        f"WHERE {matched}"), {"rows": _recordset(columns, rows, dialect)})


def _recordset(columns: list[sa.Column], rows: list[dict], dialect) -> str:
    """``rows`` as the JSON array ``json_populate_recordset`` reads: a JSON column's value as
    it is, every other bound by its type's own processor (a TypeDecorator's too), then
    written as JSON text (times in ISO 8601, ids and decimals as strings)."""
    binds = [(column.key, bind) for column in columns
             if not isinstance(column.type, sa.JSON)
             and (bind := column.type.dialect_impl(dialect).bind_processor(dialect))]
    defaults = [(column.key, column.default) for column in columns
                if column.key not in rows[0]]
    if binds or defaults:
        rows = [dict(row) for row in rows]
        for row in rows:
            for key, default in defaults:
                row[key] = default.arg if default.is_scalar else default.arg(None)
            for key, bind in binds:
                row[key] = bind(row[key])
    # orjson: a quarter of the json module's time on an import's batch, and UTF-8 as it
    # is where json escapes every Chinese character (times in ISO 8601 and ids as text,
    # as isoformat() and str() write them; decimals as text, by _json_text).
    try:
        return orjson.dumps(rows, default=_json_text, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # An integer past 64 bits (a long account number in custom fields), which orjson
        # refuses and json writes as it is.
        return json.dumps(rows, default=_json_text, ensure_ascii=False)


def _json_text(value) -> str:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not written by insert_many")


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
