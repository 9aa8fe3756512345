"""``/metrics`` in Prometheus text format: the gateway's requests (counts and durations per
route, summed over every gunicorn worker) and what each service reports of its own state
(``common.metrics``), labelled with the service's name."""
from __future__ import annotations

import os
import time

from flask import Flask, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from common import metrics

REQUESTS = Counter("crm_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"])
DURATION = Histogram("crm_http_request_duration_seconds", "Time to answer an HTTP request",
                     ["method", "route"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_clock():
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        # The route pattern, not the path: ids would make a series per record.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            DURATION.labels(request.method, route).observe(time.perf_counter() - started)
        return response


def gateway_exposition() -> str:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry).decode()


def services_exposition(reports: dict[str, list | None]) -> str:
    """``reports``: each service's metric families, or ``None`` when it did not answer."""
    up = metrics.family("crm_service_up", "gauge", "The service answered the metrics call",
                        [("", {"service": name}, families is not None)
                         for name, families in reports.items()])
    text = metrics.render([up])
    for name, families in reports.items():
        text += metrics.render(families or [], {"service": name})
    return text
