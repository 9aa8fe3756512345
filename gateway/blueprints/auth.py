"""Sessions: log in, refresh, log out, and who am I."""
from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from common.db import utcnow
from gateway import audit
from gateway.auth import current_actor, login_required
from gateway.auth import ratelimit, tokens
from gateway.auth.passwords import MAX_LENGTH, verify_password
from gateway.database import session
from gateway.errors import Overloaded, RateLimited, Unauthorized
from gateway.identity.schemas import UserSchema
from gateway.models import User

blp = Blueprint("auth", __name__, description="Log in, refresh and log out")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )


class RefreshTokenSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(429, response=ratelimit.RESPONSE)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def login(credentials):
    """Exchange a username and password for an access and a refresh token"""
    username = credentials["username"].strip().lower()
    # Counted as failed before the hash (a burst cannot outrun the limit), forgiven if right.
    attempt = ratelimit.attempt_login(username)
    wait = attempt.retry_after
    if wait:
        if attempt.first_refusal:
            audit.record_alone(session(), "login.throttled", username=username,
                               details={"retry_after": wait})
        raise RateLimited(f"Too many failed login attempts; try again in {wait} seconds.", wait)
    db = session()
    user = db.scalar(sa.select(User).where(User.username == username))
    try:
        matches, new_hash = verify_password(user.password_hash if user else None,
                                            credentials["password"])
    except Overloaded:
        ratelimit.withdraw_login(attempt)  # answered 503: nothing was tried
        raise
    if not matches or not user.active:
        # The name tried only when it is an account's: people type passwords into it.
        audit.record_alone(db, "login.failed", username=username if user else None,
                           target=user)
        raise Unauthorized("Invalid username or password.")
    ratelimit.forgive_login(attempt)
    # A Core UPDATE: logging in is not an edit of the user, so its version stays put.
    changes = {"last_login_at": utcnow(), "updated_at": User.updated_at}
    if new_hash:
        changes["password_hash"] = new_hash
    db.execute(sa.update(User).where(User.id == user.id).values(**changes))
    pair = tokens.token_pair(db, user)
    audit.record(db, "login.succeeded", actor=user, target=user)
    db.commit()
    return pair


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def refresh(body):
    """Spend a refresh token for a new pair (reusing a spent one revokes the session)"""
    return tokens.rotate(session(), body["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(204)
def logout(body):
    """Revoke the session of a refresh token, and every access token issued with it"""
    tokens.revoke(session(), body["refresh_token"])


@blp.route("/me")
@login_required()
@blp.response(200, UserSchema)
def me():
    """The authenticated user"""
    return session().get(User, current_actor().user_uuid)
