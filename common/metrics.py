"""Metrics a service reports to the gateway's ``/metrics`` (Prometheus text format).

A service answers its ``metrics`` RPC with metric families as plain data: state that lives in
its database (outbox backlog, parked events, reminder lateness), so any one instance answers
for all of them. The gateway adds a ``service`` label and renders them after its own.
"""
from __future__ import annotations


def family(name: str, kind: str, help_text: str, samples) -> dict:
    """``samples``: ``(suffix, labels, value)``, the suffix ``""``, ``_bucket``, ``_sum``..."""
    return {"name": name, "type": kind, "help": help_text,
            "samples": [[suffix, dict(labels), float(value)] for suffix, labels, value in samples]}


def histogram(name: str, help_text: str, bounds, cumulative_counts, total: float, count: int):
    """A histogram family from cumulative bucket counts (one per bound, then ``+Inf``)."""
    samples = [("_bucket", {"le": _number(bound)}, n) for bound, n in zip(bounds, cumulative_counts)]
    samples += [("_bucket", {"le": "+Inf"}, count), ("_sum", {}, total), ("_count", {}, count)]
    return family(name, "histogram", help_text, samples)


def _number(value: float) -> str:
    return repr(float(value))


def _labels(labels: dict) -> str:
    if not labels:
        return ""
    escaped = (
        f'{key}="{str(value).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in sorted(labels.items())
    )
    return "{" + ",".join(escaped) + "}"


def render(families, extra_labels: dict | None = None) -> str:
    lines = []
    for item in families:
        lines.append(f"# HELP {item['name']} {item['help']}")
        lines.append(f"# TYPE {item['name']} {item['type']}")
        for suffix, labels, value in item["samples"]:
            lines.append(f"{item['name']}{suffix}{_labels({**(extra_labels or {}), **labels})} "
                         f"{_number(value)}")
    return "\n".join(lines) + ("\n" if lines else "")
