"""Run a write request once, whoever repeats it.

nameko acknowledges an RPC request only when its worker finishes, so a request whose
transaction committed just before the process died (or whose connection dropped) is delivered
again; and a client that timed out retries. Each write therefore carries a key (the client's
``Idempotency-Key``, scoped to the caller, or one the gateway makes per request), and the
request's answer is stored under it in the same transaction as the write itself. A repeat of
the key answers the stored result without running again; the same key for another request is
a conflict. Keys are kept ``CRM_IDEMPOTENCY_HOURS`` (24 by default), then pruned
(``common.retention``).
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid

from sqlalchemy.exc import IntegrityError

from common.errors import Conflict
from common.uow import UnitOfWork

KEY_REUSED = ("This Idempotency-Key was already used for another request; use a new key for a "
              "new request.")


def fingerprint(use_case, args) -> str:
    """What a request asks: the use case and its arguments, hashed."""
    name = f"{use_case.__module__}.{use_case.__qualname__}"
    text = json.dumps([name, list(args)], sort_keys=True, ensure_ascii=False, default=_as_asked)
    return hashlib.sha256(text.encode()).hexdigest()


def _as_asked(value) -> str:
    """A value JSON cannot hold, as part of what a request asks: an id, a time or an amount
    by its value; anything else is a dependency the entrypoint passes along (a proxy to
    another service), the same on every try, by its type (its ``str`` would name its
    address, another on each try)."""
    if isinstance(value, (uuid.UUID, dt.date, decimal.Decimal)):
        return str(value)
    return f"<{type(value).__qualname__}>"


def _stored(uow: UnitOfWork, key: str, asked: str):
    """``(True, answer)`` when ``key`` was run already (for the same request), else
    ``(False, None)``."""
    done = uow.session.get(uow.platform.IdempotentRequest, key)
    if done is None:
        return False, None
    if done.fingerprint != asked:
        raise Conflict(KEY_REUSED)
    return True, done.result


def run_once(uow: UnitOfWork, key: str, use_case, *args, replayed=None):
    """``use_case(uow, *args)`` unless ``key`` ran already; its answer either way. The use
    case's commit and the stored answer are one transaction. ``replayed(answer)``: what a
    repeat answers instead, when the first answer holds what must not be stored (a secret
    shown once)."""
    asked = fingerprint(use_case, args)
    found, answer = _stored(uow, key, asked)
    if found:
        return answer
    uow.hold_commits()
    answer = use_case(uow, *args)
    kept = replayed(answer) if replayed else answer
    uow.session.add(uow.platform.IdempotentRequest(key=key, fingerprint=asked, result=kept))
    try:
        uow.release()
    except IntegrityError:
        # The same key committed by a concurrent delivery a moment ago: this one's writes
        # roll back with it, and the first one's answer is the answer.
        uow.rollback()
        return _stored(uow, key, asked)[1]
    return answer
