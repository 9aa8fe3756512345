"""A read by id through the CRM beside its floor, alternately in one run. Prints figures;
asserts nothing.

    .venv/bin/python bench/read_floor.py                       # PostgreSQL, 50 connections
    .venv/bin/python bench/read_floor.py --backend sqlite --connections 50 100 --rounds 3

It starts its own stack (as the tests do) and, beside it, the floor (``bench/floor_app.py``: a
bare Flask + SQLAlchemy app on gunicorn with the gateway's workers and threads, reading the
customers service's own table). Then for each --connections, --rounds times: ``GET
/api/v1/customers/{id}`` through the gateway (signed in as sam, one of 200 customers at
random) for --seconds, then the same on the floor (A, B, A, B ...). The load comes from
--processes processes of keep-alive connections on this machine. Each run prints req/s and
p50/p95/p99 latency; the summary, each side's median and the median ratio CRM/floor.
"""
from __future__ import annotations

import argparse
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

from bench.api_load import latencies_text  # noqa: E402
from tests.support.stack import BIN, ROOT, Stack, free_port, wait_until  # noqa: E402


def _load(base_url: str, headers: dict, ids: list[str], connections: int, seconds: float,
          out) -> None:
    """One process: ``connections`` threads, each a keep-alive session reading for ``seconds``."""
    stop_at = time.monotonic() + seconds
    latencies, errors, lock = [], [0], threading.Lock()

    def worker():
        session, local, failed = requests.Session(), [], 0
        session.headers.update(headers)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                ok = session.get(f"{base_url}/customers/{random.choice(ids)}", timeout=60).ok
            except requests.RequestException:
                ok = False
            local.append(time.perf_counter() - started)
            failed += not ok
        with lock:
            latencies.extend(local)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, errors[0]))


def measure(label: str, base_url: str, headers: dict, ids: list[str], connections: int,
            seconds: float, processes: int) -> float:
    queue = multiprocessing.Queue()
    shares = [connections // processes + (index < connections % processes)
              for index in range(processes)]
    started = time.monotonic()
    workers = [multiprocessing.Process(target=_load, args=(base_url, headers, ids, share,
                                                           seconds, queue))
               for share in shares if share]
    for worker in workers:
        worker.start()
    latencies, errors = [], 0
    for _ in workers:
        part, failed = queue.get()
        latencies += part
        errors += failed
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    rate = len(latencies) / elapsed
    print(f"{label:<8} connections={connections:<5} {rate:8.1f} req/s  "
          f"{latencies_text(latencies)}  errors={errors}", flush=True)
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--connections", type=int, nargs="+", default=[50])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-floor-"))
    stack = Stack(workdir, backend=args.backend)
    floor = None
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
        wait_until(lambda: requests.get(f"{floor_url}/customers/{ids[0]}", timeout=5).ok,
                   timeout=60, message="the floor answers")
        print(f"{args.backend}, {os.cpu_count()} CPUs, {args.processes} load processes, "
              f"{args.seconds:.0f} s a run", flush=True)
        for connections in args.connections:
            crm, bare = [], []
            for _ in range(args.rounds):
                crm.append(measure("crm", f"{stack.base_url}/api/v1", headers, ids,
                                   connections, args.seconds, args.processes))
                bare.append(measure("floor", floor_url, {}, ids, connections, args.seconds,
                                    args.processes))
            ratios = [a / b for a, b in zip(crm, bare)]
            print(f"summary  connections={connections:<5} crm {statistics.median(crm):.1f} "
                  f"req/s, floor {statistics.median(bare):.1f} req/s, median ratio "
                  f"{statistics.median(ratios):.2f}x", flush=True)
    finally:
        if floor is not None:
            floor.terminate()
            floor.wait(timeout=30)
        stack.stop()


if __name__ == "__main__":
    main()
