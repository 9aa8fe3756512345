"""Load benchmark of the customers API through the gateway. Prints figures; asserts nothing.

    .venv/bin/python bench/api_load.py                    # starts its own stack (PostgreSQL)
    .venv/bin/python bench/api_load.py --url http://127.0.0.1:8000 --user sam --password ...

Each of --users concurrent clients (threads, keep-alive) runs a mix of 70 % list, 20 % read,
10 % create for --seconds. A baseline of GET /healthz runs first in the same process, so the
ratio separates the cost of the API path (auth, RPC, database) from the HTTP stack's.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import Client, Stack  # noqa: E402


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


def latencies_text(samples) -> str:
    """p50, p95 and p99 of ``samples`` (seconds), in milliseconds, as every bench prints them."""
    return "  ".join(f"p{p}={percentile(samples, p):7.1f}ms" for p in (50, 95, 99))


def run(label, users, seconds, action):
    latencies, errors, lock = [], [0], threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index):
        session = action.session_factory()
        local = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            ok = action(session, index)
            local.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(users)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    throughput = len(latencies) / elapsed
    print(f"{label:<28} users={users:<5} requests={len(latencies):<7} errors={errors[0]:<5} "
          f"throughput={throughput:8.1f}/s  {latencies_text(latencies)}  "
          f"mean={statistics.mean(latencies) * 1000:7.1f}ms")
    return throughput, percentile(latencies, 50)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--user", default="sam")
    parser.add_argument("--password", default="demo-password-1")
    parser.add_argument("--users", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()

    stack = None
    if args.url:
        base_url = args.url
    else:
        stack = Stack(Path(tempfile.mkdtemp(prefix="crm-bench-"))).start()
        base_url = stack.base_url
    try:
        token = requests.post(f"{base_url}/api/v1/auth/login", timeout=10,
                              json={"username": args.user, "password": args.password}).json()["access_token"]
        seed = Client(base_url, token)
        ids = [seed.post("/customers", json={"name": f"Bench {i}", "allow_duplicate": True,
                                             "city": random.choice(["Shanghai", "Beijing",
                                                                    "Hangzhou"])}).json()["id"]
               for i in range(50)]  # allowed: a second run against the same deployment

        def healthz(session, _):
            return session.get(f"{base_url}/healthz", timeout=30).ok

        def api_mix(session, index):
            roll = random.random()
            if roll < 0.7:
                response = session.get("/customers", params={"city": "Shanghai", "per_page": 20})
            elif roll < 0.9:
                response = session.get(f"/customers/{random.choice(ids)}")
            else:
                response = session.post("/customers", json={"name": f"Load {index} {time.time()}"})
            return response.ok

        healthz.session_factory = requests.Session
        api_mix.session_factory = lambda: Client(base_url, token)
        for users in args.users:
            base_tp, base_p50 = run("baseline GET /healthz", users, args.seconds, healthz)
            api_tp, api_p50 = run("customers API mix", users, args.seconds, api_mix)
            print(f"{'ratio API/baseline':<28} users={users:<5} throughput x{api_tp / base_tp:.2f}, "
                  f"p50 x{api_p50 / base_p50:.2f}")
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
