"""How fast the web console's screens come up in a real Chromium, and how many round trips
each waits on. Prints figures; asserts nothing.

    .venv/bin/python bench/console_load.py                 # its own stack, 10 loads a screen
    .venv/bin/python bench/console_load.py --loads 20 --url http://127.0.0.1:8000

For each screen (home, customers, a customer's page) it loads the page --loads times signed in
(the session's cookie), with the browser's cache warm and cold (emptied before each load),
and prints the time from navigation to the screen's heading drawn
(p50, p95) and the request waterfall: the longest chain of requests each of which started
only after the one before it had answered (the page, its assets, the session's refresh, the
screen's data). The issue's targets: interactive in under 1 s on loopback, no waterfall of
more than two rounds of API calls.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.stack import DEMO_PASSWORD, Stack  # noqa: E402

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
DRAWN = ("() => document.querySelector('header nav') !== null"
         " && document.querySelector('main h1') !== null"
         " && !document.querySelector('main [role=status]')")
# Each request's start and end, and the longest chain of requests each started after the one
# before it had answered.
WATERFALL = """() => {
  const entries = [{name: location.pathname, startTime: 0,
    responseEnd: performance.getEntriesByType('navigation')[0].responseEnd}]
    .concat(performance.getEntriesByType('resource')
      .filter((entry) => entry.transferSize > 0));  // from the cache: no round trip
  const depth = new Map();
  for (const entry of entries.sort((a, b) => a.startTime - b.startTime)) {
    let best = [];
    for (const [other, chain] of depth) {
      if (other.responseEnd <= entry.startTime && chain.length > best.length) best = chain;
    }
    depth.set(entry, [...best, new URL(entry.name, location.href).pathname]);
  }
  return [...depth.values()].reduce((a, b) => (b.length > a.length ? b : a), []);
}"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load_times(page, url: str, loads: int, cold: bool) -> tuple[list[float], list[str]]:
    """Open ``url`` afresh ``loads`` times (the session's cookie kept; the HTTP cache emptied
    first when ``cold``): each load's time to the screen drawn, and the last one's chain."""
    times, chain = [], []
    cdp = page.context.new_cdp_session(page)
    for _ in range(loads):
        page.goto("about:blank")
        if cold:
            cdp.send("Network.clearBrowserCache")
        page.goto(url)
        page.wait_for_function(DRAWN, polling="raf", timeout=30_000)
        times.append(page.evaluate("performance.now()"))
        chain = page.evaluate(WATERFALL)
    cdp.detach()
    return times, chain


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running console (signs in as sam); default: own stack")
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args(argv)
    stack = None
    if args.url:
        base_url = args.url.rstrip("/")
    else:
        stack = Stack(Path(tempfile.mkdtemp(prefix="crm-bench-console-")))
        stack.start()
        base_url = stack.base_url
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{base_url}/")
            page.get_by_label("Username").fill("sam")
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_function(DRAWN, timeout=30_000)
            token = requests.post(f"{base_url}/api/v1/auth/login", json={
                "username": "sam", "password": DEMO_PASSWORD}, timeout=30).json()["access_token"]
            customer = requests.post(f"{base_url}/api/v1/customers", json={
                "name": "Bench console", "allow_duplicate": True}, timeout=30,
                headers={"Authorization": f"Bearer {token}"}).json()["id"]

            print(f"{os.cpu_count()} CPUs, {args.loads} loads a screen, {base_url}", flush=True)
            for name, fragment in (("home", "#/"), ("customers", "#/customers"),
                                   ("customer", f"#/customers/{customer}")):
                url = f"{base_url}/{fragment}"
                for cache in ("warm", "cold"):
                    times, chain = load_times(page, url, args.loads, cache == "cold")
                    api_rounds = sum(1 for step in chain if step.startswith("/api/"))
                    print(f"{name:<10} {cache}  drawn p50 {statistics.median(times):6.0f} ms  "
                          f"p95 {percentile(times, 0.95):6.0f} ms  waterfall "
                          f"{len(chain)} ({api_rounds} of API calls): {' > '.join(chain)}",
                          flush=True)
            browser.close()
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
