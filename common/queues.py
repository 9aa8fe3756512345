"""Quorum queues: how every durable queue of the CRM is declared.

A quorum queue is replicated across a RabbitMQ cluster (a classic queue lives on one node),
and counts deliveries: a message returned to its queue more than ``CRM_DELIVERY_LIMIT`` times
(a message that kills its worker, or a database outage that outlasts every pause) goes to the
dead-letter exchange with reason ``delivery_limit`` instead of looping for ever. It is the
last guard; handlers dead-letter what they recognise as unusable on the first try.

nameko declares the queues of its entrypoints itself, with no arguments; the entrypoints here
declare the same names as quorum queues. ``common.topology`` declares them ahead with the
same arguments (the broker refuses a declaration whose arguments differ from the queue's), and
moves queues declared as classic by an earlier release (``--migrate-classic``).

RPC reply queues stay classic: each belongs to one running caller, is deleted when it has
gone, and holds nothing worth replicating.
"""
from __future__ import annotations

from kombu import Queue
from nameko.events import EventHandler
from nameko.rpc import Rpc, RpcConsumer

from common import config

DEAD_LETTER_EXCHANGE = "crm.dead-letter"


def quorum_arguments(dead_letter: bool = True) -> dict:
    arguments = {"x-queue-type": "quorum", "x-delivery-limit": config.delivery_limit()}
    if dead_letter:
        arguments["x-dead-letter-exchange"] = DEAD_LETTER_EXCHANGE
    return arguments


def quorum(queue: Queue, dead_letter: bool = True) -> Queue:
    """``queue`` (durable, not exclusive, not auto-deleted) declared as a quorum queue."""
    return Queue(
        queue.name,
        exchange=queue.exchange,
        routing_key=queue.routing_key,
        durable=True,
        auto_delete=False,
        exclusive=False,
        queue_arguments=quorum_arguments(dead_letter),
    )


class QuorumRpcConsumer(RpcConsumer):
    def setup(self):
        if self.queue is None:
            super().setup()
            self.queue = quorum(self.queue)


class QuorumRpc(Rpc):
    rpc_consumer = QuorumRpcConsumer()


class QuorumEventHandler(EventHandler):
    def setup(self):
        super().setup()
        self.queue = quorum(self.queue)


rpc = QuorumRpc.decorator
event_handler = QuorumEventHandler.decorator
