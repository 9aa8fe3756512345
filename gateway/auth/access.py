"""Who is calling: ``@login_required`` authenticates a view, ``current_actor()`` names the caller.

Every request with a bearer token looks up its user and its refresh-token family by primary
key, so a deactivated user or a logged-out session is refused at once rather than when the
token expires; the role and team come from the user as stored now, not from the token.
"""
from __future__ import annotations

import functools
import uuid
from copy import deepcopy
from typing import Iterable

import jwt
from flask import g, request

from common.actor import Actor
from common.errors import Forbidden
from gateway.auth.tokens import decode_access_token, family_revoked
from gateway.database import session
from gateway.errors import Unauthorized
from gateway.models import User
from gateway.request_context import language, request_id

SECURITY_SCHEME = "bearerAuth"
INVALID_TOKEN = "Invalid or expired token."


def login_required(roles: Iterable[str] | None = None):
    """Protect a view; with ``roles``, only those roles may call it (403 for the others).

    Place it under ``@blp.route`` and above ``@blp.arguments``/``@blp.response``, so the
    caller is authenticated before the input is read and the route is documented as secured.
    """
    allowed = tuple(roles) if roles else None

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            actor = _authenticate()
            if allowed is not None and actor.role not in allowed:
                raise Forbidden("Your role may not do this action.")
            return view(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        manual = wrapper._apidoc.setdefault("manual_doc", {})
        manual["security"] = [{SECURITY_SCHEME: []}]
        responses = wrapper._apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        if allowed is not None:
            responses.setdefault(403, []).append("FORBIDDEN")
        return wrapper

    return decorator


def current_actor() -> Actor:
    """The authenticated caller of this request (inside a ``@login_required`` view)."""
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("Authentication required.")
    return actor


def _authenticate() -> Actor:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authentication required.")
    try:
        claims = decode_access_token(token.strip())
        user_id = uuid.UUID(claims["sub"])
        family_id = uuid.UUID(claims["sid"])
    except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError):
        raise Unauthorized(INVALID_TOKEN) from None
    db = session()
    user = db.get(User, user_id)
    if user is None or not user.active or family_revoked(db, family_id, user_id):
        raise Unauthorized(INVALID_TOKEN)
    g.actor = Actor(
        user_id=str(user.id),
        role=user.role,
        team_id=str(user.team_id) if user.team_id else None,
        language=language(),
        request_id=request_id(),
    )
    return g.actor
