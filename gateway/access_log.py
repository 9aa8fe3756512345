"""The gateway's access line, formatted and written by the request's own thread in one call.

gunicorn's logger computes every atom a format could name (a copy of each request header,
response header and environment variable, for every request) and hands the line to
``logging``, whose handler holds a lock around the write. A queue and a writer thread kept the
request threads from waiting on that lock, at the price of a thread switch per line. Here the
line is made of the atoms its format names only, by gunicorn's own rules (a string's double
quotes escaped as its ``SafeAtoms`` does), and written with ``os.write`` to the access log's
file: no queue, no thread. A line of up to PIPE_BUF bytes (4,096 on Linux) is written by one
call that a pipe or a file opened for appending never interleaves with another, and takes no
lock; a longer one (a URL near gunicorn's 8,190-byte limit) is written under a lock of the
process, as a pipe may take it in parts.

Used when ``accesslog`` is ``-`` (standard output) or a file; a logging configuration or
syslog, which route access lines through ``logging``, keep gunicorn's own way.
"""
from __future__ import annotations

import os
import select
import threading
import traceback

from gunicorn import glogging

_FILE_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_ATOMIC_WRITE = getattr(select, "PIPE_BUF", 512)  # POSIX's least
_LONG_LINES = threading.Lock()


class _Atoms(dict):
    """One request's atoms, each computed when the format asks for it (``__missing__``), with
    the values gunicorn's ``Logger.atoms`` gives; an atom it has no fast rule for comes from
    all of them, computed once."""

    def __init__(self, logger: glogging.Logger, resp, req, environ: dict, request_time):
        super().__init__()
        self._logger, self._resp, self._req = logger, resp, req
        self._environ, self._time = environ, request_time
        self._all = None

    def __missing__(self, key: str):
        environ, duration = self._environ, self._time
        if key == "h":
            value = environ.get("REMOTE_ADDR", "-")
        elif key == "l":
            value = "-"
        elif key == "u":
            value = self._logger._get_user(environ) or "-"
        elif key == "t":
            value = self._logger.now()
        elif key == "r":
            value = (f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} "
                     f"{environ['SERVER_PROTOCOL']}")
        elif key == "s":
            value = self._resp.status
            if isinstance(value, str):
                value = value.split(None, 1)[0]
        elif key == "b":
            sent = getattr(self._resp, "sent", None)
            value = str(sent) if sent is not None else "-"
        elif key == "f":
            value = environ.get("HTTP_REFERER", "-")
        elif key == "a":
            value = environ.get("HTTP_USER_AGENT", "-")
        elif key == "M":
            value = duration.seconds * 1000 + duration.microseconds // 1000
        elif key.startswith("{") and key.endswith("}o"):
            value, name = "-", key[1:-2].lower()
            for header, header_value in self._resp.headers:
                if header.lower() == name:
                    value = header_value  # the last of a repeated header, as gunicorn's dict
        else:
            if self._all is None:
                self._all = self._logger.atoms_wrapper_class(
                    self._logger.atoms(self._resp, self._req, environ, duration))
            return self._all[key]
        return value.replace('"', '\\"') if isinstance(value, str) else value


class AccessLog(glogging.Logger):
    """gunicorn's logger (``logger_class``), with the access line written as above."""

    _fd: int | None = None  # where the access lines go; None: through logging, as gunicorn's

    def setup(self, cfg):
        super().setup(cfg)
        self._close_file()
        through_logging = (cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json
                           or (cfg.syslog and not cfg.disable_redirect_access_to_syslog))
        if not cfg.accesslog or through_logging:
            self._fd = None
        elif cfg.accesslog == "-":
            self._fd = 1
        else:
            self._fd = os.open(cfg.accesslog, _FILE_FLAGS, 0o644)

    def access(self, resp, req, environ, request_time):
        if self._fd is None:
            return super().access(resp, req, environ, request_time)
        try:
            atoms = _Atoms(self, resp, req, environ, request_time)
            line = (self.cfg.access_log_format % atoms + "\n").encode(errors="backslashreplace")
            if len(line) <= _ATOMIC_WRITE:
                self._write(line)
            else:
                with _LONG_LINES:
                    self._write(line)
        except Exception:
            self.error(traceback.format_exc())

    def _write(self, line: bytes) -> None:
        while line:  # a blocking write is whole unless a signal cuts it short
            line = line[os.write(self._fd, line):]

    def reopen_files(self):
        """On SIGUSR1 (a log rotated): the access file opened again by its name, in place of
        the old descriptor, so a request thread writing meanwhile writes to one or the other."""
        super().reopen_files()
        if self._fd not in (None, 1):
            fresh = os.open(self.cfg.accesslog, _FILE_FLAGS, 0o644)
            os.dup2(fresh, self._fd, inheritable=False)
            os.close(fresh)

    def _close_file(self):
        if self._fd not in (None, 1):
            os.close(self._fd)
        self._fd = None
