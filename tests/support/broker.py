"""A test's own consumer on the event exchanges, as another system would bind one."""
from __future__ import annotations

import time
import uuid

from kombu import Connection, Exchange, Queue


class EventTap:
    """A durable-for-the-test queue bound to ``<source>.events`` (or another topic
    ``exchange``, such as the dead-letter one) with ``routing_key``."""

    def __init__(self, amqp_uri: str, source: str | None, routing_key: str = "#",
                 exchange: str | None = None):
        self.connection = Connection(amqp_uri)
        self.queue = Queue(
            f"test-tap-{uuid.uuid4().hex[:8]}",
            exchange=Exchange(exchange or f"{source}.events", type="topic", durable=True),
            routing_key=routing_key,
            auto_delete=False,
            durable=True,
        )
        self.queue(self.connection.default_channel).declare()
        self.received: list = []

    def reconnect(self) -> None:
        """A new connection to the same (durable) queue, after a broker restart."""
        self.connection = Connection(self.connection.as_uri(include_password=True))

    def wait_for(self, predicate, timeout: float = 20.0):
        """Poll the queue until a message body satisfies ``predicate``; return it."""
        deadline = time.monotonic() + timeout
        bound = self.queue(self.connection.default_channel)
        while time.monotonic() < deadline:
            message = bound.get(no_ack=False)
            if message is None:
                time.sleep(0.05)
                continue
            body = message.decode()
            message.ack()
            self.received.append(body)
            if predicate(body):
                return body
        raise AssertionError(f"no matching event within {timeout}s; got {self.received!r}")

    def drain(self, quiet_for: float = 1.0) -> list:
        """Everything that arrives until nothing has come for ``quiet_for`` seconds."""
        bound = self.queue(self.connection.default_channel)
        bodies, last = [], time.monotonic()
        while time.monotonic() - last < quiet_for:
            message = bound.get(no_ack=False)
            if message is None:
                time.sleep(0.05)
                continue
            bodies.append(message.decode())
            message.ack()
            last = time.monotonic()
        self.received.extend(bodies)
        return bodies

    def close(self) -> None:
        self.queue(self.connection.default_channel).delete()
        self.connection.release()


def assert_valid_event(event: dict, events: dict) -> None:
    """``event`` has the envelope and its ``data`` the schema its publisher's ``EVENTS``
    catalogue names for its type."""
    from common.events import EnvelopeSchema

    assert EnvelopeSchema().validate(event) == {}, event
    schema, _ = events[event["type"]]
    assert schema().validate(event["data"]) == {}, event
