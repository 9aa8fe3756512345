"""What the gateway knows of the request before anyone is authenticated: its id, its
language and, for a write, its idempotency key.

The request id ties a client's report to the gateway's logs and to every service call the
request makes (it travels in the RPC context as ``Actor.request_id``). The idempotency key
names a write so that it runs once (``common.idempotency``): the client's
``Idempotency-Key`` when sent, else one made here; it is echoed on the answer, so a client
told the outcome is unknown can retry with it safely. A request that came over TLS (to the
gateway itself, or to a trusted proxy that says so in ``X-Forwarded-Proto``) is answered with
``Strict-Transport-Security``, so browsers never fall back to plain HTTP. Every answer
carries a strict ``Content-Security-Policy`` and the headers that keep it out of other
sites' frames and stop browsers guessing its type.
"""
from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

from common.errors import ValidationError
from gateway.i18n import negotiate

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_VALID_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
READS = ("GET", "HEAD", "OPTIONS")
# A year, subdomains included: browsers refuse plain HTTP to the host once they have seen it.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
# Scripts, styles, fonts and calls from this origin only; images also as data: URIs (the
# docs page's icons); no plugins, no <base>, forms posting here only, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
IDEMPOTENCY_DOC = {
    "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
    "schema": {"type": "string", "maxLength": 128},
    "description": "Any unique string (a UUID): a repeat with the same key and body within 24 h "
                   "answers the first result and changes nothing; the same key with another "
                   "body answers 409. Without one the gateway makes one, echoed on the answer.",
}


def request_id() -> str:
    """The client's ``X-Request-Id`` when it is safe to log and pass on, else a new UUID."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
    return g.request_id


def idempotency_key() -> str | None:
    """The key of this write (``None`` for a read): the client's ``Idempotency-Key``, else a
    new UUID; 400 when the client's is not up to 128 printable ASCII characters."""
    if request.method in READS:
        return None
    if "idempotency_key" not in g:
        sent = request.headers.get(IDEMPOTENCY_HEADER)
        if sent is not None and not _VALID_IDEMPOTENCY_KEY.fullmatch(sent):
            raise ValidationError("Invalid input.", {IDEMPOTENCY_HEADER: [
                "Up to 128 printable ASCII characters without spaces, such as a UUID."]})
        g.idempotency_key = sent if sent is not None else str(uuid.uuid4())
    return g.idempotency_key


def language() -> str:
    """``en`` or ``zh-CN``, from ``Accept-Language`` only."""
    return negotiate(request.accept_languages)


def _echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    if "idempotency_key" in g:
        response.headers[IDEMPOTENCY_HEADER] = g.idempotency_key
    return response


def _strict_transport_security(response: Response) -> Response:
    """HSTS on an answer sent over TLS, never over plain HTTP (RFC 6797 says to ignore it
    there). ``is_secure`` is true when gunicorn terminates TLS, and when a proxy that
    ``FORWARDED_ALLOW_IPS`` (or ``CRM_TRUSTED_PROXIES``) trusts sends
    ``X-Forwarded-Proto: https``."""
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return response


def _security_headers(response: Response) -> Response:
    """What a browser may do with any answer: run scripts and styles from this origin only
    (no inline script), never show it in a frame of another site, never guess its type."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_echo_request_id)
    app.after_request(_strict_transport_security)
    app.after_request(_security_headers)
