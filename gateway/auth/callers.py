"""What a bearer token's user and session are now, remembered for a few seconds per process.

Looking both up in the database on every request was a fifth of the gateway's time under
load (two queries before any work). A gateway process now remembers, for
``CRM_AUTH_CACHE_SECONDS`` (default 5; 0: not at all), that a user is active with a role and
a team, and that a session (a refresh-token family) is alive. A change made through this
process forgets what it changes at once (a user edited, a session or all of a user's
sessions revoked); other processes see it when their entry expires. So a deactivated user,
a changed role or a logged-out session takes effect within that many seconds everywhere,
and at once on the process that made the change.

Entries are bounded in number (the oldest go first) and in age: a session is never
remembered past its lifetime.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import NamedTuple

from flask import current_app, has_app_context

EXTENSION = "crm_callers"
MAX_ENTRIES = 10_000


class UserState(NamedTuple):
    role: str
    team_id: uuid.UUID | None


class Callers:
    """Active users and live sessions, each until a deadline on the monotonic clock."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES):
        self.seconds, self.max_entries = seconds, max_entries
        self._users: dict[uuid.UUID, tuple[float, UserState]] = {}
        self._sessions: dict[uuid.UUID, tuple[float, uuid.UUID]] = {}  # family -> its user
        self._lock = threading.Lock()

    def user(self, user_id: uuid.UUID) -> UserState | None:
        return self._fresh(self._users, user_id)

    def session_alive(self, family_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return self._fresh(self._sessions, family_id) == user_id

    def remember(self, user_id: uuid.UUID, state: UserState, family_id: uuid.UUID,
                 session_ends_in: float) -> None:
        """An active user and their live session, as just read from the database."""
        if self.seconds <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._put(self._users, user_id, (now + self.seconds, state))
            self._put(self._sessions, family_id,
                      (now + min(self.seconds, session_ends_in), user_id))

    def forget_user(self, user_id: uuid.UUID) -> None:
        """The user and every session of theirs: read again on their next request."""
        with self._lock:
            self._users.pop(user_id, None)
            for family_id in [family for family, (_, owner) in self._sessions.items()
                              if owner == user_id]:
                del self._sessions[family_id]

    def forget_session(self, family_id: uuid.UUID) -> None:
        with self._lock:
            self._sessions.pop(family_id, None)

    def _fresh(self, entries: dict, key):
        entry = entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def _put(self, entries: dict, key, entry) -> None:
        entries.pop(key, None)  # re-inserted last: the oldest entry is the first
        entries[key] = entry
        while len(entries) > self.max_entries:
            del entries[next(iter(entries))]


def init_app(app, seconds: float) -> None:
    app.extensions[EXTENSION] = Callers(seconds)


def callers() -> Callers:
    return current_app.extensions[EXTENSION]


def forget_user(user_id: uuid.UUID) -> None:
    """A change to the user (or all their sessions) made here: this process reads them again
    (outside a request, say from a command, there is nothing remembered)."""
    if has_app_context():
        callers().forget_user(user_id)


def forget_session(family_id: uuid.UUID) -> None:
    if has_app_context():
        callers().forget_session(family_id)
