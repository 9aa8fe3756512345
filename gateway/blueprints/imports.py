"""Imports: a CSV or XLSX file of customers or leads in, a job out; the job as it runs, and
its failed rows as a file to fix and import again.

The gateway reads the file (``gateway.imports``: a file it cannot read is a 400 before
anything is stored); the service that owns the entity validates every row with its own
contract, stores and runs the job, and decides who may see it (its creator, and admins).
"""
from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from common.import_jobs import (
    ImportFieldListSchema, ImportFieldsQuerySchema, ImportJobSchema, ImportJobSummarySchema,
    ImportListQuerySchema,
)
from gateway import imports
from gateway.auth import login_required
from gateway.pagination import page_schema

blp = Blueprint("imports", __name__, description="Import customers and leads from CSV or XLSX")
blp.before_request(imports.allow_file_bodies)


@blp.route("/imports")
class Imports(MethodView):
    @login_required()
    @blp.arguments(ImportListQuerySchema, location="query")
    @blp.response(200, page_schema(ImportJobSummarySchema))
    def get(self, args):
        """Your import jobs (an admin: everyone's), newest first."""
        return jsonify(imports.page(args))

    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(403, response="FORBIDDEN")
    @login_required()
    @blp.doc(**imports.FORM_DOC)
    @blp.response(202, ImportJobSchema)
    def post(self):
        """Import a file of customers or leads: 202 with the job, which runs in the background
        (poll it). Every row is validated as the API's create validates it; ``atomic`` (the
        default) imports nothing unless every row is valid; ``dry_run`` stores nothing and
        counts what an import would do; a row that duplicates a record you may see (or an
        earlier row) is skipped, updated or created as ``on_duplicate`` says. A file that
        cannot be read (too large, not CSV or XLSX, broken quotes, no header, a column named
        twice, no column for a required field) is a 400 and nothing is stored."""
        return imports.accept()


@blp.route("/imports/fields")
class ImportFields(MethodView):
    @login_required()
    @blp.arguments(ImportFieldsQuerySchema, location="query")
    @blp.response(200, ImportFieldListSchema)
    def get(self, args):
        """The fields a file of ``entity`` may fill, each with the headers that fill it
        without a ``mapping`` (its name, its English and Chinese labels)."""
        return imports.fields_of(args["entity"])


@blp.route("/imports/<uuid:import_id>")
class Import(MethodView):
    @login_required()
    @blp.response(200, ImportJobSchema)
    def get(self, import_id):
        """One import job: its status, counts, and the first errors by row and column."""
        return jsonify(imports.translated(imports.find(str(import_id))[1]))


@blp.route("/imports/<uuid:import_id>/errors.csv")
class ImportErrors(MethodView):
    @login_required()
    @blp.doc(**imports.ERRORS_DOC)
    def get(self, import_id):
        """The job's failed rows as they were, an error column first: fix, import again."""
        return imports.errors_csv(str(import_id))
