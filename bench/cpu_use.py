"""The CPU each part of the stack spent on a benchmark's requests, read from ``/proc``.

Throughput on a shared machine moves by a fifth from run to run; the CPU a request costs
each process moves much less, and says which part a change made cheaper or dearer. A
``Meter`` reads every process's user + system time when made and again when asked, sums it
by part (the gateway, each service, PostgreSQL, RabbitMQ, the floor, nameko's example,
Redis), adds the benchmark's own load processes (children it has waited for), and divides
by the requests served. PostgreSQL and RabbitMQ are counted whole: on a shared server their
figures include whoever else uses it; so is every part, idle ones too (the CRM's timers
while the floor is measured: about 0.03 ms a request). Linux only, and only the processes of
this machine; elsewhere a meter reports nothing.
"""
from __future__ import annotations

import collections
import os
import time

try:
    import resource
except ImportError:  # Windows
    resource = None

from common.components import services

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def part_of(command_line: str) -> str | None:
    """The part of the stack a process with ``command_line`` is, ``None`` if none."""
    if "beam.smp" in command_line:
        return "rabbitmq"
    if command_line.startswith("postgres") or "/postgres " in command_line:
        return "postgresql"
    if "redis-server" in command_line:
        return "redis"
    if "gateway.app:create_app" in command_line:
        return "gateway"
    if "bench.floor_app" in command_line:
        return "floor"
    if "bench.nameko_example" in command_line:
        return "nameko example"
    for service in services():
        if f"{service.package}." in command_line:
            return service.name
    return None


def cpu_by_part(classify=None) -> collections.Counter:
    """Seconds of CPU each part's live processes have used so far, with that of their
    children gone (a PostgreSQL backend closed, a gunicorn worker replaced): counted in the
    parent they were waited for by, the CPU of a process that ends during a measure stays in
    its part. ``classify(pid, command_line)``: a process's part, when :func:`part_of` of its
    command line is not the one wanted (two instances of a service told apart)."""
    used = collections.Counter()
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return used
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command_line = file.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        part = classify(int(pid), command_line) if classify else part_of(command_line)
        if part is not None:
            # utime, stime, and cutime, cstime: the children's it has waited for
            used[part] += sum(int(value) for value in fields[11:15]) / _CLOCK_TICKS
    return used


def _load_cpu() -> float:
    """CPU of this process and of its children waited for (the load processes)."""
    if resource is None:
        return 0.0
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Meter:
    """CPU used from now on, per part, per unit of work served; ``classify``: see
    :func:`cpu_by_part`."""

    def __init__(self, classify=None):
        self._classify = classify
        self._parts = cpu_by_part(classify)
        self._load = _load_cpu()
        self.started = time.monotonic()

    def used(self) -> dict[str, float]:
        """Seconds of CPU per part since the meter was made (``load``: the benchmark's own
        processes), each part's processes counted while they live."""
        now = cpu_by_part(self._classify)
        used = {part: now[part] - self._parts.get(part, 0.0) for part in now}
        used["load"] = _load_cpu() - self._load
        return {part: seconds for part, seconds in used.items() if seconds > 0}

    def per_unit(self, units: int, unit: str = "request", used: dict | None = None) -> str:
        """``CPU a request, ms: customers 1.25, gateway 1.56, ...; stack 4.03, load 0.85``,
        the parts most costly first (empty off Linux, or when nothing was served); ``used``:
        what :meth:`used` answered, if it was asked already."""
        used = self.used() if used is None else used
        stack = {part: seconds for part, seconds in used.items() if part != "load"}
        if not units or not stack:  # not Linux, or a stack elsewhere
            return ""
        parts = ", ".join(f"{part} {1000 * seconds / units:.2f}"
                          for part, seconds in sorted(stack.items(), key=lambda kv: -kv[1])
                          if 1000 * seconds / units >= 0.01)
        return (f"CPU a {unit}, ms: {parts}; stack {1000 * sum(stack.values()) / units:.2f}, "
                f"load {1000 * used.get('load', 0.0) / units:.2f}")
