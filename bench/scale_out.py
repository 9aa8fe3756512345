"""Scale-out of the busiest service: ``GET /customers/{id}`` with one customers instance,
then two, alternately (A, B, A, B), printing req/s, latency, how the work split between the
instances and where every CPU second of the machine went. Prints figures; asserts nothing.

    .venv/bin/python bench/scale_out.py                   # PostgreSQL, 50 connections
    .venv/bin/python bench/scale_out.py --rounds 3 --seconds 15

It starts its own stack (as the tests do), signs in as sam and reads 200 of his customers at
random from --connections keep-alive connections. Between runs the second instance is
started or stopped (``customers-2``: the same command, the same queue). The split is each
instance's CPU seconds during the run (/proc), which is the work it did: both serve one
queue. The CPU table names the share of each part of the stack (the gateway's processes,
each customers instance, PostgreSQL, RabbitMQ, the load generator), which says what another
core would buy: more only if the cores are all busy and the service is the one waiting.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu_use  # noqa: E402
from bench.read_floor import measure  # noqa: E402
from tests.support.stack import Stack, wait_until  # noqa: E402

class CpuMeter:
    """CPU seconds per part of the stack over a ``with`` block (``cpu_use.Meter``), the second
    customers instance apart from the first."""

    def __init__(self, stack: Stack):
        self.stack = stack

    def _part(self, pid: int, command_line: str) -> str | None:
        second = self.stack.processes.get("customers-2")
        if second is not None and pid == second.pid:
            return "customers-2"
        return cpu_use.part_of(command_line)

    def __enter__(self):
        self.meter = cpu_use.Meter(self._part)
        return self

    def __exit__(self, *exc):
        self.used = self.meter.used()
        self.elapsed = time.monotonic() - self.meter.started

    def report(self) -> str:
        total = os.cpu_count() * self.elapsed
        parts = "  ".join(f"{name} {seconds / self.elapsed:4.2f}" for name, seconds
                          in sorted(self.used.items(), key=lambda item: -item[1]))
        idle = max(total - sum(self.used.values()), 0.0) / self.elapsed
        return f"    cores busy: {parts}  (other or idle {idle:4.2f} of {os.cpu_count()})"


def consumers(stack: Stack, queue: str) -> int:
    """The consumers of ``queue`` in the stack's vhost, as the broker counts them."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "name",
                             "consumers"], capture_output=True, text=True, timeout=60).stdout
    return next((int(line.split()[1]) for line in listed.splitlines()
                 if line.split()[:1] == [queue]), 0)


def split(meter: CpuMeter) -> str:
    shares = {name: meter.used[name] for name in ("customers", "customers-2") if name in meter.used}
    if len(shares) < 2:
        return ""
    total = sum(shares.values()) or 1.0
    return "    split: " + ", ".join(f"{name} {100 * seconds / total:.0f} %"
                                     for name, seconds in shares.items())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)

    stack = Stack(Path(tempfile.mkdtemp(prefix="crm-bench-scale-")))
    try:
        stack.start()
        sam = stack.login("sam")
        ids = [sam.post("/customers", json={"name": f"Scale {number}", "allow_duplicate": True,
                                            "city": "杭州"}).json()["id"]
               for number in range(200)]
        headers = {"Authorization": sam.headers["Authorization"]}
        url = f"{stack.base_url}/api/v1"
        print(f"{os.cpu_count()} CPUs, {args.connections} connections, {args.seconds:.0f} s a "
              f"run, PostgreSQL", flush=True)
        rates = {1: [], 2: []}
        for _ in range(args.rounds):
            for instances in (1, 2):
                if instances == 2:
                    stack.start_service("customers", instance="customers-2")
                    wait_until(lambda: consumers(stack, "rpc-customers") == 2, timeout=60,
                               interval=0.5, message="the second instance consumes")
                with CpuMeter(stack) as meter:
                    rate = measure(f"{instances} inst.", f"{url}/customers", headers,
                                   [f"/{customer_id}" for customer_id in ids],
                                   args.connections, args.seconds, args.processes)
                rates[instances].append(rate)
                print(meter.report())
                if instances == 2:
                    print(split(meter), flush=True)
                    stack.kill("customers-2", sig=15)
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        print(f"summary  one instance {one:.1f} req/s, two {two:.1f} req/s: x{two / one:.2f}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
