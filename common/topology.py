"""Declare the broker topology before any service starts.

nameko declares a handler's queue only when the handler first starts, and an event published
before that is confirmed by the broker and silently discarded. Declaring every exchange, every
handler queue and its binding ahead of time makes such an event wait in its queue instead.

    python -m common.topology                                   # every registered service
    python -m common.topology services.customers.service:CustomersService ...  # just these

An exchange is declared for each component that publishes events (``common.components``).
"""
from __future__ import annotations

import argparse
import inspect
import logging

from kombu import Connection, Exchange, Queue

from common import components, config
from common.events import exchange_name
from common.service import DEAD_LETTER_EXCHANGE

log = logging.getLogger(__name__)

DEAD_LETTER_QUEUE = "crm.dead-letter"


def handler_queues(service_cls) -> list[Queue]:
    """The queues nameko's ``event_handler`` would declare for ``service_cls``, identically."""
    queues = []
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        subscription = getattr(method, "crm_subscription", None)
        if subscription is None:
            continue
        source, event_type = subscription
        queues.append(
            Queue(
                f"evt-{source}-{event_type}--{service_cls.name}.{method_name}",
                exchange=Exchange(exchange_name(source), type="topic", durable=True),
                routing_key=event_type,
                durable=True,
                auto_delete=False,
            )
        )
    return queues


def declare(service_classes, amqp_uri: str | None = None) -> list[str]:
    """Declare exchanges, the dead-letter queue and every handler queue. Idempotent."""
    declared = []
    with Connection(amqp_uri or config.amqp_uri(), connect_timeout=5) as conn:
        channel = conn.channel()
        for source in components.event_sources():
            Exchange(exchange_name(source), type="topic", durable=True)(channel).declare()
            declared.append(f"exchange {exchange_name(source)}")
        dlx = Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)
        dlx(channel).declare()
        Queue(DEAD_LETTER_QUEUE, exchange=dlx, routing_key="#", durable=True)(channel).declare()
        declared.append(f"exchange {DEAD_LETTER_EXCHANGE} -> queue {DEAD_LETTER_QUEUE}")
        for service_cls in service_classes:
            for queue in handler_queues(service_cls):
                queue(channel).declare()
                declared.append(f"queue {queue.name}")
        channel.close()
    return declared


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*",
                        help="module:Class of each service; default: every registered one")
    args = parser.parse_args(argv)
    paths = args.services or components.service_classes().values()
    for line in declare([components.load_class(path) for path in paths]):
        print(f"declared {line}")


if __name__ == "__main__":
    main()
