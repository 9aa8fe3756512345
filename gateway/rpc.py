"""Calling the services: one broker connection and reply queue per thread, errors mapped to HTTP.

gunicorn's ``gthread`` workers serve requests on several threads. Each thread keeps its own
connection, channel and exclusive reply queue, opened on first use (a channel is not
thread-safe, and opening one per request is too slow); one broken by a broker restart is
dropped and the thread's next call opens a new one. A request is a nameko RPC message (the
JSON body ``{"args", "kwargs"}``, the caller's context as ``nameko.*`` headers), so the
services' ``@rpc`` entrypoints answer it as they answer nameko's own proxies.

It is published without a publisher confirm: a confirm is a broker round trip per request,
and a request needs none, as its answer (or the deadline) says what happened. A request no
queue takes is published ``mandatory``, so the broker returns it, and that return arrives on
the connection the thread is already reading for the reply: an absent service is 503 at once.

Every call carries the caller (``Actor``), the write's idempotency key and the deadline after
which the gateway no longer waits. The request expires in its queue with the deadline (a
message TTL), and the service does not start it once the deadline has passed. A reply is
taken only by the call whose correlation id it carries: one that comes after its call gave
up is dropped, never mistaken for (or prolonging) a later call's. A write whose answer did
not come answers "outcome unknown" with its key: retrying with that key is safe.
"""
from __future__ import annotations

import logging
import select
import socket
import threading
import time
import uuid

import amqp
import orjson
from amqp.exceptions import AMQPError
from kombu import Connection, serialization
from kombu.exceptions import OperationalError
from nameko.constants import HEADER_PREFIX
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService, deserialize

from common import amqp_reads, config
from common.actor import Actor
from common.errors import CrmError
from common.service import DEADLINE, REQUEST_KEY
from common.topology import GATEWAY_REPLY_QUEUE_PREFIX, RPC_EXCHANGE
from gateway.auth import current_actor
from gateway.auth.access import request_key
from gateway.errors import GatewayTimeout, InternalError, OutcomeUnknown, ServiceUnavailable
from gateway.request_context import request_id

log = logging.getLogger(__name__)

# What a dead connection raises.
BROKEN_CONNECTION_ERRORS = (OSError, AMQPError, OperationalError)
CONNECT_TIMEOUT = 5.0
STALE_READ_TIMEOUT = 0.05  # to read what came while idle: a late reply or the broker's close
SERIALIZER = "json"  # as the services' nameko config (deploy/nameko.yml)
ACCEPTED = {"application/json"}  # a reply in any other format is refused, never decoded

_local = threading.local()


def _waited_in_vain(exc: OSError) -> bool:
    """Whether ``exc`` says only that nothing came within the wait (``socket.timeout`` with no
    errno), not that the connection timed out (``ETIMEDOUT``, the same class: broken)."""
    return isinstance(exc, socket.timeout) and exc.errno is None


class _ThreadClient:
    """One thread's connection to the broker, its channel and its reply queue."""

    def __init__(self):
        uri = config.amqp_uri()
        self.connection = Connection(uri, ssl=config.amqp_ssl(uri),
                                     connect_timeout=CONNECT_TIMEOUT, heartbeat=0)
        self._waiting_for: str | None = None  # the correlation id of the call in progress
        self._answer: dict | None = None  # its reply, once it has come
        self._returned = False  # whether the broker returned its request (no queue took it)
        try:
            self._open()
        except Exception:
            self.close()  # refused half-way (a reply queue the broker user may not own)
            raise

    def _open(self) -> None:
        self.connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
        self.channel = self.connection.channel()
        self.reply_id = str(uuid.uuid4())
        queue = GATEWAY_REPLY_QUEUE_PREFIX + self.reply_id
        # As nameko declares it (the setup command declares it ahead too).
        self.channel.exchange_declare(RPC_EXCHANGE, "topic", durable=True, auto_delete=False)
        self.channel.queue_declare(queue, exclusive=True, auto_delete=True)
        self.channel.queue_bind(queue, RPC_EXCHANGE, self.reply_id)
        self.channel.basic_consume(queue, no_ack=True, callback=self._on_reply)
        self.channel.events["basic_return"].add(self._on_return)

    def call(self, service: str, method: str, args, kwargs, context: dict, timeout: float):
        content_type, encoding, body = serialization.dumps(
            {"args": args, "kwargs": kwargs}, SERIALIZER)
        correlation_id = str(uuid.uuid4())
        # The context as nameko carries it: one header per key, "nameko.<key>".
        headers = {f"{HEADER_PREFIX}.{key}": value for key, value in context.items()
                   if value is not None}
        headers[f"{HEADER_PREFIX}.{DEADLINE}"] = time.time() + timeout
        headers[f"{HEADER_PREFIX}.call_id_stack"] = [f"gateway.call.{correlation_id}"]
        request = amqp.Message(
            body, content_type=content_type, content_encoding=encoding, delivery_mode=2,
            reply_to=self.reply_id, correlation_id=correlation_id, application_headers=headers,
            expiration=str(max(1, int(timeout * 1000))),  # not delivered after the deadline
        )
        self._waiting_for, self._answer, self._returned = correlation_id, None, False
        try:
            self.channel.basic_publish(request, exchange=RPC_EXCHANGE,
                                       routing_key=f"{service}.{method}", mandatory=True)
            self._wait(time.monotonic() + timeout, timeout)
        finally:
            self._waiting_for = None
        if self._returned:
            raise UnknownService(service)
        if self._answer["error"]:
            raise deserialize(self._answer["error"])
        return self._answer["result"]

    def _wait(self, deadline: float, timeout: float) -> None:
        while self._answer is None and not self._returned:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RpcTimeout(timeout)
            try:
                self.connection.drain_events(timeout=left)
            except socket.timeout as exc:
                if not _waited_in_vain(exc):
                    raise  # the connection timed out (ETIMEDOUT): broken
                raise RpcTimeout(timeout) from None

    def usable(self) -> bool:
        """Whether the connection is still open, found without a round trip: a connection
        idle between calls has nothing to read, on its socket or in its transport's buffer
        (``common.amqp_reads``), unless the broker closed it (a restart) or a reply came
        after its call gave up (read and dropped here)."""
        poller = select.poll()  # not select(): a process may hold more than 1024 files
        poller.register(self.connection.connection.sock, select.POLLIN)
        transport = self.connection.connection.transport
        if not poller.poll(0) and not amqp_reads.has_buffered(transport):
            return True
        try:
            self.connection.drain_events(timeout=STALE_READ_TIMEOUT)
        except BROKEN_CONNECTION_ERRORS as exc:
            return _waited_in_vain(exc)
        return True

    def _on_reply(self, message: amqp.Message) -> None:
        if message.properties.get("correlation_id") != self._waiting_for:
            log.debug("dropped a reply that came after its call gave up")
            return
        self._answer = decoded(message)

    def _on_return(self, exc, exchange, routing_key, message: amqp.Message) -> None:
        if message.properties.get("correlation_id") == self._waiting_for:
            self._returned = True

    def close(self):
        try:
            self.connection.release()
        except BROKEN_CONNECTION_ERRORS:
            log.debug("closing a broken RPC connection failed", exc_info=True)


def decoded(message: amqp.Message):
    """A reply's JSON body as kombu decodes it. kombu's decoder asks a Python hook about every
    object, for its type markers (``{"__type__": "datetime", ...}``); a body that holds none
    (the services answer with plain JSON) is decoded by orjson, about 3 times faster for a
    page of 20 customers. What orjson refuses (``NaN``, an integer past 64 bits) goes to kombu."""
    body = message.body
    if (message.content_type == "application/json"
            and message.content_encoding in ("utf-8", "utf8")
            and (b'"__type__"' if isinstance(body, bytes) else '"__type__"') not in body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return serialization.loads(body, message.content_type, message.content_encoding,
                               accept=ACCEPTED)


def rpc_call(service: str, method: str, *args, **kwargs):
    """Call ``service.method`` as the current actor and return its answer.

    Errors of ``common.errors`` raised by the service arrive as their own types and are
    re-raised; an absent service is 503, a service too slow 504 (for a write: outcome
    unknown, retry with its key), anything else 500.
    """
    return _call(service, method, args, kwargs, _caller(request_key()), config.rpc_timeout())


def rpc_call_part(service: str, method: str, part: str, *args):
    """One of the calls a write is made of (an import's rows, sent in chunks): each runs once
    under the request's key and its ``part``, so a retry of the request with its key repeats
    none of the parts done before and does the rest."""
    return _call(service, method, args, {}, _caller(f"{request_key()}:{part}"),
                 config.rpc_timeout())


def _caller(key: str | None) -> dict:
    """The context of a call: the current actor, and the key of a write."""
    context = current_actor().to_context()
    if key is not None:
        context[REQUEST_KEY] = key
    return context


def ping(service: str, timeout: float = 2) -> dict:
    """The service's ``ping`` answer, for readiness checks (no caller needed)."""
    return system_call(service, "ping", timeout)


def system_call(service: str, method: str, timeout: float = 2):
    """Call a platform entrypoint (``ping``, ``metrics``) as the gateway itself."""
    context = Actor.system(method).to_context() | {"request_id": request_id()}
    return _call(service, method, (), {}, context, timeout)


def _call(service: str, method: str, args, kwargs, context: dict, timeout: float):
    try:
        return _thread_client().call(service, method, args, kwargs, context, timeout)
    except CrmError:
        raise
    except UnknownService:
        raise ServiceUnavailable(f"The {service} service is not available.") from None
    except RpcTimeout:
        if REQUEST_KEY in context:
            raise OutcomeUnknown(f"The {service} service did not answer in time.") from None
        raise GatewayTimeout(f"The {service} service did not answer in time.") from None
    except RemoteError as exc:
        log.error("%s.%s failed remotely: %s", service, method, exc)
        raise InternalError() from None
    except BROKEN_CONNECTION_ERRORS:
        log.warning("RPC connection broken; dropping this thread's connection", exc_info=True)
        _drop_thread_client()
        if REQUEST_KEY in context:
            raise OutcomeUnknown("The broker connection broke during the call.",
                                 status=503) from None
        raise ServiceUnavailable("The broker is not reachable.") from None


def _thread_client() -> _ThreadClient:
    """This thread's client; a new one when the broker closed the last one while it was idle,
    so a request is never sent on a connection known to be gone."""
    client = getattr(_local, "client", None)
    if client is not None and not client.usable():
        log.info("the broker closed this thread's RPC connection; opening a new one")
        _drop_thread_client()
        client = None
    if client is None:
        client = _local.client = _ThreadClient()
    return client


def _drop_thread_client() -> None:
    client = getattr(_local, "client", None)
    _local.client = None
    if client is not None:
        client.close()
