"""Failed-login counting: after 10 failures for one username or one client IP within five
minutes, logins are refused with 429 until the oldest failure leaves the window. An attempt
counts before its password is hashed (and is taken back when it was right), so a burst of
attempts cannot outrun the limit while the hashes run.

The counts live in this process's memory. Each gunicorn worker counts on its own (so the
effective limit is 10 per worker) and a restart forgets them; an exact limit across processes
would need a shared store such as the identity database or Redis.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque

MAX_FAILURES = 10
WINDOW_SECONDS = 300
MAX_TRACKED_KEYS = 100_000


class LoginLimiter:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int | None:
        """Seconds to wait when any key is over the limit, else None."""
        now = self.clock()
        with self._lock:
            waits = [
                failures[0] + self.window - now
                for failures in (self._recent(key, now) for key in keys)
                if len(failures) >= self.max_failures
            ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) > MAX_TRACKED_KEYS:
                self._forget_expired(now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def forgive(self, *keys: str) -> None:
        """Take back the latest attempt of each key (counted before the password was checked,
        and it was right)."""
        with self._lock:
            for key in keys:
                attempts = self._failures.get(key)
                if attempts:
                    attempts.pop()

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def _forget_expired(self, now: float) -> None:
        for key in [k for k in self._failures if not self._recent(k, now)]:
            del self._failures[key]
