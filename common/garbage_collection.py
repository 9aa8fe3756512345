"""The cyclic garbage collector's thresholds for the services' processes.

CPython's defaults (700, 10, 10) start a young collection every 700 new container objects.
An import batch keeps thousands of objects alive for a few milliseconds (its rows, checks,
snapshots and events), so each young collection promoted many of them, and the oldest
generation, with every module, schema and mapper of the service in it, was walked again and
again: measured in-process on PostgreSQL, 12 full collections of 90-180 ms each in a
20,000-row import, 14 % of its time. With these thresholds a young collection comes every
50,000 objects, by when a batch's objects are gone, and the import made 3 young collections
and no full one. Garbage in cycles waits longer to be freed: at most about 50,000 objects,
a few megabytes.
"""
from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune() -> None:
    """Set the thresholds (idempotent: every container of a process may call it)."""
    gc.set_threshold(*THRESHOLDS)
