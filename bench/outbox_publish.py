"""Outbox publishing benchmark: N committed events (a customer's ``customer.created`` each,
as an import writes them) published by the relay right after their commit
(``OutboxRelay.publish_ids``: rows read and locked, published, confirmed and marked, 200 at a
time), beside the floor in the same run: the same messages published on one confirming
channel with py-amqp, no database. Prints figures; asserts nothing.

    .venv/bin/python bench/outbox_publish.py [--events 10000] [--rounds 2]

It uses a PostgreSQL database of its own and a RabbitMQ vhost of its own (a queue bound to
the exchange takes every event, so each is routed), both removed at the end. Rounds
alternate relay and floor (A, B, A, B); each prints events/s, and the summary the median
ratio relay/floor.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
import warnings
from pathlib import Path

import amqp
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")

from common.db import make_session_factory  # noqa: E402
from common.events import envelope  # noqa: E402
from common.outbox import SWEEP_BATCH, OutboxRelay, outbox_rows  # noqa: E402
from services.customers.models import platform  # noqa: E402
from tests.support.stack import RABBIT_HOST, add_vhost, rabbitmqctl, scratch_database  # noqa: E402

EXCHANGE = "customers.events"


def customer(number: int) -> dict:
    """A created customer's snapshot, of the size an import's events carry."""
    return {"id": str(uuid.uuid4()), "name": f"上海测试贸易有限公司 {number}", "status": "active",
            "tier": "gold", "industry": "manufacturing", "source": "import",
            "country": "CN", "province": "上海", "city": "上海", "address": "浦东新区世纪大道 100 号",
            "website": "https://example.com", "tags": ["import", "vip"],
            "custom_fields": {"account": f"A{number:08d}"}, "owner_id": str(uuid.uuid4()),
            "team_id": str(uuid.uuid4()), "version": 1, "created_at": "2026-12-07T03:00:00+00:00",
            "updated_at": "2026-12-07T03:00:00+00:00", "deleted_at": None}


def events(count: int) -> list[dict]:
    return outbox_rows([(EXCHANGE, "customer.created", envelope(
        source="customers", event_type="customer.created", entity_id=uuid.uuid4(),
        entity_version=1, data=customer(number), actor=None)) for number in range(count)])


def by_relay(session_factory, amqp_uri: str, count: int) -> float:
    rows = events(count)
    with session_factory() as session:
        session.execute(sa.insert(platform.Outbox.__table__), rows)
        session.commit()
    relay = OutboxRelay(session_factory, platform.Outbox, amqp_uri)
    try:
        started = time.perf_counter()
        published = relay.publish_ids([row["id"] for row in rows])
        took = time.perf_counter() - started
    finally:
        relay.close()
    assert published == count, f"published {published} of {count}"
    return took


def by_floor(vhost: str, count: int) -> float:
    """The same messages, JSON text made beforehand, on one confirming channel: a wait for
    the confirms every ``SWEEP_BATCH``, as the relay waits."""
    bodies = [(str(row["id"]), json.dumps(row["payload"])) for row in events(count)]
    with amqp.Connection(RABBIT_HOST, userid="guest", password="guest",
                         virtual_host=vhost) as conn:
        channel = conn.channel()
        channel.confirm_select()
        acked = [0]
        channel.events["basic_ack"].add(lambda tag, multiple: acked.__setitem__(0, tag))
        started = time.perf_counter()
        for start in range(0, count, SWEEP_BATCH):
            for message_id, body in bodies[start:start + SWEEP_BATCH]:
                channel.basic_publish(
                    amqp.Message(body, content_type="application/json",
                                 content_encoding="utf-8", delivery_mode=2,
                                 message_id=message_id,
                                 application_headers={"crm-event-type": "customer.created"}),
                    exchange=EXCHANGE, routing_key="customer.created", mandatory=True)
            while acked[0] < min(start + SWEEP_BATCH, count):
                conn.drain_events(timeout=10)
        return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    vhost = f"crmt_bench_outbox_{uuid.uuid4().hex[:8]}"
    add_vhost(vhost)
    rates = {"relay": [], "floor": []}
    try:
        with amqp.Connection(RABBIT_HOST, userid="guest", password="guest",
                             virtual_host=vhost) as conn:
            channel = conn.channel()
            channel.exchange_declare(EXCHANGE, "topic", durable=True, auto_delete=False)
            channel.queue_declare("bench-takes-all", durable=True, auto_delete=False,
                                  arguments={"x-max-length": 1})  # routed, not kept
            channel.queue_bind("bench-takes-all", EXCHANGE, "#")
        relay_uri = f"amqp://guest:guest@{RABBIT_HOST}/{vhost}"
        with scratch_database("outbox") as engine:
            platform.Outbox.__table__.create(engine)
            session_factory = make_session_factory(engine)
            for _ in range(args.rounds):
                for side in ("relay", "floor"):
                    took = (by_relay(session_factory, relay_uri, args.events) if side == "relay"
                            else by_floor(vhost, args.events))
                    rates[side].append(args.events / took)
                    print(f"{side:6} {args.events} events in {took:6.2f} s: "
                          f"{rates[side][-1]:8.1f} events/s", flush=True)
    finally:
        rabbitmqctl("delete_vhost", vhost)
    ratios = [relay / floor for relay, floor in zip(rates["relay"], rates["floor"])]
    print(f"summary: relay {statistics.median(rates['relay']):.1f} events/s, floor "
          f"{statistics.median(rates['floor']):.1f} events/s; median ratio relay/floor "
          f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
