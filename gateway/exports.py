"""A list as a file download: the list's filters in, a CSV or XLSX of the records the caller
may see out, in the columns import reads (a contract's ``TRANSFER_COLUMNS``).

The owning service answers keyset pages (``export_<entity>(query, after, limit)``), applying
its own record-level access as for the list. The first page is asked before the response
starts, so a bad filter or an absent service answers problem+json like any request. The
file, CSV or XLSX, is then written and sent as the pages come (chunked; memory flat in the
row count; ``common.tabular``). A failure once the body has started cuts the download off
without its last chunk, so no client takes a partial file for a whole one.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Iterator

from flask import Response, stream_with_context
from marshmallow import Schema, fields, validate

from common import tabular
from gateway.forwarding import query_args
from gateway.rpc import rpc_call

FORMATS = ("csv", "xlsx")
PAGE_SIZE = 1000
FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    tabular.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
}
DOWNLOAD_DOC = {"responses": {200: {
    "description": "The file: a header row of field names, then one row per record in "
                   "creation order; CSV in UTF-8 with a BOM; every cell text; a value a "
                   "spreadsheet would run as a formula starts with an apostrophe.",
    "headers": {"Content-Disposition": {"schema": {"type": "string"},
                                        "description": 'attachment; filename="customers-'
                                                       '2026-01-31.csv"'}},
    "content": FILE_CONTENT,
}}}


@functools.cache
def query_schema(filters: type[Schema]) -> type[Schema]:
    """A contract's export filters and the file ``format``, as the route reads them."""
    return type(filters.__name__.removesuffix("Schema") + "FileSchema", (filters,), {
        "format": fields.String(load_default="csv", validate=validate.OneOf(FORMATS),
                                metadata={"description": "csv (UTF-8 with a BOM) or xlsx"}),
    })


def download(service: str, method: str, entity: str, columns) -> Response:
    """The file of ``service.method``'s pages, named after ``entity`` and today (UTC)."""
    filters = query_args()
    file_format = filters.pop("format", "csv")
    first = rpc_call(service, method, filters, None, PAGE_SIZE)
    rows = _rows(service, method, filters, first, [field for field, *_ in columns])
    if file_format == "csv":
        chunks, media_type = tabular.csv_chunks(rows), tabular.CSV_MEDIA_TYPE
    else:
        chunks, media_type = tabular.xlsx_chunks([(entity, rows)]), tabular.XLSX_MEDIA_TYPE
    name = f"{entity}-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.{file_format}"
    return Response(stream_with_context(chunks), mimetype=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _rows(service: str, method: str, filters: dict, page: dict, fields) -> Iterator[list]:
    """The header row, then each record's cells, asking for the next page as one runs out."""
    yield list(fields)
    while True:
        for item in page["items"]:
            yield [tabular.transfer_cell(item.get(field)) for field in fields]
        if page["next"] is None:
            return
        page = rpc_call(service, method, filters, page["next"], PAGE_SIZE)
