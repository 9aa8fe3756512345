"""How a blueprint forwards a request to a service: the client's JSON goes on unchanged (the
service validates it again and decides), the service's answer comes back as JSON."""
from __future__ import annotations

from flask import jsonify, request, url_for

from gateway.rpc import rpc_call
from gateway.versioning import expected_version

IF_MATCH_DOC = {
    "parameters": [{
        "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
        "description": 'The version last read, e.g. "3", when the body has no version.',
    }]
}


def answer(service: str, method: str, *args):
    """Call ``service.method`` and answer its result as JSON."""
    return jsonify(rpc_call(service, method, *args))


def created(service: str, method: str, *args, location_endpoint: str, id_arg: str):
    """201 with the created record and its ``Location``."""
    result = rpc_call(service, method, *args)
    response = jsonify(result)
    response.status_code = 201
    response.headers["Location"] = url_for(location_endpoint, **{id_arg: result["id"]})
    return response


def no_content(service: str, method: str, *args):
    rpc_call(service, method, *args)
    return "", 204


def versioned_body() -> dict:
    """The PATCH body as sent, with ``version`` from ``If-Match`` when the body has none."""
    body = dict(request.get_json())
    body["version"] = expected_version(body)
    return body


def query_args() -> dict:
    return request.args.to_dict()
