"""Logging shared by the services.

nameko logs every expected error (a not found, a conflict, a validation error answered to the
caller) as a warning *with its traceback*; those are answers, not faults, and their tracebacks
bury the real ones. :class:`ExpectedErrorsWithoutTraceback` keeps the one-line warning.
"""
from __future__ import annotations

import logging


class ExpectedErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.exc_info = None
            record.exc_text = None
        return True
