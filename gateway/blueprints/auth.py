"""Sessions: log in, refresh, log out, and who am I."""
from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from common.db import utcnow
from common.errors import ValidationError
from gateway import audit
from gateway.auth import current_actor, login_required
from gateway.auth import cookies, ratelimit, tokens
from gateway.auth.passwords import MAX_LENGTH, verify_password
from gateway.database import session
from gateway.errors import Overloaded, RateLimited, Unauthorized
from gateway.identity.schemas import UserSchema
from gateway.models import User

blp = Blueprint("auth", __name__, description="Log in, refresh and log out")

NO_REFRESH_TOKEN = ("Required, unless the session is in the crm_refresh cookie (sign in "
                    "with session: cookie).")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )
    session = fields.String(
        load_default="body", validate=validate.OneOf(["body", cookies.COOKIE_SESSION]),
        metadata={"description": "`body`: the refresh token comes in the answer. `cookie` (a "
                  "browser): it is set in the HttpOnly cookie `crm_refresh` instead, with "
                  "`crm_csrf`, whose value the cookie routes (refresh, logout) want in the "
                  "`X-CSRF-Token` header"})


class RefreshTokenSchema(Schema):
    refresh_token = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Required, unless the session is in the `crm_refresh` "
                  "cookie (then send `X-CSRF-Token`)"})


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(
        metadata={"description": "Absent when the session is kept in cookies"})
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
    if credentials["session"] == cookies.COOKIE_SESSION:
        return cookies.keep_in_cookies(pair)
    return pair


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
def refresh(body):
    """Spend a refresh token for a new pair (reusing a spent one revokes the session)

    A browser session sends no body: its refresh token comes in the `crm_refresh` cookie,
    with the `X-CSRF-Token` header, and the new one goes back in the cookies."""
    raw, in_cookie = _refresh_token(body)
    if not in_cookie:
        return tokens.rotate(session(), raw)
    try:
        return cookies.keep_in_cookies(tokens.rotate(session(), raw))
    except Unauthorized:
        cookies.forget_cookies()  # spent, revoked or expired: the browser stops sending it
        raise


@blp.route("/auth/logout", methods=["POST"])
@blp.arguments(RefreshTokenSchema)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(403, response="FORBIDDEN")
def logout(body):
    """Revoke the session of a refresh token, and every access token issued with it

    A browser session sends no body, its cookie and the `X-CSRF-Token` header; its cookies
    are removed."""
    raw, in_cookie = _refresh_token(body)
    tokens.revoke(session(), raw)
    if in_cookie:
        cookies.forget_cookies()


def _refresh_token(body: dict) -> tuple[str, bool]:
    """The refresh token of the body, else of the cookie (CSRF checked); and whether it came
    in the cookie."""
    if "refresh_token" in body:
        return body["refresh_token"], False
    raw = cookies.refresh_token_sent()
    if raw is None:
        raise ValidationError("Invalid input.", {"refresh_token": [NO_REFRESH_TOKEN]})
    return raw, True


@blp.route("/me")
@login_required()
@blp.response(200, UserSchema)
def me():
    """The authenticated user"""
    return session().get(User, current_actor().user_uuid)
