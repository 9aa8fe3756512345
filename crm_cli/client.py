"""The CRM's HTTP API over urllib: who is calling (an access token, an API key, or a username
and password whose session is refreshed before its access token expires), JSON calls, a
multipart upload streamed from disk, and streamed downloads. An error answer is raised as
:class:`ApiError`, carrying the problem's detail and field errors as the server wrote them.
"""
from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

API_PREFIX = "/api/v1"
CHUNK_SIZE = 64 * 1024
REFRESH_MARGIN = 60  # seconds before the access token expires that it is refreshed
MEDIA_TYPES = {".csv": "text/csv",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ApiError(Exception):
    """An error answer (4xx, 5xx): its status and problem+json body."""

    def __init__(self, status: int, problem: dict):
        self.status, self.problem = status, problem
        lines = [f"{status} {problem.get('title') or ''}".rstrip()]
        if problem.get("detail"):
            lines[0] += f": {problem['detail']}"
        for field, messages in (problem.get("errors") or {}).items():
            listed = messages if isinstance(messages, list) else [messages]
            lines.append(f"  {field}: {' '.join(str(message) for message in listed)}")
        super().__init__("\n".join(lines))


class Client:
    """One caller of one deployment. With a username, :meth:`sign_in` opens a session that
    :meth:`sign_out` closes (revoking its tokens)."""

    def __init__(self, base_url: str, *, token: str | None = None, api_key: str | None = None,
                 username: str | None = None, password: str | None = None,
                 language: str | None = None, timeout: float = 300):
        self.base_url = base_url.rstrip("/")
        self.token, self.api_key = token, api_key
        self.username, self.password = username, password
        self.language, self.timeout = language, timeout
        self.refresh_token: str | None = None
        self.expires_at = float("inf")

    # -- the session ---------------------------------------------------------------------
    def sign_in(self) -> None:
        if self.username and not (self.token or self.api_key):
            self._take(self.call("POST", "/auth/login", json_body={
                "username": self.username, "password": self.password or ""}, signed=False))

    def sign_out(self) -> None:
        if self.refresh_token:
            self.call("POST", "/auth/logout", json_body={"refresh_token": self.refresh_token},
                      signed=False)
            self.refresh_token = None

    def _take(self, pair: dict) -> None:
        self.token, self.refresh_token = pair["access_token"], pair["refresh_token"]
        self.expires_at = time.monotonic() + pair["expires_in"] - REFRESH_MARGIN

    def _headers(self) -> dict:
        if self.refresh_token and time.monotonic() >= self.expires_at:
            self._take(self.call("POST", "/auth/refresh",
                                 json_body={"refresh_token": self.refresh_token}, signed=False))
        headers = {"Accept-Language": self.language} if self.language else {}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    # -- requests ------------------------------------------------------------------------
    def open(self, method: str, path: str, *, params: dict | None = None, body=None,
             headers: dict | None = None, signed: bool = True):
        """The response of ``method path`` (a context manager, read as it arrives);
        :class:`ApiError` for an error answer."""
        url = f"{self.base_url}{API_PREFIX}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        request = urllib.request.Request(url, data=body, method=method, headers={
            **(self._headers() if signed else {}), **(headers or {})})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                problem = {"detail": raw.decode("utf-8", "replace")[:500]}
            raise ApiError(error.code, problem if isinstance(problem, dict) else {}) from None

    def call(self, method: str, path: str, *, params: dict | None = None,
             json_body: dict | None = None, signed: bool = True):
        """The JSON answer of ``method path`` (``None`` for an empty one)."""
        body = None if json_body is None else json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self.open(method, path, params=params, body=body, headers=headers,
                       signed=signed) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def upload(self, path: str, fields: dict, file: Path,
               progress: Callable[[int, int], None], idempotency_key: str) -> dict:
        """POST ``fields`` and ``file`` as multipart/form-data (the file read from disk as
        it is sent; ``progress(sent, size)`` told along the way) under ``idempotency_key``
        (sent again with the same key, it makes nothing twice); the JSON answer."""
        boundary = f"crm-{secrets.token_hex(16)}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode() for name, value in fields.items())
        quoted_name = file.name.replace('"', "%22")
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{quoted_name}"\r\nContent-Type: '
                 f'{MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream")}\r\n\r\n'
                 ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = file.stat().st_size

        def body() -> Iterator[bytes]:
            yield head
            sent = 0
            with file.open("rb") as source:
                while chunk := source.read(CHUNK_SIZE):
                    sent += len(chunk)
                    progress(sent, size)
                    yield chunk
            yield tail

        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
                   "Content-Length": str(len(head) + size + len(tail)),
                   "Idempotency-Key": idempotency_key}
        try:
            with self.open("POST", path, body=body(), headers=headers) as response:
                return json.loads(response.read())
        except urllib.error.URLError as error:
            if not isinstance(error.reason, (BrokenPipeError, ConnectionResetError)):
                raise
            raise ConnectionError(
                f"the server closed the connection before {file.name} was sent: it refused "
                "the upload unread (a file over its size limit?)") from None
