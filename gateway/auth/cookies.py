"""A browser's session: the refresh token in a cookie no script can read, and a CSRF check on
the routes that spend it.

A browser client (the web console) signs in with ``"session": "cookie"``. Its refresh token
then never reaches JavaScript: it travels in ``crm_refresh`` (``HttpOnly``,
``SameSite=Strict``, sent to ``/api/v1/auth`` only, ``Secure``: browsers keep such a cookie
over plain HTTP to ``localhost`` and ``127.0.0.1`` only, so development works and a
deployment on plain HTTP signs nobody in by cookie), while the access token, valid 15 minutes, stays in the
page's memory. A browser sends a cookie whoever made the page, so the routes that spend it
(refresh, logout) also want the ``X-CSRF-Token`` header: the value of the ``crm_csrf``
cookie, which the page can read and another site's page cannot. It is an HMAC of the refresh
token under the gateway's key, so a cookie planted from a sibling domain does not pass.
Both cookies are replaced at every refresh and removed at logout.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Response, after_this_request, current_app, request

from common.errors import Forbidden
from gateway.auth.access import API_PREFIX
from gateway.auth.tokens import REFRESH_TTL, SESSION_LIFETIME

REFRESH_COOKIE = "crm_refresh"
CSRF_COOKIE = "crm_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFRESH_PATH = f"{API_PREFIX}/auth"
COOKIE_SESSION = "cookie"  # the login's ``session`` that asks for this
WRONG_CSRF = (f"Missing or wrong {CSRF_HEADER} header: send the value of the {CSRF_COOKIE} "
              "cookie with it.")


def refresh_token_sent() -> str | None:
    """The refresh token of this request's cookie, once its CSRF header is checked; ``None``
    when no cookie came."""
    token = request.cookies.get(REFRESH_COOKIE)
    if token is None:
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
        raise Forbidden(WRONG_CSRF)
    return token


def keep_in_cookies(pair: dict) -> dict:
    """Move ``pair``'s refresh token to the cookies of this request's answer; answers the
    rest (what the page may hold)."""
    refresh_token = pair.pop("refresh_token")

    @after_this_request
    def _set(response: Response) -> Response:
        max_age = int(min(REFRESH_TTL, SESSION_LIFETIME).total_seconds())
        response.set_cookie(REFRESH_COOKIE, refresh_token, max_age=max_age, path=REFRESH_PATH,
                            secure=True, httponly=True, samesite="Strict")
        response.set_cookie(CSRF_COOKIE, csrf_token(refresh_token), max_age=max_age, path="/",
                            secure=True, httponly=False, samesite="Strict")
        return response

    return pair


def forget_cookies() -> None:
    """Remove both cookies with this request's answer."""
    @after_this_request
    def _clear(response: Response) -> Response:
        response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, secure=True,
                               httponly=True, samesite="Strict")
        response.delete_cookie(CSRF_COOKIE, path="/", secure=True, samesite="Strict")
        return response


def csrf_token(refresh_token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + refresh_token.encode(), hashlib.sha256).hexdigest()
