"""Every error the gateway answers is an RFC 9457 ``application/problem+json`` document.

One place turns exceptions into problems: the typed errors of ``common.errors`` (raised here
or received from a service over RPC), werkzeug's HTTP errors (404, 405, 413 ...), webargs
validation (400, never webargs's default 422) and anything unexpected (500, logged, no
stack trace in the answer). Titles, details and field messages follow ``Accept-Language``.
"""
from __future__ import annotations

import logging

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response, jsonify
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from common.errors import CrmError, Duplicate, ValidationError, flatten_marshmallow
from common.validation import schema_instance, unstorable
from gateway.i18n import problem_text, translate, translate_errors
from gateway.request_context import language, request_id

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://crm.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

HTTP_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class BadRequest(CrmError):
    """A request the gateway cannot read at all (malformed JSON...)."""

    code = "bad_request"
    status = 400


class Unauthorized(CrmError):
    code = "unauthorized"
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="crm"'}


class RateLimited(CrmError):
    """Too many attempts by this caller: try again after ``Retry-After`` seconds."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


class Overloaded(RateLimited):
    """The gateway is at its limit for this kind of work (password hashing), whoever asks:
    try again after ``Retry-After`` seconds."""

    code = "service_unavailable"
    status = 503


class InternalError(CrmError):
    code = "internal_error"
    status = 500


class ServiceUnavailable(CrmError):
    code = "service_unavailable"
    status = 503


class GatewayTimeout(CrmError):
    code = "gateway_timeout"
    status = 504


class OutcomeUnknown(CrmError):
    """A write was sent and its answer did not come: it may or may not have been applied.
    Retrying with the same ``Idempotency-Key`` (echoed on this answer) is safe: it runs at
    most once, and a repeat answers the first result."""

    code = "outcome_unknown"

    def __init__(self, message: str, status: int = 504):
        super().__init__(message + " The request may or may not have been applied; retrying "
                         "it with the same Idempotency-Key is safe.")
        self.status = status


class ProblemSchema(ma.Schema):
    """The body of every error response (documentation only)."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    code = ma.fields.String()
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String())
    )
    request_id = ma.fields.String()
    current_version = ma.fields.Integer()
    matches = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "duplicate: the records you may see that match, each with the record "
                       "and the fields that matched"})


def problem(
    status: int,
    code: str,
    message: str = "",
    errors: dict | None = None,
    extra: dict | None = None,
    headers: dict | None = None,
) -> Response:
    lang = language()
    title, default_detail = problem_text(code, lang)
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": translate(message, lang) if message else default_detail,
        "errors": translate_errors(errors or {}, lang),
        "request_id": request_id(),
        **(extra or {}),
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_CONTENT_TYPE
    response.headers.update(headers or {})
    return response


def handle_crm_error(error: CrmError) -> Response:
    details = dict(error.details)
    extra = {}
    current_version = str(details.pop("current_version", ""))
    if current_version.isdigit():
        # nameko carries exception arguments as strings across RPC.
        extra["current_version"] = int(current_version)
    if isinstance(error, Duplicate):
        details.pop("matches", None)
        extra["matches"] = error.matches
    return problem(
        error.status,
        error.code,
        error.message,
        flatten_marshmallow(details) if details else {},
        extra,
        getattr(error, "headers", None),
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_STATUS_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem(status, code, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error in request %s", request_id())
    return problem(500, "internal_error")


def init_app(app: Flask) -> None:
    """Register the handlers (after flask-smorest's ``Api``, whose own they replace)."""
    app.register_error_handler(CrmError, handle_crm_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


class ProblemJsonPlugin(BasePlugin):
    """Documents error responses as ``application/problem+json``, the type they are sent with
    (flask-smorest documents every response with the success type)."""

    def response_helper(self, response, **kwargs):
        # flask-smorest's component responses are its error responses.
        return _as_problem(response)

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for code, response in operation.get("responses", {}).items():
                if str(code)[:1] in ("4", "5") and isinstance(response, dict):
                    _as_problem(response)


def _as_problem(response: dict) -> dict:
    content = response.get("content")
    if content and "application/json" in content:
        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
    return response


class ArgumentParser(FlaskParser):
    """webargs's parser, answering 400 with flat field errors instead of aborting with 422."""

    DEFAULT_VALIDATION_STATUS = 400

    def _get_schema(self, argmap, req):
        """A schema class's one instance (webargs makes one per request: 7 % of the gateway's
        CPU on a page of the customers list)."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return schema_instance(argmap)
        return super()._get_schema(argmap, req)

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        errors: dict[str, list[str]] = {}
        for location_messages in error.messages.values():
            for field, messages in flatten_marshmallow(location_messages).items():
                errors.setdefault(field, []).extend(messages)
        raise ValidationError("", errors)

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise BadRequest("The request body is not valid JSON.") from None

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        problems = dict(unstorable(data)) if isinstance(data, dict) else {}
        if problems:
            raise ValidationError("", problems)
        return data

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise BadRequest("The request body is not valid JSON.")
