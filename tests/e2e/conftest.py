"""Real processes and a real browser: the app as a subprocess, Debian's headless Chromium.

Every wait is a condition with a generous ceiling (a loaded 2-core machine takes longer, it does
not fail); timings are measured by the benchmarks under bench/, never asserted here.
Screenshots go to an ignored folder; ``bash scripts/test.sh tests/e2e --screenshots docs/screenshots``
writes the README's pictures instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import DAY_SHIFT, ROOT, RunningApp

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 120_000  # the ceiling of any one wait in a browser


def pytest_addoption(parser):
    parser.addoption(
        "--screenshots",
        default=str(ROOT / "tests" / "artifacts" / "screenshots"),
        help="where browser tests save their screenshots (docs/screenshots refreshes the README's)",
    )


@pytest.fixture(scope="session")
def screenshots(request) -> Path:
    folder = Path(request.config.getoption("--screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Browser:
    """Chromium whose pages wait up to WAIT_MS for anything by default."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(WAIT_MS)
        page.set_default_navigation_timeout(WAIT_MS)
        return page

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        return context


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield Browser(browser)
        browser.close()


@pytest.fixture
def live_app(tmp_path):
    app = RunningApp("--speed", "120", "--seed", "42", "--start", DAY_SHIFT, data_dir=tmp_path)
    yield app
    app.stop()
