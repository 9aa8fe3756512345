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

from kombu import Queue
from nameko.events import SERVICE_POOL, EventHandler
from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER,
                              DEFAULT_TRANSPORT_OPTIONS, LOGIN_METHOD_CONFIG_KEY,
                              SERIALIZER_CONFIG_KEY)
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

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


class UnconfirmedPublisher(Publisher):
    use_confirms = False
    # Its own: nameko's publish writes confirm_publish into this dict, which the base class
    # shares with every other publisher (whose confirms it would turn off).
    transport_options = {**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": False}


class ReplyWithoutConfirm(Responder):
    """nameko's reply, published without waiting for a publisher confirm: that is a broker
    round trip per reply, and a reply needs none (a lost one is the caller's timeout, and a
    write's retry with its key answers the stored result)."""

    publisher_cls = UnconfirmedPublisher


class QuorumRpcConsumer(RpcConsumer):
    """A service's RPC queue, declared quorum, whose replies go without a publisher confirm
    (:class:`ReplyWithoutConfirm`) and whose consumer survives what nameko's kills the
    service for: a message that is no request (no ``reply_to``: nameko fails to answer it and
    dies) is dropped with a log line, and a reply that cannot be sent because the broker went
    away is logged and its request returned to the queue, to be answered again (a write
    answers the result stored with its key, ``common.idempotency``)."""

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
        settings = self.container.config
        responder = ReplyWithoutConfirm(
            settings[AMQP_URI_CONFIG_KEY], get_rpc_exchange(settings),
            settings.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=settings.get(AMQP_SSL_CONFIG_KEY),
            login_method=settings.get(LOGIN_METHOD_CONFIG_KEY))
        try:
            result, exc_info = responder.send_response(result, exc_info)
            self.queue_consumer.ack_message(message)
            return result, exc_info
        except CONNECTION_ERRORS as exc:
            log.warning("%s: reply not sent, the broker is unreachable (%s); the request goes "
                        "back to the queue", self.queue.name, exc)
            self.requeue_message(message)
            return result, exc_info


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
