"""Browser tests: a real headless Chromium (Debian's ``chromium``; ``CRM_CHROMIUM`` names
another) driven by Playwright against the real stack. Each page refuses every request that
would leave this machine and records what the browser complained about, so a test can
assert the page works offline and within its Content-Security-Policy. Screenshots go to
``var/screenshots/``."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.support.stack import ROOT

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set "
                    "CRM_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


class Watched:
    """A page, with what it tried to fetch from elsewhere and what the browser reported."""

    def __init__(self, page):
        self.page = page
        self.outside: list[str] = []  # requests to another machine, refused
        self.errors: list[str] = []  # console errors and uncaught exceptions
        self.violations: list[str] = []  # Content-Security-Policy violations

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def csp_violations(self) -> list[str]:
        return self.violations + self.page.evaluate("window.__cspViolations || []")

    def unexpected_errors(self) -> list[str]:
        """Console errors but the browser's note of a 4xx answer (one the page handles:
        a field error, a duplicate, a wrong password)."""
        return [error for error in self.errors
                if not error.startswith("Failed to load resource: the server responded with "
                                        "a status of 4")]

    def accessibility_violations(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))  # not subject to the CSP
        found = self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))")
        return [f"{v['id']} ({v['impact']}): {v['nodes'][:3]}" for v in found
                if v["impact"] in ("serious", "critical")]


@pytest.fixture
def watched(browser):
    yield from _watched(browser, {"width": 1280, "height": 900})


@pytest.fixture
def watched_phone(browser):
    """A page at a phone's size (390 x 844), touch enabled."""
    yield from _watched(browser, PHONE, has_touch=True, is_mobile=True)


def _watched(browser, viewport: dict, **options):
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    seen = Watched(page)

    def route(request_route):
        if urlsplit(request_route.request.url).hostname in LOCAL_HOSTS:
            request_route.continue_()
        else:
            seen.outside.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and seen.errors.append(
        message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", lambda dialog: (seen.errors.append(f"dialog: {dialog.message}"),
                                      dialog.dismiss()))
    # Injected by the browser, not by the page: not subject to its policy.
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => "
        "window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")
    yield seen
    context.close()
