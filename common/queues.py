"""Quorum queues: how every durable queue of the CRM is declared and consumed.

A quorum queue is replicated across a RabbitMQ cluster (a classic queue lives on one node),
and counts deliveries: a message returned to its queue more than ``CRM_DELIVERY_LIMIT`` times
(a message that kills its worker, or a database outage that outlasts every pause) goes to the
dead-letter exchange with reason ``delivery_limit`` instead of looping for ever. It is the
last guard; handlers dead-letter what they recognise as unusable on the first try.

nameko declares the queues of its entrypoints itself, with no arguments; the entrypoints here
declare the same names as quorum queues. ``common.topology`` declares them ahead with the
same arguments (the broker refuses a declaration whose arguments differ from the queue's), and
moves queues declared as classic by an earlier release (``--migrate-classic``).

An RPC queue has no dead-letter exchange: a request expires with its caller's deadline, and an
expired request is nobody's concern. RPC reply queues stay classic: each belongs to one running
caller, is deleted when it has gone, and holds nothing worth replicating.
"""
from __future__ import annotations

import logging
import sys
import threading

import amqp
import kombu.serialization
from kombu import Connection, Queue
from nameko.events import SERVICE_POOL, EventHandler
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import UnserializableValueError, serialize
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from common import config
from common.outbox import CONNECTION_ERRORS

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "crm.dead-letter"


def quorum_arguments(dead_letter: bool = True, delivery_limit: bool = True) -> dict:
    """The arguments of a quorum queue: its dead-letter exchange (else what it rejects or
    drops is gone) and its delivery limit (else a returned message may come back for ever)."""
    arguments = {"x-queue-type": "quorum"}
    if delivery_limit:
        arguments["x-delivery-limit"] = config.delivery_limit()
    if dead_letter:
        arguments["x-dead-letter-exchange"] = DEAD_LETTER_EXCHANGE
    return arguments


def quorum(queue: Queue, dead_letter: bool = True, delivery_limit: bool = True) -> Queue:
    """``queue`` (durable, not exclusive, not auto-deleted) declared as a quorum queue."""
    return Queue(
        queue.name,
        exchange=queue.exchange,
        routing_key=queue.routing_key,
        durable=True,
        auto_delete=False,
        exclusive=False,
        queue_arguments=quorum_arguments(dead_letter, delivery_limit),
    )


class ReplyChannel:
    """A service container's RPC replies: one broker connection and channel shared by its
    workers in turn, each reply a single ``basic_publish`` with no publisher confirm (a
    broker round trip per reply, which a reply needs none of: a lost one is the caller's
    timeout, and a write's retry with its key answers the stored result) and its JSON
    encoded once. nameko's ``Responder`` encodes a reply twice and publishes it through a
    kombu producer pool, about three times the CPU of the publish itself."""

    def __init__(self, amqp_uri: str, exchange: str, connect_timeout: float = 2.0):
        # Imported here: a process that only declares the topology never loads eventlet (or
        # prints its deprecation warning, which the filters expect from nameko's modules).
        import eventlet.patcher

        self._select = eventlet.patcher.original("select")  # its poll(), not the hub's
        self.amqp_uri = amqp_uri
        self.exchange = exchange
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()  # green in a service (monkey-patched)
        self._conn: Connection | None = None

    def send(self, request, result, exc_info) -> tuple:
        """Answer ``request`` (a kombu message) with ``result`` or the error of
        ``exc_info``, encoded as the request was; a result that cannot be encoded answers
        nameko's ``UnserializableValueError`` instead. Returns ``(result, exc_info)`` as
        answered; raises what a broken connection raises (it is dropped, the next reply
        opens another)."""
        error = serialize(exc_info[1]) if exc_info is not None else None
        serializer = kombu.serialization.registry.type_to_name[
            request.properties["content_type"]]
        try:
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": result, "error": error}, serializer)
        except Exception:  # noqa: BLE001 - as nameko: the caller hears why, the worker lives
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))
            result = None
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": None, "error": error}, serializer)
        reply = amqp.Message(body, content_type=content_type, content_encoding=encoding,
                             correlation_id=request.properties.get("correlation_id"))
        with self._lock:
            try:
                self._channel().basic_publish(reply, exchange=self.exchange,
                                              routing_key=request.properties["reply_to"])
            except CONNECTION_ERRORS:
                self._drop()
                raise
        return result, exc_info

    def _channel(self):
        """The channel to publish on: a new connection's when there is none, or when the
        broker has said something on this one. It only publishes, so anything to read is
        the broker closing it (a restart, a node lost) or its channel: a reply published
        there would be lost without an error."""
        if self._conn is not None and self._broker_spoke():
            log.info("the broker closed the reply connection; opening a new one")
            self._drop()
        if self._conn is None:
            conn = Connection(self.amqp_uri, ssl=config.amqp_ssl(self.amqp_uri),
                              connect_timeout=self.connect_timeout, heartbeat=0)
            try:
                conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)
                conn.default_channel.exchange_declare(self.exchange, "topic", durable=True,
                                                      auto_delete=False)
            except BaseException:
                conn.release()
                raise
            self._conn = conn
        return self._conn.default_channel

    def _broker_spoke(self) -> bool:
        """Whether the connection's socket has something to read, asked of the kernel at
        once (not through eventlet's hub: nothing waits)."""
        sock = self._conn.connection.sock
        if sock is None or sock.fileno() < 0:
            return True  # closed under it
        poller = self._select.poll()  # not select(): a process may hold > 1024 files
        poller.register(sock.fileno(), self._select.POLLIN)
        return bool(poller.poll(0))

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - already broken
                log.debug("closing a broken reply connection failed", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._drop()


class QuorumRpcConsumer(RpcConsumer):
    """A service's RPC queue, declared quorum, whose replies go without a publisher confirm
    (:class:`ReplyChannel`) and whose consumer survives what nameko's kills the
    service for: a message that is no request (no ``reply_to``: nameko fails to answer it and
    dies) is dropped with a log line, and a reply that cannot be sent because the broker went
    away is logged and its request returned to the queue, to be answered again (a write
    answers the result stored with its key, ``common.idempotency``)."""

    _replies: ReplyChannel | None = None

    def setup(self):
        if self.queue is None:
            super().setup()
            self.queue = quorum(self.queue, dead_letter=False)

    def handle_message(self, body, message):
        if not message.properties.get("reply_to"):
            log.error("%s: dropped a message that is no RPC request (no reply_to)",
                      self.queue.name)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message, result, exc_info):
        try:
            result, exc_info = self.replies.send(message, result, exc_info)
            self.queue_consumer.ack_message(message)
            return result, exc_info
        except CONNECTION_ERRORS as exc:
            log.warning("%s: reply not sent, the broker is unreachable (%s); the request goes "
                        "back to the queue", self.queue.name, exc)
            self.requeue_message(message)
            return result, exc_info

    @property
    def replies(self) -> ReplyChannel:
        if self._replies is None:
            self._replies = ReplyChannel(self.container.config[AMQP_URI_CONFIG_KEY],
                                         get_rpc_exchange(self.container.config).name)
        return self._replies

    def stop(self):
        super().stop()
        self._close_replies()

    def kill(self):
        super().kill()
        self._close_replies()

    def _close_replies(self):
        if self._replies is not None:
            self._replies.close()


class QuorumRpc(Rpc):
    rpc_consumer = QuorumRpcConsumer()


class QuorumEventHandler(EventHandler):
    """A service-pool event handler on a quorum queue (a broadcast or singleton handler's
    queue is exclusive or shared by name, which a durable quorum queue cannot be), whose
    acknowledgement lost with the broker does not kill the service."""

    def setup(self):
        assert self.handler_type is SERVICE_POOL, "quorum queues serve service-pool handlers"
        super().setup()
        self.queue = quorum(self.queue)

    def handle_message_processed(self, message, result=None, exc_info=None):
        """Acknowledge (or return) the message; when the broker went away meanwhile, log it
        rather than let nameko kill the service: the broker delivers the message again, and
        the handler skips an event it has applied."""
        try:
            super().handle_message_processed(message, result, exc_info)
        except CONNECTION_ERRORS as exc:
            log.warning("%s: acknowledgement lost, the broker is unreachable (%s); the event "
                        "comes again", self.queue.name, exc)


event_handler = QuorumEventHandler.decorator
