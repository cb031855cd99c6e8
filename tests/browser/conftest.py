"""Real-browser tests: headless Chromium (Debian's ``chromium``) driven by
Playwright, against ``flexigift serve`` started as a real server process
(:mod:`browser_support`).

Browser downloads are not available here, so Playwright is pointed at
``/usr/bin/chromium`` (``FLEXIGIFT_CHROMIUM`` overrides the path). Without
Chromium or Playwright these tests skip, saying why. Screenshots go to
``test-output/`` (``FLEXIGIFT_TEST_OUTPUT`` overrides it).
"""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("FLEXIGIFT_CHROMIUM", "/usr/bin/chromium")
#: What a headless Chromium needs here: no sandbox as root, and no calls home (the
#: machine's network is closed, and every refused connection slows it down).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _why_no_browser() -> str | None:
    if sync_playwright is None:
        return "browser tests need Playwright for Python (pip install '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return (f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium; "
                "or set FLEXIGIFT_CHROMIUM)")
    return None


@pytest.fixture(scope="session")
def chromium():
    reason = _why_no_browser()
    if reason:
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
