"""How a blueprint forwards a request to a service: the client's JSON goes on unchanged (the
service validates it again and decides), the service's answer comes back as JSON."""
from __future__ import annotations

import uuid

from flask import jsonify, request, url_for

from common.errors import Forbidden, ValidationError
from gateway.auth import current_actor
from gateway.database import session
from gateway.models import User
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


def request_body() -> dict:
    """The JSON body as sent, once any ``owner_id`` in it is known to name someone the caller
    may give a record to. The gateway owns the users, so it is the one to check that the
    owner is a real, active user and, for a manager, a member of their own team; the service
    then applies its own rules (a rep owns what they create, a team's records stay in it)."""
    body = request.get_json()
    if isinstance(body, dict) and body.get("owner_id"):
        _check_owner(body["owner_id"])
    return body


def _check_owner(owner_id) -> None:
    try:
        user = session().get(User, uuid.UUID(str(owner_id)))
    except ValueError:
        return  # not a UUID: the service's validation names the field
    if user is None or not user.active:
        raise ValidationError("", {"owner_id": ["No active user has this id."]})
    actor = current_actor()
    if actor.role == "manager" and str(user.id) != actor.user_id and (
            user.team_id is None or str(user.team_id) != actor.team_id):
        raise Forbidden("You may only give records to members of your own team.")


def versioned_body() -> dict:
    """The PATCH body as sent, with ``version`` from ``If-Match`` when the body has none."""
    body = dict(request_body())
    body["version"] = expected_version(body)
    return body


def query_args() -> dict:
    return request.args.to_dict()
