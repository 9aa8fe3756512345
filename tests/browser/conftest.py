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


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    # Injected by the browser, not by the page: not subject to its policy.
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => "
        "window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")
    yield seen
    context.close()
