"""Declare the broker topology before any service starts.

nameko declares a handler's queue only when the handler first starts, and an event published
before that is confirmed by the broker and silently discarded. Declaring every exchange, every
handler queue and its binding ahead of time makes such an event wait in its queue instead;
declaring each service's RPC queue ahead lets a request wait for a service still starting.

    python -m common.topology                                   # every registered service
    python -m common.topology services.customers.service:CustomersService ...  # just these
    python -m common.topology --migrate-classic   # once, services stopped: see below

An exchange is declared for each component that publishes events (``common.components``).
Every queue is a quorum queue (``common.queues``). A release before quorum queues declared
them classic, and the broker refuses to redeclare a queue with another type:
``--migrate-classic`` moves each classic queue's messages into a quorum queue of the same
name, bindings included (docs/operations.md, "Upgrading to quorum queues").
"""
from __future__ import annotations

import argparse
import inspect
import logging

import amqp
from kombu import Connection, Exchange, Queue

from common import components, config
from common.events import exchange_name
from common.outbox import CONFIRM_TIMEOUT
from common.queues import DEAD_LETTER_EXCHANGE, quorum

log = logging.getLogger(__name__)

DEAD_LETTER_QUEUE = "crm.dead-letter"
RPC_EXCHANGE = "nameko-rpc"
# The gateway's reply queues (one per thread, exclusive; gateway.rpc) are named so.
GATEWAY_REPLY_QUEUE_PREFIX = "rpc.reply-gateway-"
MIGRATING_SUFFIX = ".migrating"


class ClassicQueueFound(RuntimeError):
    """A queue exists with other arguments: run ``--migrate-classic`` with the services
    stopped."""


def handler_queues(service_cls) -> list[Queue]:
    """The queues of ``service_cls``'s event handlers, as ``common.queues`` declares them."""
    queues = []
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        subscription = getattr(method, "crm_subscription", None)
        if subscription is None:
            continue
        source, event_type = subscription
        queues.append(quorum(Queue(
            f"evt-{source}-{event_type}--{service_cls.name}.{method_name}",
            exchange=Exchange(exchange_name(source), type="topic", durable=True),
            routing_key=event_type,
        )))
    return queues


def rpc_queue(service_cls) -> Queue:
    """The queue of ``service_cls``'s RPC requests, as ``common.queues`` declares it."""
    return quorum(Queue(f"rpc-{service_cls.name}",
                        exchange=Exchange(RPC_EXCHANGE, type="topic", durable=True),
                        routing_key=f"{service_cls.name}.*"), dead_letter=False)


def dead_letter_queue() -> Queue:
    """Where dead letters wait for an operator: never dead-lettered again, and no delivery
    limit (reading one in the management UI returns it to the queue)."""
    return quorum(Queue(DEAD_LETTER_QUEUE, routing_key="#",
                        exchange=Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)),
                  dead_letter=False, delivery_limit=False)


def declare(service_classes, amqp_uri: str | None = None, migrate_classic: bool = False) -> list[str]:
    """Declare exchanges, the dead-letter queue, and every RPC and handler queue. Idempotent.

    A queue found classic raises :class:`ClassicQueueFound`, or with ``migrate_classic`` is
    moved to a quorum queue of the same name."""
    declared = []
    amqp_uri = amqp_uri or config.amqp_uri()
    with Connection(amqp_uri, ssl=config.amqp_ssl(amqp_uri), connect_timeout=5) as conn:
        channel = conn.channel()
        for source in components.event_sources():
            Exchange(exchange_name(source), type="topic", durable=True)(channel).declare()
            declared.append(f"exchange {exchange_name(source)}")
        # (queue, whether its messages outlive a migration)
        queues = [(dead_letter_queue(), True)]
        for service_cls in service_classes:
            queues += [(rpc_queue(service_cls), False),
                       *((queue, True) for queue in handler_queues(service_cls))]
        for queue, lasting in queues:
            if _declare(conn, queue):
                declared.append(f"queue {queue.name}")
            elif migrate_classic:
                moved = _migrate(conn, queue, lasting)
                declared.append(f"queue {queue.name} (now quorum, {moved} messages moved)")
            else:
                raise ClassicQueueFound(
                    f"queue {queue.name} exists with other arguments (a classic queue, or "
                    "another delivery limit); stop the services and run "
                    "python -m common.topology --migrate-classic")
        channel.close()
    return declared


def _declare(conn, queue: Queue) -> bool:
    """Declare ``queue`` and its binding; False when it exists with other arguments (the
    broker then closes the channel: 406 PRECONDITION_FAILED)."""
    channel = conn.channel()
    try:
        queue(channel).declare()
    except amqp.exceptions.PreconditionFailed:
        return False
    channel.close()
    return True


def _migrate(conn, queue: Queue, lasting: bool) -> int:
    """Replace ``queue`` (classic, or quorum with other arguments) by a quorum queue of the
    same name, keeping its messages when they are ``lasting`` (events, dead letters). An RPC
    queue's requests are not kept: each expired with its caller's deadline while the services
    were stopped (and nameko would not know its method once moved).

    A bound quorum queue ``<name>.migrating`` takes what is published meanwhile and what the
    classic queue held; the classic queue is deleted and redeclared as quorum; the messages
    move back. A message published during the move may arrive twice: every consumer is
    idempotent (processed event ids, request keys)."""
    if not lasting:
        with conn.channel() as channel:
            channel.queue_delete(queue.name)
        with conn.channel() as channel:
            queue(channel).declare()
        log.warning("queue %s is now a quorum queue (its expired requests dropped)", queue.name)
        return 0
    holding = quorum(Queue(queue.name + MIGRATING_SUFFIX, exchange=queue.exchange,
                           routing_key=queue.routing_key))
    # A channel per step: a channel that read from the classic queue cannot use the quorum
    # queue that takes its name.
    with conn.channel() as channel:
        holding(channel).declare()
        moved = _move(channel, queue.name, holding.name)
        channel.queue_delete(queue.name)
    with conn.channel() as channel:
        queue(channel).declare()
        _move(channel, holding.name, queue.name)
        channel.queue_delete(holding.name)
    log.warning("queue %s is now a quorum queue (%d messages moved)", queue.name, moved)
    return moved


def _move(channel, source: str, target: str) -> int:
    """Move every message of ``source`` to ``target``: each is acknowledged only after the
    broker confirmed its copy."""
    moved = 0
    while (message := channel.basic_get(source, no_ack=False)) is not None:
        channel.basic_publish_confirm(amqp.Message(message.body, **message.properties),
                                      exchange="", routing_key=target,
                                      confirm_timeout=CONFIRM_TIMEOUT)
        channel.basic_ack(message.delivery_tag)
        moved += 1
    return moved


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*",
                        help="module:Class of each service; default: every registered one")
    parser.add_argument("--migrate-classic", action="store_true",
                        help="move queues declared classic by an earlier release to quorum "
                             "queues (services stopped)")
    args = parser.parse_args(argv)
    paths = args.services or components.service_classes().values()
    classes = [components.load_class(path) for path in paths]
    for line in declare(classes, migrate_classic=args.migrate_classic):
        print(f"declared {line}")


if __name__ == "__main__":
    main()
