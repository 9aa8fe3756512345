"""What every nameko service shares: its database dependency, the outbox relay timer, the
parked-event retry timer, a ping for readiness, idempotent event handlers, and the directory
of people (``common.directory``) kept from the gateway's events.

A service class derives from :class:`PlatformService` and declares ``db = Database(...)``;
its RPC entrypoints run a use case with ``self.db.run(use_case, *args)`` (a write, or anything
that needs a transaction) or ``self.db.read(use_case, *args)`` (a pure read): plain Python over
a unit of work of the calling actor.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import traceback

import sqlalchemy as sa
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from common import (amqp_reads, config, directory, garbage_collection, idempotency, metrics,
                    retention)
from common.actor import Actor
from common.errors import CallerUnknown, CrmError, RequestExpired
from common.events import envelope_problems
from common.db import (
    PlatformModels,
    create_db_engine,
    insert_on_conflict,
    make_green,
    make_session_factory,
    utcnow,
)
from common.outbox import OutboxRelay
from common.queues import DEAD_LETTER_EXCHANGE, QuorumRpc, event_handler
from common.timers import timer
from common.uow import UnitOfWork

log = logging.getLogger(__name__)


class ServiceRpc(QuorumRpc):
    """The RPC entrypoint of every service (on a quorum queue, ``common.queues``). It serves
    only a request naming its caller (``common.actor``): one with no role or an unknown role
    is answered :class:`CallerUnknown` and never runs, rather than running as the system.
    Timers and event handlers are not called: they act as the system explicitly
    (:meth:`Database.get_dependency`)."""

    def handle_message(self, body, message):
        if Actor.from_context(self.unpack_message_headers(message)) is None:
            raise CallerUnknown("The request names no caller (a role in its context data); "
                                "it was not run.")
        super().handle_message(body, message)


rpc = ServiceRpc.decorator
# An RPC entrypoint whose typed errors (not found, conflict, validation...) are answers to the
# caller, not failures of the service: nameko then does not log them as unexpected.
rpc_method = rpc(expected_exceptions=(CrmError,))

# What the gateway puts in a request's context data beside the caller (``common.actor``).
REQUEST_KEY = "idempotency_key"
DEADLINE = "deadline"  # seconds since the epoch; after it, the caller no longer waits
DELIVERY_COUNT = "x-delivery-count"  # the header a quorum queue counts a message's returns in
MAX_HANDLER_ATTEMPTS = 8
RETRY_LEASE = dt.timedelta(minutes=2)  # a claimed retry not finished by then is retried again
RETRY_BATCH = 100


def _claim(session, platform: PlatformModels, event_id: str, handler: str) -> bool:
    """Record in the session's transaction that ``handler`` applies ``event_id``, and clear
    the event's parked row if it has one (a retry, or a delivery again after a failure):
    both hold once the transaction commits. ``False`` when the event is claimed already
    (the row taken, or being written by another delivery, whose transaction this waits for).
    On PostgreSQL one statement, the clearing a CTE of the insert, where a look-up, an insert
    and a delete were three."""
    bind = session.get_bind()
    claim, clear = _claim_statements(platform.ProcessedEvent.__table__,
                                     platform.ParkedEvent.__table__, bind.dialect.name)
    params = {"event_id": event_id, "handler": handler}
    if clear is not None:
        session.execute(clear, params)
    return session.execute(claim, {**params, "processed_at": utcnow()}).rowcount == 1


@functools.lru_cache(maxsize=None)
def _claim_statements(processed: sa.Table, parked: sa.Table, dialect: str):
    """``_claim``'s statements, built once: the claim, and the clearing to run before it
    (``None`` on PostgreSQL, where the claim holds it)."""
    clear = sa.delete(parked).where(parked.c.event_id == sa.bindparam("event_id"),
                                    parked.c.handler == sa.bindparam("handler"))
    claim = insert_on_conflict(dialect, processed).values(
        event_id=sa.bindparam("event_id"), handler=sa.bindparam("handler"),
        processed_at=sa.bindparam("processed_at")).on_conflict_do_nothing(
        index_elements=[column.name for column in processed.primary_key.columns])
    if dialect == "postgresql":
        return claim.add_cte(clear.cte("cleared")), None
    return claim, clear


def infrastructure_pause(returns: int) -> float:
    """Seconds a handler whose database is unreachable waits before its message goes back to
    the queue: 2, 4, 8 ... at most 60 as the same message comes back, so an outage is a slow
    trickle of redeliveries and the queue's delivery limit (200) outlasts three hours of it."""
    return float(min(2 ** (returns + 1), 60))


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential back-off for a parked event: 2, 4, 8 ... seconds, at most 5 minutes."""
    return dt.timedelta(seconds=min(2 ** attempts, 300))


class ServiceDatabase:
    """What a worker sees of its service's database, and of the request it serves: who asks,
    the key of a write (``common.idempotency``), until when the caller waits, and how often
    the message was returned to its queue before."""

    def __init__(self, provider: "Database", actor: Actor, request_key: str | None = None,
                 deadline: float | None = None, returns: int = 0, context: dict | None = None):
        self._provider = provider
        self._context = context if context is not None else {}
        self.actor = actor
        self.request_key = request_key
        self.deadline = deadline
        self.returns = returns

    @property
    def session_factory(self):
        return self._provider.session_factory

    @property
    def platform(self):
        return self._provider.platform

    @property
    def relay(self) -> OutboxRelay:
        return self._provider.relay

    def run(self, use_case, *args):
        """Run ``use_case(uow, *args)`` in a unit of work of the calling actor: what an RPC
        entrypoint does that writes (:meth:`read` for a pure read). A request whose caller
        has stopped waiting is not run at all; a write (it has a key) runs once, a repeat
        answering the first result."""
        self._refuse_expired()
        with self.unit_of_work() as uow:
            if self.request_key is None:
                return use_case(uow, *args)
            return idempotency.run_once(uow, self.request_key, use_case, *args)

    def read(self, use_case, *args):
        """Run ``use_case(uow, *args)``, which only reads, in a read's unit of work of the
        calling actor (``UnitOfWork(read_only=True)``: no transaction round trips), again
        once if its database connection turns out to be closed; an expired request is not
        run, as with :meth:`run`."""
        self._refuse_expired()
        try:
            with self.unit_of_work(read_only=True) as uow:
                return use_case(uow, *args)
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # Its connection had died since it was last used (``common.db._ping_after_rest``):
        # read again, on a new one (a read changed nothing), if the caller still waits.
        log.info("a read found its database connection closed; reading again")
        self._refuse_expired()
        with self.unit_of_work(read_only=True) as uow:
            return use_case(uow, *args)

    def _refuse_expired(self) -> None:
        if self.deadline is not None and time.time() > self.deadline:
            log.info("request %s expired before it ran; not run", self.actor.request_id)
            raise RequestExpired(f"The request expired before the {self._provider.source} "
                                 "service could run it; it was not run.")

    def act_as(self, actor: Actor) -> None:
        """Make ``actor`` the worker's actor, in the calls it makes to other services too: a
        timer running an import job for its creator asks as them."""
        self.actor = actor
        self._context.clear()
        self._context.update(actor.to_context())

    def unit_of_work(self, actor: Actor | None = None, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(
            self._provider.session_factory,
            self._provider.platform,
            source=self._provider.source,
            actor=actor or self.actor,
            on_commit=self._provider.relay.publish_ids,
            read_only=read_only,
        )

    # -- idempotent consumers ------------------------------------------------------------
    def apply_event(self, event: dict, handler: str, apply) -> str:
        """Apply ``event`` once for ``handler``; a failure parks it for retry.

        Returns ``applied``, ``duplicate`` or ``parked``. The processed-id row is written
        first, in the handler's own transaction, so an event is applied exactly once even
        when it is delivered twice at the same moment: the second delivery's insert waits for
        the first's transaction, and then finds the row (or, if the first failed, writes it).
        """
        platform = self._provider.platform
        event_id = str(event.get("id"))
        actor = Actor.system(f"event:{event_id}")
        with self.unit_of_work(actor) as uow:
            if not _claim(uow.session, platform, event_id, handler):
                # Applied already, by a delivery whose commit the claim waited for: a parked
                # row of the event (parked by a delivery that failed meanwhile) is stale.
                uow.session.commit()
                return "duplicate"
            try:
                apply(uow)
                uow.commit()
                return "applied"
            except Exception as exc:  # noqa: BLE001 - parked, never dropped
                uow.rollback()
                if self._already_processed(event_id, handler):
                    return "duplicate"
                log.warning("handler %s failed on event %s: %s", handler, event_id, exc)
                self._park(event, handler, exc)
                return "parked"

    def _already_processed(self, event_id: str, handler: str) -> bool:
        with self.session_factory() as session:
            return (
                session.get(self._provider.platform.ProcessedEvent, (event_id, handler))
                is not None
            )

    def dead_letter(self, message, handler: str, cause: str) -> str:
        """Send a message no handler can ever apply to the dead-letter queue, once, with why
        (acknowledged here, so it does not come back)."""
        log.error("handler %s dead-letters a message: %s", handler, cause)
        with self.unit_of_work(Actor.system("dead-letter")) as uow:
            self._emit_dead_letter(uow, message, handler, 0, cause[:2000])
            uow.commit()
        return "dead"

    def _emit_dead_letter(self, uow: UnitOfWork, message, handler: str, attempts: int,
                          cause: str) -> None:
        """The dead letter of ``handler`` (routing key ``<service>.<handler>``), published
        with the unit of work: the message, the handler, its attempts and why."""
        qualified = f"{self._provider.source}.{handler}"
        uow.emit_raw(DEAD_LETTER_EXCHANGE, qualified, {
            "event": message, "handler": qualified, "attempts": attempts, "cause": cause})

    def _park(self, event: dict, handler: str, exc: Exception) -> None:
        Parked = self._provider.platform.ParkedEvent
        cause = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        with self.unit_of_work(Actor.system("parking")) as uow:
            parked = uow.session.get(Parked, (str(event["id"]), handler))
            if parked is None:
                parked = Parked(
                    event_id=str(event["id"]), handler=handler, payload=event, attempts=0
                )
                uow.session.add(parked)
            parked.attempts += 1
            parked.last_error = cause
            parked.next_attempt_at = utcnow() + retry_delay(parked.attempts)
            if parked.attempts >= MAX_HANDLER_ATTEMPTS:
                parked.status = "dead"
                self._emit_dead_letter(uow, event, handler, parked.attempts, cause)
            uow.commit()

    def platform_metrics(self) -> list[dict]:
        """The outbox backlog and the parked events, as every service reports them."""
        platform = self._provider.platform
        with self.session_factory() as session:
            pending = session.scalar(sa.select(sa.func.count()).where(
                platform.Outbox.published_at.is_(None)))
            parked = dict(session.execute(
                sa.select(platform.ParkedEvent.status, sa.func.count())
                .group_by(platform.ParkedEvent.status)).all())
        return [
            metrics.family("crm_outbox_pending", "gauge",
                           "Events committed and not yet published", [("", {}, pending)]),
            metrics.family("crm_parked_events", "gauge",
                           "Events whose handler failed: retrying, or dead-lettered",
                           [("", {"status": status}, parked.get(status, 0))
                            for status in ("retrying", "dead")]),
        ]

    def due_parked_events(self) -> list[tuple[str, dict]]:
        """Claim the parked events due for a retry: their next attempt moves a lease ahead in
        the same transaction, rows another instance is claiming skipped, so two instances
        never retry the same event; one that dies mid-retry leaves it for after the lease."""
        Parked = self._provider.platform.ParkedEvent
        with self.session_factory() as session:
            query = (
                sa.select(Parked)
                .where(Parked.status == "retrying", Parked.next_attempt_at <= utcnow())
                .order_by(Parked.next_attempt_at)
                .limit(RETRY_BATCH)
            )
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            claimed = session.scalars(query).all()
            for row in claimed:
                row.next_attempt_at = utcnow() + RETRY_LEASE
            due = [(row.handler, row.payload) for row in claimed]
            session.commit()
            return due


class BrokerTls(DependencyProvider):
    """Gives the container's nameko extensions the broker's TLS options (``AMQP_SSL``).

    ``nameko run`` reads deploy/nameko.yml, which cannot hold options only an ``amqps://``
    URI wants; :func:`common.config.with_amqp_ssl` adds them when the container binds its
    extensions, before any of them connects."""

    def bind(self, container, attr_name):
        config.with_amqp_ssl(container.config)
        return super().bind(container, attr_name)

    def get_dependency(self, worker_ctx):
        return None


class Database(DependencyProvider):
    """One engine, session factory and outbox relay per service container."""

    def __init__(self, platform: PlatformModels, keep_unroutable: bool = True):
        """``keep_unroutable``: see :class:`common.outbox.OutboxRelay`."""
        self.platform = platform
        self.keep_unroutable = keep_unroutable
        self.engine = None
        self.session_factory = None
        self.relay = None

    @property
    def source(self) -> str:
        return self.container.service_name

    def setup(self):
        make_green()
        garbage_collection.tune()
        amqp_reads.install()
        # One connection per worker (nameko's max_workers) and a few for the timers.
        self.engine = create_db_engine(config.database_url(self.source),
                                       pool_size=self.container.config.get("max_workers", 10),
                                       max_overflow=config.EXTRA_CONNECTIONS)
        self.session_factory = make_session_factory(self.engine)
        self.relay = OutboxRelay(
            self.session_factory, self.platform.Outbox, self.container.config["AMQP_URI"],
            keep_unroutable=self.keep_unroutable,
        )

    def stop(self):
        self.relay.close()
        self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        context = worker_ctx.data  # not ``context_data``: a copy, whose changes go nowhere
        returns = int(context.get(DELIVERY_COUNT) or 0)
        if isinstance(worker_ctx.entrypoint, (Timer, EventHandler)):
            # A timer or an event handler acts as the system, and says so in the calls it
            # makes to other services (nameko passes its context data on): whoever caused
            # the event is not its caller, nor are the broker's headers (x-death...).
            context.clear()
            context.update(Actor.system(worker_ctx.entrypoint.method_name).to_context())
        # The key names this request only: a call this worker makes to another service is a
        # request of its own (popped, so nameko does not pass it on); the deadline is shared.
        return ServiceDatabase(self, Actor.from_context(context),
                               request_key=context.pop(REQUEST_KEY, None),
                               deadline=context.get(DEADLINE), returns=returns,
                               context=context)


def handles(source_service: str, event_type: str):
    """Declare an idempotent handler of ``<source_service>.events`` / ``event_type``.

    The decorated method is ``fn(self, uow, event)``; it runs inside a unit of work that also
    records the event id, and is retried with back-off (then dead-lettered) when it raises.
    A message that is not an event envelope at all is dead-lettered at once with the reason
    (it would fail the same way for ever). The queue is durable and declared ahead by
    ``common.topology``.
    """

    def decorator(fn):
        handler = fn.__name__

        @functools.wraps(fn)
        def entrypoint(self, event):
            problems = envelope_problems(event)
            if problems:
                return self.db.dead_letter(event, handler, f"not an event envelope: {problems}")
            try:
                return self.db.apply_event(event, handler, lambda uow: fn(self, uow, event))
            except Exception:
                # Handler errors are parked by apply_event; what escapes is the database
                # being unreachable: the message goes back to the queue, after a pause, so a
                # database outage is not a hot loop of redeliveries.
                time.sleep(infrastructure_pause(self.db.returns))  # green: monkey-patched
                raise

        entrypoint.crm_subscription = (source_service, event_type)
        return event_handler(source_service, event_type, requeue_on_error=True)(entrypoint)

    return decorator


def consumes(events: dict):
    """A class decorator: for each ``(source, event type) -> apply(uow, event)`` of
    ``events``, an idempotent handler (see :func:`handles`) named ``on_<type>`` (so its queue
    keeps its name), so that a service lists the events it consumes once, as data."""

    def decorate(cls):
        for (source, event_type), apply in events.items():
            name = "on_" + event_type.replace(".", "_")

            def handler(self, uow, event, _apply=apply):
                _apply(uow, event)

            handler.__name__ = handler.__qualname__ = name
            setattr(cls, name, handles(source, event_type)(handler))
        return cls

    return decorate


@consumes(directory.EVENTS)
class PlatformService:
    """Entrypoints every service has: readiness, metrics, the outbox relay and parked-event
    timers, and the directory of people (``common.directory``) kept from the gateway's
    events. Subclasses set ``name`` and ``db``."""

    name: str
    db: ServiceDatabase
    broker_tls = BrokerTls()

    @rpc
    def ping(self):
        return {"service": self.name, "status": "ok"}

    @rpc
    def metrics(self):
        """Metric families for the gateway's /metrics (see ``common.metrics``)."""
        return self.db.platform_metrics() + self.service_metrics()

    def service_metrics(self) -> list[dict]:
        """A service's own metric families; none by default."""
        return []

    @timer(interval=5)
    def relay_outbox(self):
        self.db.relay.sweep()

    @timer(interval=3600)
    def prune_platform_tables(self):
        retention.prune(self.db.session_factory, self.db.platform, self.prune_own)

    def prune_own(self, session, cutoff) -> dict[str, int]:
        """A service's own tables past retention (``common.retention``); none by default."""
        return {}

    @timer(interval=5)
    def retry_parked_events(self):
        for handler, event in self.db.due_parked_events():
            method = getattr(type(self), handler, None)
            if method is None or not hasattr(method, "__wrapped__"):
                log.error("parked event %s names unknown handler %s", event.get("id"), handler)
                continue
            original = method.__wrapped__
            self.db.apply_event(event, handler, lambda uow: original(self, uow, event))


class ImportEntrypoints:
    """The entrypoints of a service that imports files of its records (customers, leads),
    mixed into its class before :class:`PlatformService`; its ``importer``
    (``common.import_jobs.ImportJobs``) says what it imports. A timer runs the queued jobs."""

    importer = None

    @rpc_method
    def create_import(self, payload):
        return self.db.run(self.importer.create, payload)

    @rpc_method
    def add_import_rows(self, job_id, payload):
        return self.db.run(self.importer.add_rows, job_id, payload)

    @rpc_method
    def get_import(self, job_id):
        return self.db.run(self.importer.get, job_id)

    @rpc_method
    def list_imports(self, query=None):
        return self.db.run(self.importer.list, query or {})

    @rpc_method
    def import_errors(self, job_id, query=None):
        return self.db.run(self.importer.failed_rows, job_id, query or {})

    # A queued job starts within half a second (a tick is one short transaction per
    # instance: nothing queued, nothing else done).
    @timer(interval=0.5)
    def run_imports(self):
        self.importer.run_queued(self.db, self.import_services())

    def import_services(self) -> dict:
        """The other services a job's rows are checked against (``Target.store`` gets them;
        they are asked as the job's creator)."""
        return {}

    def prune_own(self, session, cutoff) -> dict[str, int]:
        return self.importer.prune(session, cutoff)
