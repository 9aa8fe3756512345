"""The cyclic garbage collector's thresholds for the services' processes.

CPython's defaults (700, 10, 10) start a young collection every 700 new container objects.
An import batch keeps thousands of objects alive for a few milliseconds (its rows, checks,
snapshots and events), so each young collection promoted many of them, and the oldest
generation, with every module, schema and mapper of the service in it, was walked again and
again: measured in-process on PostgreSQL, 12 full collections of 90-180 ms each in a
20,000-row import, 14 % of its time. With a young collection every 50,000 objects, by when a
batch's objects are gone, a 30,000-row import made 4 young collections, 1 of the middle
generation and no full one. The older generations keep CPython's cadence (every 10 of the
younger). Garbage in cycles waits longer to be freed: up to about 50,000 objects for a cycle
dropped before a young collection; a cycle still alive at one (promoted) waits for the middle
generation's next collection, every 500,000 objects.
"""
from __future__ import annotations

import gc

THRESHOLDS = (50_000, 10, 10)


def tune() -> None:
    """Set the thresholds (idempotent: every container of a process may call it)."""
    gc.set_threshold(*THRESHOLDS)
