"""A sales team's day through the gateway: many users, each pausing 1-3 s between steps, as
an acceptance load test runs it. Prints p50/p95/p99 and errors per operation; asserts
nothing.

    .venv/bin/python bench/realistic_mix.py                       # 100 then 1,000 users
    .venv/bin/python bench/realistic_mix.py --users 100 --seconds 60
    .venv/bin/python bench/realistic_mix.py --url http://127.0.0.1:8000 --password ...

Without --url it starts its own stack on PostgreSQL (as the tests do) and stops it after.
Each user is a thread with its own keep-alive connection, signed in as one of the demo
users (sam and sara, reps; maria, a manager; alex, an analyst: their tokens are shared, as
many people of one role would be), working on customers that person may see (50 made by
each writer before the run; the analyst reads them all); the threads are spread over
--processes load processes and start over --ramp seconds. A step is one of:

    list     GET /customers?per_page=20 (a page, newest first)         30 %
    search   GET /customers?q=<a name part>                             15 %
    read     GET /customers/{id}                                        25 %
    create   POST /customers                                             8 %
    update   PATCH /customers/{id} (read first for its version)          7 %
    follow   POST /customers/{id}/activities (a call, next follow-up)   10 %
    report   GET /reports/funnel or /reports/leaderboard                 5 %

After each phase it prints the CPU a step cost each part of the stack and the load
(``bench/cpu_use.py``; with --url, only the processes of this machine), and the steps a
second this machine's cores could serve at that cost.

Targets of issue 11: p95 <= 150 ms per operation at 100 users, <= 500 ms at 1,000, no error.
An analyst only reads: alex's steps that write are reads instead.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu_use  # noqa: E402
from common import config  # noqa: E402
from bench.api_load import latencies_text, percentile  # noqa: E402
from tests.support.stack import DEMO_PASSWORD, Client, Stack  # noqa: E402

STEPS = [("list", 30), ("search", 15), ("read", 25), ("create", 8), ("update", 7),
         ("follow", 10), ("report", 5)]
WRITES = {"create", "update", "follow"}
PEOPLE = ("sam", "sara", "maria", "alex")
TARGET_P95_MS = {100: 150, 1000: 500}


def step(client: Client, name: str, ids: list[str], rng: random.Random) -> bool:
    """One step of ``name``; answers whether every request of it succeeded."""
    if name == "list":
        return client.get("/customers", params={"per_page": 20}).ok
    if name == "search":
        return client.get("/customers", params={"q": rng.choice(["Mix", "有限", "Acme"])}).ok
    if name == "read":
        return client.get(f"/customers/{rng.choice(ids)}").ok
    if name == "create":
        response = client.post("/customers", json={
            "name": f"Mix {uuid.uuid4().hex[:10]} 有限公司", "city": rng.choice(["杭州", "Berlin"]),
            "allow_duplicate": True})
        if response.ok:
            ids.append(response.json()["id"])
        return response.ok
    if name == "update":
        read = client.get(f"/customers/{rng.choice(ids)}")
        if not read.ok:
            return False
        customer = read.json()
        response = client.patch(f"/customers/{customer['id']}", json={
            "version": customer["version"], "tier": rng.choice(["A", "B", "C"])})
        return response.ok or response.status_code == 409  # a colleague was quicker
    if name == "follow":
        due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=rng.randint(1, 7))
        return client.post(f"/customers/{rng.choice(ids)}/activities", json={
            "type": "call", "content": "Called about the offer",
            "next_follow_up_at": due.isoformat()}).ok
    return client.get(f"/reports/{rng.choice(['funnel', 'leaderboard'])}").ok


def _user(base_url: str, token: str, can_write: bool, ids: list[str], stop_at: float,
          start_in: float, seed: int, samples: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    client = Client(base_url, token)
    names, weights = zip(*STEPS)
    local = []
    time.sleep(start_in)  # the ramp
    while time.monotonic() < stop_at:
        name = rng.choices(names, weights)[0]
        if name in WRITES and not can_write:
            name = "read"
        started = time.perf_counter()
        try:
            ok = step(client, name, ids, rng)
        except requests.RequestException:
            ok = False
        local.append((name, time.perf_counter() - started, ok))
        time.sleep(rng.uniform(1.0, 3.0))  # the user reads, thinks, types
    with lock:
        samples.extend(local)


def _load(base_url: str, tokens: dict, ids: dict, users: range, seconds: float, ramp: float,
          out) -> None:
    """One load process: a thread per user of ``users`` (their numbers)."""
    samples, lock = [], threading.Lock()
    stop_at = time.monotonic() + ramp + seconds
    threads = []
    for number in users:
        person = PEOPLE[number % len(PEOPLE)]
        thread = threading.Thread(target=_user, daemon=True, args=(
            base_url, tokens[person], person != "alex", list(ids[person]), stop_at,
            ramp * number / users.stop, number, samples, lock))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=ramp + seconds + 120)
    out.put(samples)


def run(base_url: str, tokens: dict, ids: dict, users: int, seconds: float, ramp: float,
        processes: int) -> None:
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_load, args=(
        base_url, tokens, ids, range(first, users, processes), seconds, ramp, out))
        for first in range(processes)]
    began = time.monotonic()
    meter = cpu_use.Meter()
    for worker in workers:
        worker.start()
    samples = [sample for _ in workers for sample in out.get()]
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    used = meter.used()
    target = TARGET_P95_MS.get(users)
    print(f"\n{users} users, {seconds:g} s after a {ramp:g} s ramp: {len(samples)} steps, "
          f"{len(samples) / elapsed:.1f} steps/s"
          + (f"; target p95 <= {target} ms per operation, no error" if target else ""))
    for name, _ in STEPS:
        times = [seconds_taken for kind, seconds_taken, _ in samples if kind == name]
        errors = sum(1 for kind, _, ok in samples if kind == name and not ok)
        if not times:
            continue
        p95 = percentile(times, 95)
        verdict = "" if not target else ("  ok" if p95 <= target and not errors else "  MISSED")
        print(f"  {name:<8} n={len(times):<6} errors={errors:<4} {latencies_text(times)}{verdict}",
              flush=True)
    print(capacity_text(meter, used, len(samples), users), flush=True)


def capacity_text(meter, used: dict, steps: int, users: int) -> str:
    """Where a step's CPU went (the whole phase, ramp included, over its every step), and how
    many steps a second this machine's cores could serve at that cost (the load generator's
    share included, as it runs here): a bound on throughput, beside the steps a second
    ``users`` thinking 2 s on average between steps ask for."""
    parts = meter.per_unit(steps, "step", used)
    if not parts:  # nothing of the stack seen: not Linux, or --url elsewhere
        return ""
    per_step = 1000 * sum(used.values()) / steps
    return (f"  {parts}\n"
            f"  at {per_step:.1f} ms of CPU a step, load included, {config.cpus()} cores "
            f"serve at most {1000 * config.cpus() / per_step:.0f} steps/s; {users} users "
            f"ask for about {users / 2:.0f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running gateway (default: start a stack)")
    parser.add_argument("--password", default=DEMO_PASSWORD, help="the demo users' password")
    parser.add_argument("--users", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=20)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args(argv)

    stack = None
    if args.url:
        base_url = args.url
    else:
        print("starting a stack on PostgreSQL ...", flush=True)
        stack = Stack(Path(tempfile.mkdtemp(prefix="crm-bench-mix-"))).start()
        base_url = stack.base_url
    try:
        tokens = {}
        for person in PEOPLE:
            response = requests.post(f"{base_url}/api/v1/auth/login", timeout=30, json={
                "username": person, "password": args.password})
            response.raise_for_status()
            tokens[person] = response.json()["access_token"]
        ids = {person: [] for person in PEOPLE}
        for person in PEOPLE[:3]:  # the writers; the analyst reads theirs
            client = Client(base_url, tokens[person])
            for _ in range(50):
                response = client.post("/customers", json={
                    "name": f"Mix seed {uuid.uuid4().hex[:8]} 有限公司", "allow_duplicate": True})
                response.raise_for_status()
                ids[person].append(response.json()["id"])
        ids["maria"] += ids["sam"]  # her team's
        ids["alex"] = ids["sam"] + ids["sara"] + ids["maria"]
        for users in args.users:
            run(base_url, tokens, ids, users, args.seconds, args.ramp, args.processes)
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
