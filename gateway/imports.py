"""Imports at the gateway: the uploaded file is read here (``common.importing``), so a file
that cannot be imported is a 400 before anything is stored; its rows then go to the service
that owns the entity in chunks (a small message each), which stores and runs the job
(``common.import_jobs``). A job is found at whichever service holds it; its messages are
answered in the caller's language, and errors.csv gives back the failed rows as they were,
with an ``error`` column first, ready to fix and import again.
"""
from __future__ import annotations

import datetime as dt
import json

from flask import Response, jsonify, request, stream_with_context, url_for
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from marshmallow import ValidationError as MarshmallowError
from werkzeug.datastructures import FileStorage

from common import config, importing, tabular
from common.actor import INTEGRATION
from common.errors import CrmError, Forbidden, NotFound
from common.import_jobs import ENTITIES, MAX_CHUNK_ROWS, ImportOptionsSchema
from common.listing import MAX_PER_PAGE
from common.validation import load
from gateway.auth import current_actor
from gateway.i18n import translate
from gateway.request_context import language
from gateway.rpc import rpc_call, rpc_call_part
from services.customers import schemas as customer_schemas
from services.sales import schemas as sales_schemas

# The service that owns each entity, and so its import jobs.
OWNERS = {"customers": "customers", "leads": "sales"}
# The columns of each entity's file: the owning service's contract.
COLUMNS = {"customers": customer_schemas.TRANSFER_COLUMNS,
           "leads": sales_schemas.TRANSFER_COLUMNS}
CHUNK_CHARS = 1_000_000
FORM_OVERHEAD = 1024 * 1024  # room in a request's body for the form beside the file
ERROR_COLUMN = "error"


class FileField(Upload):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise MarshmallowError("Not a file: send it as a file part of multipart/form-data.")
        return value


class MappingField(fields.Field):
    """A JSON object in a form field."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            mapping = json.loads(value)
        except (TypeError, ValueError):
            raise MarshmallowError(importing.NOT_JSON_OBJECT) from None
        return ImportOptionsSchema().fields["mapping"].deserialize(mapping)


class ImportFormSchema(ImportOptionsSchema):
    file = FileField(required=True, metadata={"description": (
        "CSV (UTF-8 with or without a BOM, UTF-16 with a BOM, or GB18030/GBK; comma, "
        "semicolon, tab or | delimited) or XLSX (the first sheet); the first row that is not "
        "empty names the columns: field names or their English or Chinese labels")})
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    mapping = MappingField(load_default=dict, metadata={"type": "string", "description": (
        'A JSON object {"<column header>": "<field>"} naming the field of a column whose '
        "header is not one; null ignores the column")})


FORM_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": ImportFormSchema}}}}
ERRORS_DOC = {"responses": {200: {
    "description": "The failed rows as they were in the file, under its header, with an "
                   "error column first (CSV in UTF-8 with a BOM): fix them and import this "
                   "file again (the error column is ignored).",
    "content": {"text/csv": {"schema": {"type": "string"}}}}}}


def allow_file_bodies() -> None:
    """Before any request of the imports blueprint: its body may be as large as an import
    file (the application's own limit is for JSON); one announced larger is refused at once,
    unread."""
    limit = config.import_max_bytes() + FORM_OVERHEAD
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        raise importing.too_large(config.import_max_bytes())


def accept() -> Response:
    """``POST /imports``: the file read, its rows sent, 202 with the queued job."""
    form = load(ImportFormSchema, {**request.form.to_dict(), **request.files.to_dict()})
    upload, entity = form.pop("file"), form.pop("entity")
    actor = current_actor()
    if actor.role == INTEGRATION and f"{entity}:write" not in actor.scopes:
        # imports:write lets a key send files; what they hold needs the entity's own scope.
        raise Forbidden(f"This API key does not have the scope {entity}:write.")
    table = importing.read_table(upload.read(), config.import_max_bytes())
    job = _send(OWNERS[entity], entity, table, upload.filename, form)
    response = jsonify(translated(job))
    response.status_code = 202
    response.headers["Location"] = url_for("imports.Import", import_id=job["id"])
    return response


def _send(service: str, entity: str, table: importing.Table, file_name, options) -> dict:
    """The job made with the first chunk of rows, then given the others, one call each (each
    runs once under its part of the request's key); the last one queues it."""
    chunks = importing.chunks(table.rows(), MAX_CHUNK_ROWS, CHUNK_CHARS)
    chunk, following = next(chunks, []), next(chunks, None)
    job = rpc_call(service, "create_import", {
        "entity": entity, "file_name": (file_name or "")[:255] or None,
        "header": table.header, "total": table.total, "empty_rows": table.empty_rows,
        "options": options, "rows": chunk, "last": following is None})
    while following is not None:
        chunk, following = following, next(chunks, None)
        job = rpc_call_part(service, "add_import_rows", f"rows:{chunk[0][0]}", job["id"],
                            {"rows": chunk, "last": following is None})
    return job


def translated(job: dict) -> dict:
    """The job with its messages in the caller's language."""
    lang = language()
    if job.get("message"):
        job["message"] = translate(job["message"], lang)
    for error in job.get("errors", ()):
        error["message"] = translate(error["message"], lang)
    return job


def find(job_id: str) -> tuple[str, dict]:
    """``(service, job)``: the job with ``job_id``, asked of each owner until one has it. An
    owner that cannot answer is the answer only when no other has the job."""
    failure: CrmError = NotFound(f"No import with id {job_id}.")
    for service in dict.fromkeys(OWNERS.values()):
        try:
            return service, rpc_call(service, "get_import", job_id)
        except NotFound:
            continue
        except CrmError as exc:
            failure = exc
    raise failure


def page(args: dict) -> dict:
    """``GET /imports``: one page of the caller's jobs of every owner, newest first."""
    if "entity" in args:
        return rpc_call(OWNERS[args["entity"]], "list_imports", request.args.to_dict())
    wanted = args["page"] * args["per_page"]
    items, total = [], 0
    for service in dict.fromkeys(OWNERS.values()):
        newest, count = _newest(service, wanted)
        items += newest
        total += count
    items.sort(key=lambda job: (dt.datetime.fromisoformat(job["created_at"]), job["id"]),
               reverse=True)
    start = (args["page"] - 1) * args["per_page"]
    return {"items": items[start:start + args["per_page"]], "page": args["page"],
            "per_page": args["per_page"], "total": total}


def _newest(service: str, count: int) -> tuple[list, int]:
    """The ``count`` newest jobs the caller may see at ``service``, and how many it has."""
    size = min(count, MAX_PER_PAGE)
    items, number = [], 1
    while True:
        answer = rpc_call(service, "list_imports", {"page": number, "per_page": size})
        items += answer["items"]
        if len(items) >= count or len(answer["items"]) < size:
            return items[:count], answer["total"]
        number += 1


def errors_csv(job_id: str) -> Response:
    """``GET /imports/{id}/errors.csv``: the failed rows, streamed page by page."""
    service, _ = find(job_id)
    first = rpc_call(service, "import_errors", job_id, {"after": 0})
    lang = language()

    def rows():
        yield [tabular.safe_text(cell) for cell in (ERROR_COLUMN, *first["header"])]
        answer = first
        while True:
            for item in answer["items"]:
                message = " | ".join(
                    f"{error['column']}: {translate(error['message'], lang)}"
                    if error["column"] else translate(error["message"], lang)
                    for error in item["errors"] or ())
                yield [tabular.safe_text(cell) for cell in (message, *item["cells"])]
            if answer["next"] is None:
                return
            answer = rpc_call(service, "import_errors", job_id, {"after": answer["next"]})

    response = Response(stream_with_context(tabular.csv_chunks(rows())),
                        mimetype=tabular.CSV_MEDIA_TYPE)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="import-{job_id}-errors.csv"'
    return response


def fields_of(entity: str) -> dict:
    """What a mapping may name for ``entity``'s file, each with the headers it takes."""
    return {"items": [{"field": field, "labels": list(labels)}
                      for field, *labels in COLUMNS[entity]]}
