"""Who is calling: ``@login_required`` authenticates a view, ``current_actor()`` names the caller.

The gateway authenticates and checks API-key scopes, nothing more: what a role may do is
decided by whoever owns the data (a service, or identity's use cases for users, teams and
keys), and a view that may answer 403 for a role documents it with
``@blp.alt_response(403, response="FORBIDDEN")``.

A request with a bearer token is refused once its user is deactivated or its session (the
refresh-token family) revoked, without waiting for the token to expire; the role and team
come from the user as stored, not from the token. Both are read by primary key and
remembered for a few seconds per process (``gateway.auth.callers``, which states the bound).

Another system calls with ``X-API-Key`` instead: it acts as an ``integration`` and may call
a route only when the key holds the route's scope, ``<resource>:read`` for GET and
``<resource>:write`` otherwise, the resource being the first segment of the path after
``/api/v1`` (``/customers/{id}/contacts`` needs ``customers:read``). Identity routes
(users, teams, keys, sessions) have no scope: no key reaches them.

Once authenticated, a request counts against its caller's rate limit; one that fails to
authenticate counts against its client's address (``gateway.auth.ratelimit``).
"""
from __future__ import annotations

import functools
import uuid
from copy import deepcopy

import jwt
import sqlalchemy as sa
from flask import g, request

from common.actor import INTEGRATION, Actor
from common.errors import Forbidden
from gateway.auth import ratelimit
from gateway.auth.api_keys import key_hash
from gateway.auth.callers import UserState, callers
from gateway.auth.tokens import decode_access_token, session_left
from gateway.database import session
from gateway.errors import Unauthorized
from gateway.models import ApiKey, User
from gateway.request_context import (
    IDEMPOTENCY_DOC, READS, idempotency_key, language, request_id,
)

SECURITY_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKey"
API_KEY_HEADER = "X-API-Key"
API_PREFIX = "/api/v1"
INVALID_TOKEN = "Invalid or expired token."


def login_required():
    """Protect a view: the caller is authenticated, and an API key holds the route's scope.

    Place it under ``@blp.route`` and above ``@blp.arguments``/``@blp.response``, so the
    caller is authenticated before the input is read and the route is documented as secured.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                actor = _authenticate()
            except Unauthorized:
                ratelimit.count_anonymous_request()
                raise
            ratelimit.count_request(caller_key())
            if actor.role == INTEGRATION:
                needed = required_scope()
                if needed not in actor.scopes:
                    raise Forbidden(f"This API key does not have the scope {needed}.")
            return view(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        manual = wrapper._apidoc.setdefault("manual_doc", {})
        manual["security"] = [{SECURITY_SCHEME: []}, {API_KEY_SCHEME: []}]
        responses = wrapper._apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(429, []).append(ratelimit.RESPONSE)
        if view.__name__ not in (method.lower() for method in READS):
            # Every write through the gateway runs once per key (common.idempotency).
            parameters = manual.setdefault("parameters", [])
            if IDEMPOTENCY_DOC not in parameters:
                parameters.append(IDEMPOTENCY_DOC)
        return ratelimit.counts_its_caller(wrapper)

    return decorator


def request_key() -> str | None:
    """The key this write runs once under (``common.idempotency``), scoped to its caller
    (``user:<id>:<key>`` or ``api-key:<id>:<key>``: one caller's key is not another's);
    ``None`` for a read."""
    key = idempotency_key()
    if key is None:
        return None
    return f"{caller_key()}:{key}"


def caller_key() -> str:
    """The authenticated caller as idempotency keys and rate limits name it: ``user:<id>``
    or ``api-key:<id>``."""
    actor = current_actor()
    return f"user:{actor.user_id}" if actor.user_id else f"api-key:{g.api_key_id}"


def current_actor() -> Actor:
    """The authenticated caller of this request (inside a ``@login_required`` view)."""
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("Authentication required.")
    return actor


def required_scope() -> str:
    """The scope an API key needs for this request."""
    resource = request.path.removeprefix(API_PREFIX).strip("/").split("/", 1)[0]
    return f"{resource}:{'read' if request.method in ('GET', 'HEAD') else 'write'}"


def _authenticate() -> Actor:
    if API_KEY_HEADER in request.headers:
        return _authenticate_key(request.headers[API_KEY_HEADER])
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authentication required.")
    try:
        claims = decode_access_token(token.strip())
        user_id = uuid.UUID(claims["sub"])
        family_id = uuid.UUID(claims["sid"])
    except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError):
        raise Unauthorized(INVALID_TOKEN) from None
    known = callers()
    state = known.user(user_id)
    if state is None or not known.session_alive(family_id, user_id):
        state = _caller_state(user_id, family_id)
    g.actor = Actor(
        user_id=str(user_id),
        role=state.role,
        team_id=str(state.team_id) if state.team_id else None,
        language=language(),
        request_id=request_id(),
    )
    return g.actor


def _caller_state(user_id: uuid.UUID, family_id: uuid.UUID) -> UserState:
    """The user's role and team as stored now, refused unless they are active and the
    session still counts; remembered for this process (``gateway.auth.callers``)."""
    db = session()
    user = db.get(User, user_id)
    left = session_left(db, family_id, user_id) if user is not None and user.active else 0
    if not left:
        raise Unauthorized(INVALID_TOKEN)
    state = UserState(user.role, user.team_id)
    callers().remember(user_id, state, family_id, left)
    return state


def _authenticate_key(presented: str) -> Actor:
    key = session().scalars(
        sa.select(ApiKey).where(ApiKey.key_hash == key_hash(presented.strip()))
    ).first()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("Invalid or revoked API key.")
    g.api_key_id = str(key.id)
    g.actor = Actor(
        user_id=None,
        role=INTEGRATION,
        scopes=tuple(key.scopes),
        language=language(),
        request_id=request_id(),
    )
    return g.actor
