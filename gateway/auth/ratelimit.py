"""The gateway's rate limits, counted in a store every gateway process shares: the gateway's
database (``rate_limit_counters``), or Redis when ``CRM_REDIS_URL`` is set. Counted per
process, a limit would be one per gunicorn worker and pod, and forgotten at each restart.

Two kinds of limit, both answered 429 with ``Retry-After`` and the IETF draft's
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds):

- Requests, ``CRM_RATE_LIMIT`` (600 per 60 s) per caller: a user or an API key once
  authenticated, else the client's address. Every counted answer carries the headers;
  ``/healthz``, ``/readyz`` and ``/metrics`` are never counted.
- Failed sign-ins, per 5 minutes: 10 per username and address (one client guessing one
  password), 50 per username (one password guessed from many addresses), 100 per address
  (many usernames tried from one address). One client cannot lock out everyone behind the
  same proxy, nor a guesser with many addresses go on for ever. An attempt counts before its
  password is hashed, so a burst cannot outrun the limit while the hashes run; a right one
  is taken back and clears its username-and-address count; a refused one does not count.
  Sign-in answers carry the headers of the tightest of the three.

A count lives in a window that opens at its key's first count and lasts the limit's
seconds, then starts again from zero: around a window's end a caller can spend up to twice
a limit, never more on average. Counting a sign-in is one round trip to the store (an
upsert, or one Redis script). Requests are counted in leases: a process takes a fiftieth of a
caller's limit at once (``Leases``: 12 of the default 600, or 1 of a limit under 100) and
spends it from memory, so a busy caller costs the store one round trip per lease, not per
request. A caller is never let through more than its limit; with several processes it may be
refused up to one lease per other process early, in a window's last stretch. The client's
address is ``request.remote_addr``: the peer, or behind ``CRM_TRUSTED_PROXIES`` proxies the
client they name in ``X-Forwarded-For`` (``gateway.app``).

A store that cannot be reached lets requests through uncounted (logged): the request limit
guards capacity, and must not take the API down with it. Sign-ins are refused with 503
instead: their limit is what stands between a password and a guesser.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, Sequence

import redis
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request

from common.db import insert_on_conflict, utcnow
from gateway import database
from gateway.errors import RateLimited, ServiceUnavailable
from gateway.models import RateLimitCounter

log = logging.getLogger(__name__)

EXTENSION = "rate_limits"
# Probes and metrics: an orchestrator or Prometheus polling is not a caller to slow down.
# Nor are the console's page and the static files (the console's and the API docs'): cheap
# to serve, and one page load would spend a dozen of a client's requests.
EXEMPT_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics", "console.index",
                              "console.asset", "static"})
REDIS_PREFIX = "crm:rate-limit:"
REDIS_TIMEOUT = 1.0  # seconds; a count takes well under a millisecond


@dataclass(frozen=True)
class Limit:
    """At most ``count`` per window of ``seconds``."""

    count: int
    seconds: int


# Failed sign-ins per 5 minutes: per username and address (one client guessing one
# password), per username (one password guessed from many addresses), and per address (many
# usernames tried from one).
LOGIN_WINDOW = 300
LOGIN_LIMITS = {
    "user-address": Limit(10, LOGIN_WINDOW),
    "user": Limit(50, LOGIN_WINDOW),
    "address": Limit(100, LOGIN_WINDOW),
}

# The 429 answer as the OpenAPI document describes it (``gateway.app.CrmApi``).
RESPONSE = "RATE_LIMITED"
RESPONSE_DOC = {
    "description": "Too many requests, or too many failed sign-ins",
    "headers": {
        "Retry-After": {"description": "Seconds to wait before trying again",
                        "schema": {"type": "integer"}},
        "RateLimit-Limit": {"description": "What the window allows",
                            "schema": {"type": "integer"}},
        "RateLimit-Remaining": {"description": "What is left of it",
                                "schema": {"type": "integer"}},
        "RateLimit-Reset": {"description": "Seconds until the window ends",
                            "schema": {"type": "integer"}},
    },
}


@dataclass(frozen=True)
class Counter:
    """A key counted against a limit (``requests:user:<id>``, ``login:user:<name>``...)."""

    key: str
    limit: Limit


@dataclass(frozen=True)
class Usage:
    """A counter's ``count`` in its window, which ends ``reset`` seconds from now (rounded
    up; ``seconds_left`` unrounded)."""

    counter: Counter
    count: int
    reset: int
    seconds_left: float = 0.0

    @classmethod
    def of(cls, counter: Counter, count: int, seconds_left: float | None) -> "Usage":
        """``count`` in a window with ``seconds_left``; ``None``: no window is open."""
        if seconds_left is None:
            return cls(counter, 0, counter.limit.seconds, float(counter.limit.seconds))
        return cls(counter, count, max(1, math.ceil(seconds_left)), max(0.0, seconds_left))

    @property
    def remaining(self) -> int:
        return max(0, self.counter.limit.count - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.counter.limit.count

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.counter.limit.count),
                "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


class StoreUnavailable(Exception):
    """The store could not be reached: nothing was counted."""


class Store(Protocol):
    def count(self, counters: Sequence[Counter], by: int = 1) -> list[Usage]:
        """Count ``by`` more on each counter, opening a window where none is open."""

    def take_back(self, counters: Sequence[Counter]) -> list[Usage]:
        """Count one less on each counter whose window is open and holds any."""

    def clear(self, counters: Sequence[Counter]) -> None:
        """Forget the counters' windows."""


_TABLE = RateLimitCounter.__table__
_NOW = sa.bindparam("now", type_=_TABLE.c.resets_at.type)
_KEYS = sa.bindparam("keys", expanding=True)


def _upsert(dialect: str):
    """``by`` more on a key, from ``by`` again when its window has ended (SET reads the row
    as it was before the statement)."""
    by = sa.bindparam("by", type_=sa.Integer)
    insert = insert_on_conflict(dialect, _TABLE).values(key=sa.bindparam("key"), count=by,
                                           resets_at=sa.bindparam("resets_at"))
    ended = _TABLE.c.resets_at <= _NOW
    return insert.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"count": sa.case((ended, by), else_=_TABLE.c.count + by),
              "resets_at": sa.case((ended, insert.excluded.resets_at), else_=_TABLE.c.resets_at)},
    ).returning(_TABLE.c.key, _TABLE.c.count, _TABLE.c.resets_at)


# Built once, so SQLAlchemy compiles each once (per dialect) and not per request.
_COUNT_SQL = {dialect: _upsert(dialect) for dialect in ("postgresql", "sqlite")}
_TAKE_BACK_SQL = (
    sa.update(_TABLE)
    .where(_TABLE.c.key.in_(_KEYS), _TABLE.c.resets_at > _NOW, _TABLE.c.count > 0)
    .values(count=_TABLE.c.count - 1)
    .returning(_TABLE.c.key, _TABLE.c.count, _TABLE.c.resets_at))
_CLEAR_SQL = sa.delete(_TABLE).where(_TABLE.c.key.in_(_KEYS))


class DatabaseStore:
    """Counters in the identity database, written on the request's session and committed at
    once: a count stands whatever the request does next, and the session has at most read
    who is calling by then. Counting a request is one upsert (PostgreSQL, or SQLite 3.35 and
    later); a sign-in's three keys are three in one transaction."""

    def count(self, counters: Sequence[Counter], by: int = 1) -> list[Usage]:
        db = database.session()
        now = utcnow()
        upsert = _COUNT_SQL[db.get_bind().dialect.name]
        return self._usages(counters, now, self._run(db, lambda: [
            db.execute(upsert, {"key": counter.key, "by": by, "now": now, "resets_at": now
                                + dt.timedelta(seconds=counter.limit.seconds)}).one()
            for counter in counters]))

    def take_back(self, counters: Sequence[Counter]) -> list[Usage]:
        db = database.session()
        now = utcnow()
        keys = [counter.key for counter in counters]
        return self._usages(counters, now, self._run(db, lambda: db.execute(
            _TAKE_BACK_SQL, {"keys": keys, "now": now}).all()))

    def clear(self, counters: Sequence[Counter]) -> None:
        db = database.session()
        self._run(db, lambda: db.execute(_CLEAR_SQL, {"keys": [c.key for c in counters]}))

    @staticmethod
    def _run(db, statements):
        """Run and commit ``statements()``, answering what it answers."""
        try:
            answer = statements()
            db.commit()
        except sa.exc.SQLAlchemyError as exc:
            db.rollback()
            raise StoreUnavailable(str(exc)) from exc
        return answer

    @staticmethod
    def _usages(counters: Sequence[Counter], now: dt.datetime, rows) -> list[Usage]:
        found = {row.key: row for row in rows}
        return [Usage.of(counter, found[counter.key].count,
                         (found[counter.key].resets_at - now).total_seconds())
                if counter.key in found else Usage.of(counter, 0, None)
                for counter in counters]


# KEYS: the counters; ARGV: the amount, then each one's window in milliseconds. Answers
# {count, ms left} each.
_COUNT_LUA = """
local answers = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCRBY', key, ARGV[1])
  local left = redis.call('PTTL', key)
  if left < 0 then
    left = tonumber(ARGV[i + 1])
    redis.call('PEXPIRE', key, left)
  end
  answers[i] = {count, left}
end
return answers
"""
_TAKE_BACK_LUA = """
local answers = {}
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then count = redis.call('DECR', key) end
  answers[i] = {count, redis.call('PTTL', key)}
end
return answers
"""


class RedisStore:
    """Counters in Redis, each key expiring with its window. Counting is one script (one
    round trip, atomic); a single Redis, not a cluster (the keys of a sign-in go together)."""

    def __init__(self, url: str, prefix: str):
        self.prefix = prefix
        self.redis = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                          socket_connect_timeout=REDIS_TIMEOUT)
        self._count = self.redis.register_script(_COUNT_LUA)
        self._take_back = self.redis.register_script(_TAKE_BACK_LUA)

    def count(self, counters: Sequence[Counter], by: int = 1) -> list[Usage]:
        return self._usages(self._count, counters, [by])

    def take_back(self, counters: Sequence[Counter]) -> list[Usage]:
        return self._usages(self._take_back, counters)

    def clear(self, counters: Sequence[Counter]) -> None:
        try:
            self.redis.delete(*self._names(counters))
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def _names(self, counters: Sequence[Counter]) -> list[str]:
        return [self.prefix + counter.key for counter in counters]

    def _usages(self, script, counters: Sequence[Counter], first_args=()) -> list[Usage]:
        try:
            answers = script(keys=self._names(counters), args=[
                *first_args, *[counter.limit.seconds * 1000 for counter in counters]])
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [Usage.of(counter, count, left / 1000 if left >= 0 else None)
                for counter, (count, left) in zip(counters, answers)]


LEASE_FRACTION = 50  # a lease is this fraction of a caller's limit (at least one request)
MAX_LEASES = 10_000  # callers whose lease a process keeps at once


@dataclass
class _Lease:
    """Requests of one caller this process may let through without asking the store:
    ``left`` of them until ``ends`` (``time.monotonic``); ``counted`` is the store's count
    when last leased (every process's leases of the window, used or not)."""

    left: int
    counted: int
    ends: float


class Leases:
    """This process's leases of the request limit (see the module): each caller's requests
    are taken from its lease while one is left, and a new lease of ``size`` is counted in the
    store at once, one round trip, when none is. What the store answers says how much of it
    is granted: no more than the limit leaves."""

    def __init__(self, store: Store, limit: Limit):
        self.store, self.limit = store, limit
        self.size = max(1, limit.count // LEASE_FRACTION)
        self._held: OrderedDict[str, _Lease] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def take(self, counter: Counter) -> Usage:
        """One request of ``counter``'s caller: ``exceeded`` when the limit leaves none."""
        with self._lock:
            lease = self._held.get(counter.key)
            if lease is not None and lease.left > 0 and time.monotonic() < lease.ends:
                lease.left -= 1
                self._held.move_to_end(counter.key)
                return self._usage(counter, lease)
        (counted,) = self.store.count([counter], by=self.size)
        ends = time.monotonic() + counted.seconds_left  # with its window, never after
        granted = max(0, min(self.size, self.limit.count - (counted.count - self.size)))
        if granted == 0:
            return Usage(counter, self.limit.count + 1, counted.reset)
        reached = counted.count - (self.size - granted)  # what the grant brought the count to
        with self._lock:
            lease = self._held.get(counter.key)
            if lease is not None and lease.left > 0 and time.monotonic() < lease.ends:
                # Another thread leased meanwhile: keep both grants, neither is wasted.
                lease.left += granted - 1
                lease.counted = max(lease.counted, reached)
            else:
                self._make_room()
                lease = self._held[counter.key] = _Lease(granted - 1, reached, ends)
            self._held.move_to_end(counter.key)
            return self._usage(counter, lease)

    def _usage(self, counter: Counter, lease: _Lease) -> Usage:
        """What the headers tell: the store's count without what this process has not used
        (other processes' unused leases included), never over the limit for a request let
        through."""
        return Usage(counter, min(self.limit.count, lease.counted - lease.left),
                     max(1, math.ceil(lease.ends - time.monotonic())))

    def _make_room(self) -> None:
        """Forget the least recently used lease when full (forgetting one only costs its
        unused requests: a flood of new callers cannot make everyone's go at once)."""
        while len(self._held) >= MAX_LEASES:
            self._held.popitem(last=False)


class RateLimits:
    """An app's store and request limit (``None``: requests are not counted), taken in
    leases."""

    def __init__(self, store: Store, requests: Limit | None):
        self.store = store
        self.requests = requests
        self.leases = Leases(store, requests) if requests else None


@dataclass(frozen=True)
class LoginAttempt:
    """A sign-in counted as failed until forgiven; ``retry_after`` seconds when refused, and
    whether it is the first refusal of its client and username in the window (the one the
    audit trail records: a guesser hammering on gets no row per try)."""

    counters: tuple[Counter, ...]
    retry_after: int | None
    first_refusal: bool = False


def init_app(app: Flask) -> None:
    """The store (Redis when ``REDIS_URL`` is set, else the database), the request limit
    ``RATE_LIMIT`` (``(count, seconds)`` or ``None``), and the hooks that count anonymous
    requests and put the headers on every counted answer."""
    url = app.config["REDIS_URL"]
    requests = app.config["RATE_LIMIT"]
    app.extensions[EXTENSION] = RateLimits(
        RedisStore(url, REDIS_PREFIX) if url else DatabaseStore(),
        Limit(*requests) if requests else None)
    app.before_request(_count_unauthenticated_request)
    app.after_request(_add_headers)


def count_anonymous_request() -> None:
    """Count this request, whose caller is nobody known, against its client's address."""
    count_request(f"address:{_client_address()}")


def counts_its_caller(view):
    """Mark a view (a function or a MethodView's method) that counts its caller once
    authenticated (``login_required``), so the request is not counted by address first."""
    view.counts_its_caller = True
    return view


def count_request(caller: str) -> None:
    """Count this request against ``caller``'s request limit: 429 when over it."""
    limits: RateLimits = current_app.extensions[EXTENSION]
    if limits.requests is None:
        return
    try:
        usage = limits.leases.take(Counter(f"requests:{caller}", limits.requests))
    except StoreUnavailable as exc:
        log.warning("request of %s not counted, the rate-limit store is unreachable: %s",
                    caller, exc)
        return
    _note([usage])
    if usage.exceeded:
        raise RateLimited(f"Too many requests; try again in {usage.reset} seconds.",
                          usage.reset)


def attempt_login(username: str) -> LoginAttempt:
    """Count a sign-in by ``username`` from this client as failed, before its password is
    checked; refused, and not counted, when a count is over its limit."""
    store: Store = current_app.extensions[EXTENSION].store
    address = _client_address()
    counters = (Counter(f"login:user-address:{address}|{username}", LOGIN_LIMITS["user-address"]),
                Counter(f"login:user:{username}", LOGIN_LIMITS["user"]),
                Counter(f"login:address:{address}", LOGIN_LIMITS["address"]))
    try:
        usages = store.count(counters)
        over = [usage for usage in usages if usage.exceeded]
        first_refusal = False
        if over:
            store.take_back(counters)
            refusals = Counter(f"login:refused:{address}|{username}", Limit(1, LOGIN_WINDOW))
            first_refusal = not store.count([refusals])[0].exceeded
    except StoreUnavailable as exc:
        log.error("sign-in refused, the rate-limit store is unreachable: %s", exc)
        raise ServiceUnavailable("Signing in is not possible right now; try again later.")
    _note(over or usages)
    return LoginAttempt(counters, max(usage.reset for usage in over) if over else None,
                        first_refusal)


def withdraw_login(attempt: LoginAttempt) -> None:
    """The password was never checked (every hash slot busy): the attempt does not count."""
    store: Store = current_app.extensions[EXTENSION].store
    try:
        _note(store.take_back(list(attempt.counters)))
    except StoreUnavailable as exc:
        log.warning("an unchecked sign-in still counts as failed, the rate-limit store is "
                    "unreachable: %s", exc)


def forgive_login(attempt: LoginAttempt) -> None:
    """The password was right: take the attempt back, and forget the failures of this
    username from this client."""
    store: Store = current_app.extensions[EXTENSION].store
    user_address, *others = attempt.counters
    try:
        store.clear([user_address])
        _note([Usage.of(user_address, 0, None), *store.take_back(others)])
    except StoreUnavailable as exc:
        log.warning("a right sign-in still counts as failed, the rate-limit store is "
                    "unreachable: %s", exc)


def prune(session, _cutoff) -> dict[str, int]:
    """Delete the database's counters whose window has ended (``common.retention``'s
    ``also``: counters end with their window, not with the retention period)."""
    ended = sa.delete(RateLimitCounter).where(RateLimitCounter.resets_at <= utcnow())
    return {"rate_limit_counters": session.execute(ended).rowcount}


def _note(usages: list[Usage]) -> None:
    """What this answer's headers tell: the usage with the least left."""
    g.rate_limit_usage = min(usages, key=lambda usage: usage.remaining)


def _client_address() -> str:
    """The client's address as counted: an IPv6 address by its /64 network (one host's
    allocation: otherwise each of its 2**64 addresses would be a new client)."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def _count_unauthenticated_request() -> None:
    if request.endpoint in EXEMPT_ENDPOINTS or _counts_its_caller(request.endpoint):
        return
    count_anonymous_request()


def _counts_its_caller(endpoint: str | None) -> bool:
    """Whether what answers this request (a view function, or the method of a MethodView
    that ``HEAD`` or this request's method dispatches to) counts its caller itself."""
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = request.method.lower()
        view = getattr(view_class, method, None)
        if view is None and method == "head":
            view = getattr(view_class, "get", None)
    return getattr(view, "counts_its_caller", False)


def _add_headers(response: Response) -> Response:
    usage = g.get("rate_limit_usage")
    if usage is not None:
        response.headers.update(usage.headers())
    return response
