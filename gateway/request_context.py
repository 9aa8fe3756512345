"""What the gateway knows of the request before anyone is authenticated: its id and language.

The request id ties a client's report to the gateway's logs and to every service call the
request makes (it travels in the RPC context as ``Actor.request_id``).
"""
from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

from gateway.i18n import negotiate

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id() -> str:
    """The client's ``X-Request-Id`` when it is safe to log and pass on, else a new UUID."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else str(uuid.uuid4())
    return g.request_id


def language() -> str:
    """``en`` or ``zh-CN``, from ``Accept-Language`` only."""
    return negotiate(request.accept_languages)


def _echo_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def init_app(app: Flask) -> None:
    app.after_request(_echo_request_id)
