"""The alarm journal page in real Chromium, over a day of emulated history: read, export, shelve, unshelve."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from factory.history import open_history
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from support import ROOT, RunningApp, offline_user, pick_option

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def journal_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alarms")
    plant = load_plant(ROOT / "factory.yaml")
    events = []
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    run_fast(PlantModel(plant, events.append, start, seed=4), 86400 - 600)
    history = open_history(folder / "history.duckdb", plant)
    for i in range(0, len(events), 5000):
        history.record(events[i : i + 5000])
    history.close()
    offline_user(folder, "max", "manager", "max-password-1")
    app = RunningApp("--no-emulator", data_dir=folder, tracking_links=False)
    yield app
    app.stop()


def _choose(page, dropdown: str, text: str) -> None:
    """Pick an option of a dcc.Dropdown by typing to filter it and clicking it, and see it chosen."""
    pick_option(page, page.locator(f"#{dropdown}"), text, page.get_by_role("option", name=text, exact=True))
    _wait_text(page, f"#{dropdown}", text)


def _wait_text(page, selector: str, start: str, seconds: float = 30) -> None:
    """Wait until the element's text starts with ``start``; fail saying what it showed instead."""
    deadline = time.monotonic() + seconds
    while (shown := page.inner_text(selector).strip()).startswith(start) is False:
        assert time.monotonic() < deadline, f"{selector} shows {shown!r}, not {start!r}…"
        page.wait_for_timeout(100)


def test_a_manager_reads_the_journal_exports_it_and_shelves_a_point(browser, journal_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 1200}, accept_downloads=True)
    page.goto(f"{journal_app.base_url}/login?next=/alarms?line=ac1")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#alarms-grid .ag-row")
    status = page.inner_text("#alarms-status")
    assert " alarms · " in status, status
    assert page.locator("#alarms-hourly .bars path").count() >= 1
    page.screenshot(path=str(screenshots / "alarms.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#alarms-csv")
    assert download.value.suggested_filename.startswith("alarms-ac1-")
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    rows = text.strip().splitlines()
    assert rows[0].startswith("id,line,station,kind,priority")
    assert len(rows) - 1 == int(status.split(" ")[0].replace(",", ""))  # the export is what the page counts

    _choose(page, "shelve-station", "Brazing")
    page.click("#shelve-kind label:has-text('Breakdown')")
    page.fill("#shelve-reason", "torch being replaced")
    page.click("#shelve-button")
    _wait_text(page, "#shelve-result", "Shelved until")
    listed = page.inner_text("#shelved-list")
    assert "Brazing: Breakdown shelved by max" in listed and "torch being replaced" in listed
    page.click("#shelved-list button")
    _wait_text(page, "#shelve-result", "Unshelved")
    assert "Nothing is shelved" in page.inner_text("#shelved-list")
    page.close()
