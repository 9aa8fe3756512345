"""Password hashing with argon2id, and verification that takes as long for an unknown user.

A hash made with older parameters is replaced at the next successful login, so raising the
cost later upgrades every active account without a migration.

Each hash takes ``memory_cost`` (64 MiB) while it runs: a process computes at most
``CRM_PASSWORD_HASH_SLOTS`` (2) at once, and a login that cannot get a slot within a second
answers 503 with ``Retry-After`` instead of piling up memory (8 at once used to add 448 MiB).
The operations guide sizes it against the gateway pod's memory limit.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common import config
from gateway.errors import Overloaded

MIN_LENGTH = 10
MAX_LENGTH = 1024
SLOT_WAIT = 1.0  # seconds a login waits for a hashing slot

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("a password nobody has, verified to spend the same time")
_slots = threading.BoundedSemaphore(config.password_hash_slots())


@contextmanager
def _hashing_slot():
    if not _slots.acquire(timeout=SLOT_WAIT):
        raise Overloaded("Too many sign-ins at once; try again in a moment.", retry_after=1)
    try:
        yield
    finally:
        _slots.release()


def hash_password(password: str) -> str:
    with _hashing_slot():
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """``(matches, new_hash)``; ``new_hash`` is set when the stored hash needs an upgrade.

    With no stored hash (unknown user) a dummy hash is verified, so the answer takes the same
    time and does not tell whether the user exists.
    """
    try:
        with _hashing_slot():
            _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if password_hash is None:
        return False, None
    return True, hash_password(password) if _hasher.check_needs_rehash(password_hash) else None
