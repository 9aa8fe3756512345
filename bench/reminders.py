"""Reminder lateness benchmark: schedule N reminders due at the same instant (default 10,000)
for the notifications scheduler running as several instances on one PostgreSQL database, and
print the lateness (sent_at - due_at) percentiles and the sending throughput. Prints figures;
asserts nothing.

    .venv/bin/python bench/reminders.py [--count 10000] [--instances 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.db import utcnow  # noqa: E402
from services.notifications.models import Reminder, platform  # noqa: E402
from tests.support.notifications import SchedulerFleet  # noqa: E402
from tests.support.stack import wait_until  # noqa: E402


EVENTS = ("reminder.sent", "notification.created")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--lead", type=float, default=3.0, help="seconds until they are due")
    parser.add_argument("--timeline", action="store_true",
                        help="print each batch: when it was sent, by which instance, its size")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        fleet = SchedulerFleet(Path(workdir), instances=args.instances)
        try:
            fleet.start()
            due = utcnow() + dt.timedelta(seconds=args.lead)
            fleet.schedule(args.count, due)
            print(f"{args.count} reminders due at {due.isoformat()}, {args.instances} instance(s)")
            sent = sa.select(sa.func.count()).select_from(Reminder).where(Reminder.status == "sent")
            wait_until(lambda: fleet.query(sent)[0][0] == args.count, timeout=600, interval=0.5)
            rows = fleet.query(sa.select(Reminder.lateness_ms, Reminder.sent_at, Reminder.sent_by))
            # Their events trail the inbox: counted once each, and when the last went out.
            announced = (sa.select(sa.func.count(), sa.func.max(platform.Outbox.published_at))
                         .where(platform.Outbox.routing_key.in_(EVENTS),
                                platform.Outbox.published_at.is_not(None)))
            wait_until(lambda: fleet.query(announced)[0][0] >= len(EVENTS) * args.count,
                       timeout=600, interval=0.5)
            events, last_published = fleet.query(announced)[0]
        finally:
            fleet.stop()
    lateness = [row.lateness_ms for row in rows]
    first, last = min(row.sent_at for row in rows), max(row.sent_at for row in rows)
    span = max((last - first).total_seconds(), 1e-3)
    per_instance = {}
    for row in rows:
        per_instance[row.sent_by] = per_instance.get(row.sent_by, 0) + 1
    print(f"lateness ms: p50 {percentile(lateness, 0.50)}  p99 {percentile(lateness, 0.99)}  "
          f"max {max(lateness)}  mean {statistics.mean(lateness):.0f}")
    print(f"throughput: {len(rows) / span:.0f} reminders/s ({len(rows)} in {span:.2f} s)")
    print(f"per instance: {sorted(per_instance.values())}")
    print(f"events ({', '.join(EVENTS)}): {events} published, the last "
          f"{(last_published - due).total_seconds():.1f} s after due")
    if args.timeline:
        batches = {}
        for row in rows:
            batches.setdefault((row.sent_at, row.sent_by), []).append(row.lateness_ms)
        names = {name: number for number, name in enumerate(sorted(per_instance))}
        print("batches (sent at, ms after due; instance; size):")
        for (sent_at, sent_by), members in sorted(batches.items()):
            print(f"  {min(members):6d}  {names[sent_by]}  {len(members)}")


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"(run took {time.monotonic() - started:.0f} s)")
