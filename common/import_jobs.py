"""Import jobs: a file's rows stored with their job in the database of the service that owns
the records (customers, leads), then run by a timer of that service.

A service that imports declares a :class:`Target` (its entity, its file's columns, how one
row is checked and stored: by its own use cases, the API's), makes the tables with
:func:`import_models` (its migration: ``common.migrations.create_import_tables``) and mixes
``common.service.ImportEntrypoints`` into its service class.

- The gateway reads the file and sends its rows in chunks (``create_import``, then
  ``add_import_rows``; each runs once under its part of the request's key); the last chunk
  queues the job.
- A timer claims a queued job (``SKIP LOCKED`` on PostgreSQL: several instances share the
  work, never the same job) and runs it as its creator, with the role and team they had:
  owners, teams, duplicates and events as their own requests would have them.
- Not atomic, no dry run: each batch of rows is one transaction (the records, their events in
  the outbox, the rows' outcomes, the job's counts and cursor), so a job whose worker died is
  resumed after its last batch by whichever instance claims it next, nothing counted twice.
- Atomic, or a dry run: the whole file is one transaction, kept only when the import is
  atomic, every row valid and it is no dry run; otherwise it is rolled back and the outcomes
  alone are stored. A dry run thus reports what an import would do (duplicates within the
  file included) and keeps nothing; a worker that dies leaves nothing, and the job starts
  over.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Protocol

import eventlet
import sqlalchemy as sa
from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy.orm import Mapped, mapped_column

from common import importing
from common.actor import INTEGRATION, Actor
from common.db import insert_many, new_id, update_many, utcnow
from common.errors import Conflict, CrmError, NotFound, ValidationError
from common.listing import PageQuerySchema, paginate
from common.records import as_uuid
from common.uow import UnitOfWork
from common.validation import UTCDateTimeField, load

log = logging.getLogger(__name__)

ENTITIES = ("customers", "leads")
ON_DUPLICATE = ("skip", "update", "create")
STATUSES = ("queued", "running", "succeeded", "failed")
UPLOADING = "uploading"  # rows still arriving: no client has been told of the job yet
MAX_CHUNK_ROWS = 1000
MAX_CHUNK_CHARS = 2_000_000
MAX_COLUMNS = 500
MAX_CELLS = 2000
BATCH = 500  # rows per transaction of a job that is not atomic
CHECK_SLICE = 25  # rows a check beside a batch's writes runs before it lets them go on
ERRORS_SHOWN = 1000
# A running job silent this long lost its worker (a live one tells at every batch, and holds
# its row locked while a batch runs, so it is never taken from a slow worker).
STALLED_AFTER = dt.timedelta(seconds=30)
UPLOAD_EXPIRES = dt.timedelta(hours=1)  # an upload never finished is dropped by the prune after
MAX_ATTEMPTS = 5

CELL_COUNT = ("The row has {cells} cells where the header has {columns}: a delimiter is "
              "missing, or a value holds one without quotes.")
INTERRUPTED = ("The import was interrupted {attempts} times (its service stopped or failed); "
               "the rows not imported are failed: import them again from errors.csv.")
STOPPED = ("The import stopped on an unexpected error ({error}); the rows not imported are "
           "failed: import them again from errors.csv.")
ATOMIC_REFUSED = ("{failed} of {total} rows are invalid, so nothing was imported (atomic): "
                  "fix them (errors.csv) and import the file again.")
DRY_RUN = "A dry run: nothing was stored; the counts are what an import would do."
DRY_RUN_REFUSED = ("A dry run: nothing was stored. {failed} of {total} rows are invalid, so an "
                   "atomic import would import nothing.")
SOME_FAILED = ("{failed} of {total} rows were not imported; errors.csv holds them, ready to "
               "fix and import again.")


# -- the tables ------------------------------------------------------------------------------
def import_models(Base):
    """The tables ``import_jobs`` and ``import_rows`` on a service's ``Base``."""

    class ImportJob(Base):
        """One uploaded file: how to import it, who asked, and how far it got."""

        __tablename__ = "import_jobs"

        id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
        entity: Mapped[str] = mapped_column(sa.String(16))
        status: Mapped[str] = mapped_column(sa.String(16), index=True)
        file_name: Mapped[str | None] = mapped_column(sa.String(255))
        on_duplicate: Mapped[str] = mapped_column(sa.String(8))
        dry_run: Mapped[bool] = mapped_column()
        atomic: Mapped[bool] = mapped_column()
        header: Mapped[list] = mapped_column(sa.JSON)
        # The field each column fills (null: none), and the headers that name no field.
        mapped_fields: Mapped[list] = mapped_column(sa.JSON)
        unknown_columns: Mapped[list] = mapped_column(sa.JSON)
        total: Mapped[int] = mapped_column()
        empty_rows: Mapped[int] = mapped_column()
        received: Mapped[int] = mapped_column(default=0)
        processed: Mapped[int] = mapped_column(default=0)
        cursor: Mapped[int] = mapped_column(default=0)  # the last row whose outcome is stored
        created: Mapped[int] = mapped_column(default=0)
        updated: Mapped[int] = mapped_column(default=0)
        skipped: Mapped[int] = mapped_column(default=0)
        failed: Mapped[int] = mapped_column(default=0)
        actor: Mapped[dict] = mapped_column(sa.JSON)  # the creator, as their request named them
        created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
        claim: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the run that holds it
        attempts: Mapped[int] = mapped_column(default=0)
        message: Mapped[str | None] = mapped_column(sa.Text)
        created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
        started_at: Mapped[dt.datetime | None] = mapped_column()
        heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
        finished_at: Mapped[dt.datetime | None] = mapped_column(index=True)

    class ImportRow(Base):
        """One row of the file as it was, and what its import did."""

        __tablename__ = "import_rows"

        job_id: Mapped[uuid.UUID] = mapped_column(
            sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True)
        number: Mapped[int] = mapped_column(primary_key=True)
        cells: Mapped[list] = mapped_column(sa.JSON)
        outcome: Mapped[str | None] = mapped_column(sa.String(8))
        errors: Mapped[list | None] = mapped_column(sa.JSON)
        record_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)

    return ImportJob, ImportRow


# -- the contract ----------------------------------------------------------------------------
class ImportOptionsSchema(Schema):
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(ON_DUPLICATE),
                                 metadata={"description": (
                                     "A row matching a record you may see (or an earlier row): "
                                     "skip it, update that record (only the file's columns), "
                                     "or create it all the same")})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Store nothing; report what an import would do"})
    atomic = fields.Boolean(load_default=True, metadata={
        "description": "Any invalid row: nothing is imported (false: the valid rows are)"})
    mapping = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=1000)),
        values=fields.String(allow_none=True, validate=validate.Length(max=64)),
        load_default=dict, validate=validate.Length(max=MAX_COLUMNS),
        metadata={"description": '{"<column header>": "<field>"}; a field of null ignores '
                                 "the column"})


class RowsField(fields.Field):
    """Rows of a file as the gateway read them: ``[[row number, [cell, ...]], ...]``."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"type": "array", "items": {"type": "array"}}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list) or len(value) > MAX_CHUNK_ROWS:
            raise MarshmallowError(f"A list of at most {MAX_CHUNK_ROWS} rows.")
        size = 0
        for row in value:
            if not (isinstance(row, list) and len(row) == 2 and type(row[0]) is int
                    and row[0] >= 1 and isinstance(row[1], list) and len(row[1]) <= MAX_CELLS
                    and all(isinstance(cell, str) for cell in row[1])):
                raise MarshmallowError("Each row is [its number, [its cells as text]].")
            size += sum(map(len, row[1]))
        if size > MAX_CHUNK_CHARS:
            raise MarshmallowError(f"At most {MAX_CHUNK_CHARS} characters in one call.")
        return [(number, cells) for number, cells in value]


class ImportRowsSchema(Schema):
    rows = RowsField(required=True)
    last = fields.Boolean(required=True, metadata={"description": "No rows follow"})


class ImportCreateSchema(ImportRowsSchema):
    """A new job with the file's first rows (the gateway read the file)."""

    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    file_name = fields.String(allow_none=True, validate=validate.Length(max=255))
    header = fields.List(fields.String(validate=validate.Length(max=1000)), required=True,
                         validate=validate.Length(min=1, max=MAX_COLUMNS))
    total = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    empty_rows = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    options = fields.Nested(ImportOptionsSchema, required=True)


class ImportCountsSchema(Schema):
    total = fields.Integer(metadata={"description": "Rows of the file that are not empty"})
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer(metadata={"description": (
        "Duplicates skipped, updates that changed nothing, and the valid rows of an atomic "
        "import that had invalid ones")})
    failed = fields.Integer()


class ImportColumnSchema(Schema):
    column = fields.String(metadata={"description": "The header as in the file"})
    field = fields.String(allow_none=True, metadata={"description": "The field it fills"})


class ImportErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "As a spreadsheet numbers it (the header's "
                                                  "row is usually 1)"})
    column = fields.String(allow_none=True, metadata={"description": "The header, as in the "
                                                                     "file; null: the row"})
    value = fields.String(allow_none=True)
    message = fields.String()


class ImportJobSummarySchema(Schema):
    id = fields.UUID()
    entity = fields.String(metadata={"enum": list(ENTITIES)})
    status = fields.String(metadata={"enum": list(STATUSES)})
    file_name = fields.String(allow_none=True)
    on_duplicate = fields.String(metadata={"enum": list(ON_DUPLICATE)})
    dry_run = fields.Boolean()
    atomic = fields.Boolean()
    counts = fields.Nested(ImportCountsSchema, metadata={"description": (
        "Final once the job has finished: total = created + updated + skipped + failed")})
    processed = fields.Integer(metadata={"description": "Rows done so far"})
    empty_rows = fields.Integer(metadata={"description": "Empty rows, skipped"})
    columns = fields.List(fields.Nested(ImportColumnSchema))
    unknown_columns = fields.List(fields.String(), metadata={
        "description": "Headers that name no field: their cells were not imported"})
    message = fields.String(allow_none=True)
    created_by = fields.UUID(allow_none=True)
    created_at = UTCDateTimeField()
    started_at = UTCDateTimeField(allow_none=True)
    finished_at = UTCDateTimeField(allow_none=True)


class ImportJobSchema(ImportJobSummarySchema):
    errors = fields.List(fields.Nested(ImportErrorSchema), metadata={
        "description": f"The first {ERRORS_SHOWN}, by row; errors.csv holds every failed row"})


class ImportFieldsQuerySchema(Schema):
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))


class ImportFieldSchema(Schema):
    field = fields.String(metadata={"description": "What a mapping names"})
    labels = fields.List(fields.String(), metadata={
        "description": "The English and Chinese headers that fill it without a mapping"})


class ImportFieldListSchema(Schema):
    items = fields.List(fields.Nested(ImportFieldSchema), metadata={
        "description": "In the order an export writes them"})


class ImportListQuerySchema(PageQuerySchema):
    """The caller's import jobs (every job for an admin), newest first."""

    class Meta:
        exclude = ("sort",)

    entity = fields.String(validate=validate.OneOf(ENTITIES))


class ImportErrorsQuerySchema(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=MAX_CHUNK_ROWS,
                           validate=validate.Range(min=1, max=MAX_CHUNK_ROWS))


job_summary_out = ImportJobSummarySchema()
job_out = ImportJobSchema()


# -- what a service imports ------------------------------------------------------------------
class Target(Protocol):
    """How a service imports one entity; ``check`` and ``store`` run in the job's unit of work
    (held: a use case's commit joins the batch's transaction)."""

    entity: str
    columns: importing.Columns
    create_schema: type[Schema]  # its required fields are the columns every file needs
    compared: tuple[sa.Table, ...]  # the tables a batch's duplicates are looked up in

    def require_write(self, actor: Actor) -> None: ...

    def check(self, uow: UnitOfWork, cells: dict[str, str]) -> dict:
        """The row (``field -> cell``) validated as the API's create would (raising
        :class:`CrmError`, writing nothing): what ``store`` takes."""

    # Optional: ``prepare(uow, checked)``, called with a batch's valid rows once they are
    # checked, makes ready what ``store`` will write of them without the database (ids, rows,
    # snapshots); in a whole-file run on PostgreSQL it runs with the checks, while the batch
    # before is being written. It must not raise: a row's refusal belongs in ``check``.

    def store(self, uow: UnitOfWork, checked: list[dict], on_duplicate: str,
              services: dict) -> list[tuple[str, object] | CrmError]:
        """For each checked row of a batch, in order, ``(created | updated | skipped, record
        id)``, or the :class:`CrmError` that refused it, having written nothing of it.
        ``services``: the service's ``import_services()`` (RPC proxies)."""


@dataclass(frozen=True)
class Outcome:
    number: int
    outcome: str
    errors: list | None = None
    record_id: object = None


@dataclass(frozen=True)
class Layout:
    """What checking a row needs of its job, read once: a check in another green thread
    never touches the job's session."""
    header: list[str]
    mapped_fields: list[str | None]

    @classmethod
    def of(cls, job) -> Layout:
        return cls(list(job.header), list(job.mapped_fields))


@dataclass(frozen=True)
class Checks:
    """A batch's rows checked: the failures' outcomes by row number, and the valid rows as
    ``(number, cells, what the target made of it)``, in order."""
    failed: dict[int, Outcome]
    valid: list[tuple[int, list[str], dict]]


class Superseded(Exception):
    """The job is no longer this run's (another instance took it over)."""


class ImportJobs:
    """The use cases of one service's import jobs, and the run of a queued one."""

    def __init__(self, target: Target, job_model, row_model):
        self.target = target
        self.Job = job_model
        self.Row = row_model

    # -- receiving a file --------------------------------------------------------------------
    def create(self, uow: UnitOfWork, payload) -> dict:
        """A job for the file's ``header`` with its first rows; queued when ``last``."""
        self.target.require_write(uow.actor)
        data = load(ImportCreateSchema, payload)
        if data["entity"] != self.target.entity:
            raise ValidationError("Invalid input.", {"entity": [
                f"This service imports {self.target.entity}."]})
        options = data["options"]
        mapped, unknown = importing.map_columns(
            data["header"], self.target.columns, options["mapping"],
            importing.required_fields(self.target.create_schema))
        job = self.Job(
            entity=self.target.entity, status=UPLOADING, file_name=data.get("file_name"),
            on_duplicate=options["on_duplicate"], dry_run=options["dry_run"],
            atomic=options["atomic"], header=data["header"], mapped_fields=mapped,
            unknown_columns=unknown, total=data["total"], empty_rows=data["empty_rows"],
            received=0, actor=uow.actor.to_context(), created_by=uow.actor.user_uuid)
        uow.session.add(job)
        uow.session.flush()
        self._receive(uow, job, data)
        uow.commit()
        return self._dump(uow.session, job)

    def add_rows(self, uow: UnitOfWork, job_id, payload) -> dict:
        """More rows of a file still arriving; the job is queued when ``last``."""
        self.target.require_write(uow.actor)
        data = load(ImportRowsSchema, payload)
        job = uow.session.scalars(sa.select(self.Job).where(
            self.Job.id == as_uuid(job_id, "import"),
            self.Job.created_by == uow.actor.user_uuid).with_for_update()).first()
        if job is None:
            raise NotFound(f"No import with id {job_id}.")
        if job.status != UPLOADING:
            raise Conflict("The import has all its rows already.")
        self._receive(uow, job, data)
        uow.commit()
        return self._dump(uow.session, job)

    def _receive(self, uow: UnitOfWork, job, data: dict) -> None:
        rows = data["rows"]
        if rows:
            insert_many(uow.session, self.Row.__table__, [
                {"job_id": job.id, "number": number, "cells": cells} for number, cells in rows])
        job.received += len(rows)
        if data["last"]:
            if job.received != job.total:
                raise ValidationError("Invalid input.", {"rows": [
                    f"The file has {job.total} rows; {job.received} arrived."]})
            job.status = "queued"

    # -- reading -----------------------------------------------------------------------------
    def _reads_all(self, actor) -> bool:
        """Whether ``actor`` sees every job: an admin, the system, or an API key whose scopes
        read the records the jobs hold (their failed rows are those records' data)."""
        if actor.role == INTEGRATION:
            return f"{self.target.entity}:read" in actor.scopes
        return actor.acts_as_admin

    def _visible(self, uow: UnitOfWork, job_id):
        """The job with ``job_id`` if the caller made it or reads every job."""
        job = uow.session.get(self.Job, as_uuid(job_id, "import"))
        if (job is None or job.status == UPLOADING
                or not (self._reads_all(uow.actor)
                        or (uow.actor.user_uuid is not None
                            and job.created_by == uow.actor.user_uuid))):
            raise NotFound(f"No import with id {job_id}.")
        return job

    def get(self, uow: UnitOfWork, job_id) -> dict:
        return self._dump(uow.session, self._visible(uow, job_id))

    def list(self, uow: UnitOfWork, query_args) -> dict:
        args = load(ImportListQuerySchema, query_args)
        query = sa.select(self.Job).where(self.Job.status != UPLOADING,
                                          self.Job.entity == args.get("entity",
                                                                      self.target.entity))
        if not self._reads_all(uow.actor):
            query = query.where(self.Job.created_by == uow.actor.user_uuid,
                                self.Job.created_by.is_not(None))
        query = query.order_by(self.Job.created_at.desc(), self.Job.id)
        return paginate(uow.session, query, args,
                        dump=lambda job: job_summary_out.dump(self._fields(job)))

    def failed_rows(self, uow: UnitOfWork, job_id, query_args) -> dict:
        """``{"header", "items": [{"row", "cells", "errors"}], "next"}``: the failed rows
        after row ``after``, as they were in the file, for errors.csv."""
        args = load(ImportErrorsQuerySchema, query_args or {})
        job = self._visible(uow, job_id)
        rows = uow.session.scalars(
            sa.select(self.Row).where(self.Row.job_id == job.id, self.Row.outcome == "failed",
                                      self.Row.number > args["after"])
            .order_by(self.Row.number).limit(args["limit"])).all()
        return {"header": job.header,
                "items": [{"row": row.number, "cells": row.cells, "errors": row.errors}
                          for row in rows],
                "next": rows[-1].number if len(rows) == args["limit"] else None}

    def _fields(self, job) -> dict:
        return {
            "id": job.id, "entity": job.entity,
            "status": job.status, "file_name": job.file_name,
            "on_duplicate": job.on_duplicate, "dry_run": job.dry_run, "atomic": job.atomic,
            "counts": {"total": job.total, "created": job.created, "updated": job.updated,
                       "skipped": job.skipped, "failed": job.failed},
            "processed": job.processed, "empty_rows": job.empty_rows,
            "columns": [{"column": column, "field": field}
                        for column, field in zip(job.header, job.mapped_fields)],
            "unknown_columns": job.unknown_columns, "message": job.message,
            "created_by": job.created_by, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at,
        }

    def _dump(self, session, job) -> dict:
        errors = []
        if job.failed:
            for number, row_errors in session.execute(
                    sa.select(self.Row.number, self.Row.errors)
                    .where(self.Row.job_id == job.id, self.Row.outcome == "failed")
                    .order_by(self.Row.number).limit(ERRORS_SHOWN)):
                errors += [{"row": number, **error} for error in row_errors or ()]
        return job_out.dump({**self._fields(job), "errors": errors[:ERRORS_SHOWN]})

    # -- running -----------------------------------------------------------------------------
    def run_queued(self, db, services: dict | None = None) -> bool:
        """The service's timer: claim a queued job (or one whose worker died) and run it to
        its end, as its creator (``services``, other services' RPC proxies the target asks,
        are asked as them). ``db``: the timer's ``ServiceDatabase``. False when there was
        none."""
        claimed = self._claim(db.session_factory)
        if claimed is None:
            return False
        job_id, claim, actor, whole = claimed
        db.act_as(actor)  # its units of work, and its calls to other services
        self._refresh_statistics(db.session_factory)
        run = self._run_whole if whole else self._run_batches
        try:
            run(db, job_id, claim, services or {})
        except Superseded:
            log.warning("import %s was taken over by another run", job_id)
        except Exception as exc:  # noqa: BLE001 - the job fails, saying so; never half-counted
            log.exception("import %s stopped", job_id)
            self._stop(db.session_factory, job_id, claim, STOPPED.format(error=type(exc).__name__))
        return True

    def _refresh_statistics(self, session_factory) -> None:
        """``ANALYZE`` the tables a job's duplicates are looked up in (PostgreSQL) when their
        statistics are stale as autovacuum counts it (more rows changed since the last
        analysis than 50 and a tenth of the table), at once rather than up to a minute
        later, in a transaction of its own before the job's. Right after a bulk change
        (another import, a restore) stale statistics make each batch's lookup read the
        whole table instead of its indexes: 88 ms a batch against 8 ms on 150,000
        customers. ``SKIP_LOCKED``: a table another holds (a VACUUM, a migration) is passed
        over, never waited for. A failure only leaves the statistics as they were."""
        try:
            with session_factory() as session:
                if session.bind.dialect.name != "postgresql":
                    return
                stale = session.scalars(sa.text(
                    "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(:names) "
                    "AND n_mod_since_analyze > 50 + 0.1 * n_live_tup"),
                    {"names": [table.name for table in self.target.compared]}).all()
                preparer = session.bind.dialect.identifier_preparer
                for table in self.target.compared:
                    if table.name in stale:
                        session.execute(sa.text(
                            f"ANALYZE (SKIP_LOCKED) {preparer.format_table(table)}"))
                session.commit()
        except Exception:  # noqa: BLE001 - the job runs all the same
            log.warning("import: refreshing the statistics of %s failed",
                        ", ".join(table.name for table in self.target.compared), exc_info=True)

    def _stop(self, session_factory, job_id, claim, message: str) -> None:
        try:
            with session_factory() as session, session.begin():
                self._give_up(session, self._held(session, job_id, claim), message)
        except Superseded:
            pass

    def _claim(self, session_factory):
        """``(job id, claim, actor, whole file)`` of the job this run takes, or ``None``."""
        with session_factory() as session, session.begin():
            now = utcnow()
            query = sa.select(self.Job).where(sa.or_(
                self.Job.status == "queued",
                sa.and_(self.Job.status == "running",
                        self.Job.heartbeat_at < now - STALLED_AFTER),
            )).order_by(self.Job.created_at).limit(1)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            job = session.scalars(query).first()
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                self._give_up(session, job, INTERRUPTED.format(attempts=job.attempts))
                return None
            job.status, job.claim, job.heartbeat_at = "running", new_id(), now
            job.attempts += 1
            job.started_at = job.started_at or now
            return (job.id, job.claim, Actor.from_context(job.actor),
                    job.atomic or job.dry_run)

    def _held(self, session, job_id, claim):
        """The job, locked, if this run still holds it; else :class:`Superseded`."""
        job = session.scalars(sa.select(self.Job).where(self.Job.id == job_id)
                              .with_for_update().execution_options(populate_existing=True)
                              ).first()
        if job is None or job.claim != claim or job.status != "running":
            raise Superseded(job_id)
        return job

    def _rows_after(self, session, job_id, after: int):
        return session.execute(
            sa.select(self.Row.number, self.Row.cells)
            .where(self.Row.job_id == job_id, self.Row.number > after)
            .order_by(self.Row.number).limit(BATCH)).all()

    def _run_batches(self, db, job_id, claim, services: dict) -> None:
        """One transaction per batch: its records and events, its rows' outcomes and the
        job's counts and cursor commit together."""
        while True:
            with db.unit_of_work() as uow:
                job = self._held(uow.session, job_id, claim)
                rows = self._rows_after(uow.session, job_id, job.cursor)
                if not rows:
                    self._finish(job)
                    uow.session.commit()
                    return
                uow.hold_commits()
                outcomes = self._outcomes(uow, job, rows, services, write=True)
                self._record(uow.session, job, outcomes)
                job.cursor = rows[-1].number
                uow.release()

    def _run_whole(self, db, job_id, claim, services: dict) -> None:
        """The whole file in one transaction: kept when atomic, all valid and no dry run,
        else rolled back and the outcomes alone stored. Once a row of an atomic import
        fails, what was written is rolled back at once and the rest is only checked."""
        with db.unit_of_work() as uow:
            job = self._held(uow.session, job_id, claim)
            uow.session.commit()  # no lock while it runs: its progress is told beside it
            tell = self._progress(db, job_id, claim, uow.session.bind.dialect.name)
            atomic, dry_run, writing = job.atomic, job.dry_run, True
            uow.hold_commits()
            outcomes: list[Outcome] = []
            with closing(self._checked_batches(db, uow, job_id, Layout.of(job))) as batches:
                for rows, checks in batches:
                    batch = self._stored(uow, job, rows, checks, services, write=writing)
                    outcomes += batch
                    if writing and atomic and any(one.outcome == "failed" for one in batch):
                        writing = False
                        uow.rollback()
                    tell(len(outcomes))
            if atomic and not writing:
                outcomes = [outcome if outcome.outcome == "failed"
                            else replace(outcome, outcome="skipped", record_id=None)
                            for outcome in outcomes]
            if dry_run:
                outcomes = [replace(outcome, record_id=None) for outcome in outcomes]
            if writing and not dry_run:
                job = self._held(uow.session, job_id, claim)
                self._record(uow.session, job, outcomes)
                self._finish(job)
                uow.release()
                return
            uow.rollback()
        with db.session_factory() as session, session.begin():
            job = self._held(session, job_id, claim)
            self._record(session, job, outcomes)
            self._finish(job)

    def _progress(self, db, job_id, claim, dialect: str):
        """How a whole-file run tells how far it is (and that it is alive), in a transaction
        of its own beside the run's. Not on SQLite, where the run is the one writer."""
        if dialect == "sqlite":
            return lambda processed: None

        def tell(processed: int) -> None:
            with db.session_factory() as session, session.begin():
                session.execute(sa.update(self.Job).where(
                    self.Job.id == job_id, self.Job.claim == claim).values(
                    processed=processed, heartbeat_at=utcnow()))

        return tell

    def _checked_batches(self, db, uow: UnitOfWork, job_id, layout: Layout):
        """The job's rows batch by batch, each with its rows checked: ``(rows, checks)``.
        On PostgreSQL the next batch is read, checked and prepared (``_checked``) in a green
        thread, with a session of its own (the rows and the directory it reads are
        committed), while the caller stores this one and waits on the database: the checking
        and preparing (about half of an import's Python) is done in those waits. On SQLite,
        the one writer, in turn in ``uow``."""
        def batch_after(reader: UnitOfWork, after: int):
            rows = self._rows_after(reader.session, job_id, after)
            return rows and (rows, self._checked(reader, layout, rows,
                                                 beside_writes=reader is not uow))

        if uow.session.bind.dialect.name == "sqlite":
            after = 0
            while batch := batch_after(uow, after):
                yield batch
                after = batch[0][-1].number
            return
        with db.unit_of_work() as reader:
            coming = eventlet.spawn(batch_after, reader, 0)
            try:
                while batch := coming.wait():
                    coming = eventlet.spawn(batch_after, reader, batch[0][-1].number)
                    yield batch
            finally:
                coming.kill()  # the caller stopped (an error): the reader's session closes
                # (at once: the caller closes this generator)

    def _outcomes(self, uow: UnitOfWork, job, rows, services: dict, *,
                  write: bool) -> list[Outcome]:
        """What importing a batch of rows does: each checked, then (``write``) the valid ones
        stored together; an atomic import stores none of a batch with an invalid row."""
        return self._stored(uow, job, rows, self._checked(uow, Layout.of(job), rows),
                            services, write=write)

    def _checked(self, uow: UnitOfWork, layout: Layout, rows, *,
                 beside_writes: bool = False) -> Checks:
        """Each row of a batch checked by the target: the failures' outcomes, and what the
        target made of each valid row with the row's number and cells (made ready to store
        by the target's ``prepare``, if it has one). ``beside_writes``: in a green thread
        beside the batch being written, which goes on as soon as the database answers it,
        not once the whole batch is checked: the check yields every ``CHECK_SLICE`` rows
        (holding on for its whole batch, it left the database idle for most of its time)."""
        width = len(layout.header)
        checks = Checks({}, [])
        prepare = getattr(self.target, "prepare", None)
        for start in range(0, len(rows), CHECK_SLICE):
            valid = []
            for number, cells in rows[start:start + CHECK_SLICE]:
                if len(cells) != width:
                    checks.failed[number] = Outcome(number, "failed", [{
                        "column": None, "value": None,
                        "message": CELL_COUNT.format(cells=len(cells), columns=width)}])
                    continue
                values = {field: cells[index]
                          for index, field in enumerate(layout.mapped_fields) if field}
                try:
                    valid.append((number, cells, self.target.check(uow, values)))
                except CrmError as exc:
                    checks.failed[number] = Outcome(number, "failed",
                                                    self._errors(layout, cells, exc))
            if prepare is not None and valid:
                prepare(uow, [row for *_, row in valid])
            checks.valid.extend(valid)
            if beside_writes:
                eventlet.sleep(0)
        return checks

    def _stored(self, uow: UnitOfWork, job, rows, checks: Checks, services: dict, *,
                write: bool) -> list[Outcome]:
        """The batch's valid rows stored together (``write``; an atomic import stores none of
        a batch with an invalid row): every row's outcome, in the file's order."""
        outcomes = dict(checks.failed)
        if write and not (job.atomic and outcomes):
            stored = self.target.store(uow, [row for *_, row in checks.valid],
                                       job.on_duplicate, services)
        else:
            stored = [("skipped", None)] * len(checks.valid)
        layout = Layout.of(job)
        for (number, cells, _), result in zip(checks.valid, stored):
            if isinstance(result, CrmError):
                outcomes[number] = Outcome(number, "failed", self._errors(layout, cells, result))
            else:
                outcome, record_id = result
                outcomes[number] = Outcome(number, outcome, None, uuid.UUID(str(record_id))
                                           if record_id is not None else None)
        return [outcomes[number] for number, _ in rows]

    @staticmethod
    def _errors(layout: Layout, cells: list[str], exc: CrmError) -> list[dict]:
        """A refusal as errors of the row: each at its column with the cell's value (a field
        the file has no column for by its name; the row as a whole: no column)."""
        if not isinstance(exc, ValidationError) or not exc.details:
            return [{"column": None, "value": None, "message": exc.message}]
        errors = []
        for path, messages in exc.details.items():
            field = str(path).split(".", 1)[0]
            column, value = (None if field == "_schema" else field), None
            if field in layout.mapped_fields:
                index = layout.mapped_fields.index(field)
                column, value = layout.header[index], cells[index]
            errors += [{"column": column, "value": value, "message": message}
                       for message in messages]
        return errors

    def _record(self, session, job, outcomes: list[Outcome]) -> None:
        """The rows' outcomes (one statement: ``update_many``) and the job's counts."""
        update_many(session, self.Row, [
            {"job_id": job.id, "number": outcome.number, "outcome": outcome.outcome,
             "errors": outcome.errors, "record_id": outcome.record_id}
            for outcome in outcomes])
        for outcome in outcomes:
            setattr(job, outcome.outcome, getattr(job, outcome.outcome) + 1)
        job.processed = job.created + job.updated + job.skipped + job.failed
        job.heartbeat_at = utcnow()

    @staticmethod
    def _finish(job) -> None:
        refused = job.atomic and job.failed
        job.status = "failed" if refused else "succeeded"
        if refused:
            job.message = (DRY_RUN_REFUSED if job.dry_run else ATOMIC_REFUSED).format(
                failed=job.failed, total=job.total)
        elif job.dry_run:
            job.message = DRY_RUN
        elif job.failed:
            job.message = SOME_FAILED.format(failed=job.failed, total=job.total)
        job.finished_at, job.claim = utcnow(), None

    def _give_up(self, session, job, message: str) -> None:
        """End ``job`` as failed: every row without an outcome failed with ``message``."""
        rest = session.execute(sa.update(self.Row).where(
            self.Row.job_id == job.id, self.Row.outcome.is_(None)).values(
            outcome="failed", errors=[{"column": None, "value": None, "message": message}])
        ).rowcount
        job.failed += rest
        job.processed = job.created + job.updated + job.skipped + job.failed
        job.status, job.message = "failed", message
        job.finished_at, job.claim = utcnow(), None

    def prune(self, session, cutoff) -> dict[str, int]:
        """Jobs finished before ``cutoff`` (``CRM_RETENTION_DAYS``), and uploads never finished
        (the gateway died during one) older than ``UPLOAD_EXPIRES``, with their rows. Run by
        the hourly retention (``common.retention``), not by every tick of the jobs' timer."""
        old = sa.select(self.Job.id).where(sa.or_(
            self.Job.finished_at < cutoff,
            sa.and_(self.Job.status == UPLOADING, self.Job.created_at < utcnow() - UPLOAD_EXPIRES)))
        rows = session.execute(sa.delete(self.Row).where(self.Row.job_id.in_(old))).rowcount
        jobs = session.execute(sa.delete(self.Job).where(self.Job.id.in_(old))).rowcount
        return {"import_rows": rows, "import_jobs": jobs}
