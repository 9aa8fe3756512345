"""A read by id through the CRM beside its floor and nameko's example app, alternately in one
run. Prints figures; asserts nothing.

    .venv/bin/python bench/read_floor.py                       # PostgreSQL, 50 connections
    .venv/bin/python bench/read_floor.py --backend sqlite --connections 50 100 --rounds 3
    .venv/bin/python bench/read_floor.py --list                # and a page of the list

It starts its own stack (as the tests do) and, beside it, the floor (``bench/floor_app.py``: a
bare Flask + SQLAlchemy app on gunicorn with the gateway's workers and threads, reading the
customers service's own table) and nameko's example shape (``bench/nameko_example.py``: a
nameko HTTP gateway calling a products service on Redis by RPC, no auth; --redis). Then for
each --connections, --rounds times: ``GET /api/v1/customers/{id}`` through the gateway
(signed in as sam, one of 200 customers at random) for --seconds, then the same on the
floor, then ``GET /products/{id}`` on the nameko example (A, B, C, A, B, C ...); with --list,
then a page of ``GET /api/v1/customers`` and the floor's same page (count, page, tags). The load
comes from --processes processes of keep-alive connections on this machine. Each run prints
req/s, p50/p95/p99 latency and the CPU a request cost each part of the stack and the load
(``bench/cpu_use.py``); the summary, each side's median and the median ratios
CRM/floor (target 0.35) and CRM/nameko example (target 1.2).
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu_use, nameko_example  # noqa: E402
from bench.api_load import latencies_text  # noqa: E402
from tests.support.stack import BIN, ROOT, Stack, free_port, wait_until  # noqa: E402

PER_PAGE = 20  # the list's page in --list (200 customers: 10 pages)


def _load(collection_url: str, headers: dict, suffixes: list[str], connections: int,
          seconds: float, out) -> None:
    """One process: ``connections`` threads, each a keep-alive session reading for ``seconds``
    ``collection_url`` followed by one of ``suffixes`` at random (``/<id>``, ``?page=<n>``)."""
    stop_at = time.monotonic() + seconds
    latencies, errors, lock = [], collections.Counter(), threading.Lock()

    def worker():
        session, local, failed = requests.Session(), [], collections.Counter()
        session.headers.update(headers)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                response = session.get(collection_url + random.choice(suffixes), timeout=60)
                if response.status_code >= 400:
                    failed[str(response.status_code)] += 1
            except requests.RequestException as exc:
                failed[type(exc).__name__] += 1
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)
            errors.update(failed)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, errors))


def measure(label: str, collection_url: str, headers: dict, suffixes: list[str],
            connections: int, seconds: float, processes: int) -> float:
    queue = multiprocessing.Queue()
    meter = cpu_use.Meter()
    shares = [connections // processes + (index < connections % processes)
              for index in range(processes)]
    started = time.monotonic()
    workers = [multiprocessing.Process(target=_load, args=(collection_url, headers, suffixes,
                                                           share, seconds, queue))
               for share in shares if share]
    for worker in workers:
        worker.start()
    latencies, errors = [], collections.Counter()
    for _ in workers:
        part, failed = queue.get()
        latencies += part
        errors.update(failed)
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    rate = len(latencies) / elapsed
    print(f"{label:<8} connections={connections:<5} {rate:8.1f} req/s  "
          f"{latencies_text(latencies)}  errors={sum(errors.values())}"
          + (f" ({', '.join(f'{kind}: {count}' for kind, count in errors.most_common())})"
             if errors else ""), flush=True)
    print(f"{'':<8} {meter.per_unit(len(latencies))}", flush=True)
    return rate


def start_floor(database_url: str, workdir: Path, threads: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--worker-class", "gthread", "--workers",
         os.environ.get("GUNICORN_WORKERS", "2"), "--threads", threads, "--bind",
         f"127.0.0.1:{port}", "bench.floor_app:create_app()"],
        cwd=ROOT, env=env, stdout=open(workdir / "floor.log", "ab"), stderr=subprocess.STDOUT,
        start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def start_nameko_example(amqp_uri: str, redis_uri: str, prefix: str, workdir: Path,
                         started: list[subprocess.Popen]) -> str:
    """nameko's example shape, each service in its own process as the example deploys them
    (appended to ``started`` as each starts, so a failure stops those already running)."""
    port = free_port()
    settings = workdir / "nameko_example.yml"
    settings.write_text(json.dumps({  # JSON is YAML
        "AMQP_URI": amqp_uri, "REDIS_URI": redis_uri, "PRODUCTS_PREFIX": prefix,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}))
    for service in ("ExampleProducts", "ExampleGateway"):
        started.append(subprocess.Popen(
            [str(BIN / "nameko"), "run", "--config", str(settings),
             f"bench.nameko_example:{service}"],
            cwd=ROOT, stdout=open(workdir / f"{service}.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True))
    return f"http://127.0.0.1:{port}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--connections", type=int, nargs="+", default=[50])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--list", action="store_true",
                        help="also a page of the customers list (20 of them, one of the 10 "
                             "pages at random) through the CRM and on the floor")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                        help="the nameko example's Redis (its keys are removed after)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-floor-"))
    stack = Stack(workdir, backend=args.backend)
    helpers: list[subprocess.Popen] = []
    prefix = f"bench_products_{workdir.name}:"
    try:
        stack.start()
        sam = stack.login("sam")
        ids = [sam.post("/customers", json={
            "name": f"Floor {number}", "allow_duplicate": True, "city": "杭州",
            "tags": ["bench"], "custom_fields": {"erp": f"{number:05d}"}}).json()["id"]
            for number in range(200)]
        headers = {"Authorization": sam.headers["Authorization"]}
        floor, floor_url = start_floor(stack.database_url("customers"), workdir,
                                       stack.env.get("GUNICORN_THREADS", "8"))
        helpers.append(floor)
        nameko_example.seed(args.redis, prefix, ids)
        example_url = start_nameko_example(stack.amqp_uri, args.redis, prefix, workdir, helpers)
        by_id = [f"/{customer_id}" for customer_id in ids]
        pages = [f"?page={number}&per_page={PER_PAGE}" for number in range(1, 11)]
        sides = {"crm": (f"{stack.base_url}/api/v1/customers", headers, by_id),
                 "floor": (f"{floor_url}/customers", {}, by_id),
                 "nameko": (f"{example_url}/products", {}, by_id)}
        if args.list:
            sides["crm-list"] = (f"{stack.base_url}/api/v1/customers", headers, pages)
            sides["floor-list"] = (f"{floor_url}/customers", {}, pages)
        for collection_url, _, suffixes in sides.values():
            wait_until(lambda: requests.get(collection_url + suffixes[0], headers=headers,
                                            timeout=5).ok,
                       timeout=60, message=f"{collection_url} answers")
        print(f"{args.backend}, {os.cpu_count()} CPUs, {args.processes} load processes, "
              f"{args.seconds:.0f} s a run", flush=True)
        for connections in args.connections:
            rates = {side: [] for side in sides}
            for _ in range(args.rounds):
                for side, (collection_url, side_headers, suffixes) in sides.items():
                    rates[side].append(measure(side, collection_url, side_headers, suffixes,
                                               connections, args.seconds, args.processes))
            medians = {side: statistics.median(found) for side, found in rates.items()}

            def ratio(a: str, b: str) -> float:
                return statistics.median(x / y for x, y in zip(rates[a], rates[b]))

            print(f"summary  connections={connections:<5} "
                  + ", ".join(f"{side} {rate:.1f} req/s" for side, rate in medians.items())
                  + f"; median ratios crm/floor {ratio('crm', 'floor'):.2f}x (target 0.35), "
                  f"crm/nameko {ratio('crm', 'nameko'):.2f}x (target 1.2), "
                  f"nameko/floor {ratio('nameko', 'floor'):.2f}x"
                  + (f"; list: crm/floor {ratio('crm-list', 'floor-list'):.2f}x (target 0.35)"
                     if args.list else ""), flush=True)
    finally:
        try:
            for helper in helpers:
                helper.terminate()
            for helper in helpers:
                try:
                    helper.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    helper.kill()
            nameko_example.forget(args.redis, prefix)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
