"""How a blueprint forwards a request to whoever decides: a service over RPC, or one of
identity's use cases in-process (``gateway.identity``), run in a unit of work as the caller.

The client's JSON goes on as sent (the service or use case validates it again and decides);
the answer comes back as JSON. The one thing added is HTTP's: a PATCH's version may come as
``If-Match`` instead of a body field.
"""
from __future__ import annotations

import re

from flask import Response, jsonify, request, url_for

from common.errors import ValidationError
from gateway import outbox
from common.idempotency import run_once
from gateway.auth import current_actor
from gateway.auth.access import request_key
from gateway.rpc import rpc_call

IF_MATCH_DOC = {
    "parameters": [{
        "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
        "description": 'The version last read, e.g. "3", when the body has no version.',
    }]
}
_IF_MATCH = re.compile(r'\s*(?:W/)?"?(\d{1,9})"?\s*')


def _answer(result, status: int) -> Response:
    """``result`` as JSON with ``status`` (a 204 sends no body)."""
    response = jsonify(result)
    response.status_code = status
    return response


def answer(service: str, method: str, *args):
    """Call ``service.method`` and answer its result as JSON."""
    return _answer(rpc_call(service, method, *args), 200)


def created(service: str, method: str, *args, location_endpoint: str, id_arg: str):
    """201 with the created record and its ``Location``."""
    result = rpc_call(service, method, *args)
    response = _answer(result, 201)
    response.headers["Location"] = url_for(location_endpoint, **{id_arg: result["id"]})
    return response


def no_content(service: str, method: str, *args):
    return _answer(rpc_call(service, method, *args), 204)


def identity(use_case, *args, status: int = 200, replayed=None):
    """Run ``use_case(uow, *args)`` in a unit of work of the identity database as the caller
    (it commits, and its events are published, or it changes nothing) and answer its result
    with ``status``; a write runs once per idempotency key, as in a service."""
    key = request_key()
    with outbox.unit_of_work(current_actor()) as uow:
        if key is None:
            result = use_case(uow, *args)
        else:
            result = run_once(uow, key, use_case, *args, replayed=replayed)
    return _answer(result, status)


def request_body() -> dict:
    """The JSON body as sent."""
    return request.get_json()


def expected_version(body: dict) -> int:
    """The version a PATCH is based on: the body field ``version``, else ``If-Match:
    "<version>"``; 400 when neither says."""
    version = body.get("version")
    if version is not None:
        return version
    header = request.headers.get("If-Match")
    if header is None:
        raise ValidationError("", {"version": ["Required as a body field or an If-Match header."]})
    match = _IF_MATCH.fullmatch(header)
    if not match:
        raise ValidationError("", {"version": ["Not a valid integer."]})
    return int(match.group(1))


def versioned_body() -> dict:
    """The PATCH body as sent, with ``version`` from ``If-Match`` when the body has none."""
    body = dict(request_body())
    body["version"] = expected_version(body)
    return body


def query_args() -> dict:
    return request.args.to_dict()
