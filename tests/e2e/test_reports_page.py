"""The end-of-shift reports page in real Chromium: the app writes a recorded shift's report at start."""

from __future__ import annotations

import pytest
from test_shift_reports import shift_events

from factory.history import open_history
from factory.layout import load_plant
from support import ROOT, EventFactory, RunningApp, offline_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reports_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    events = EventFactory()
    history = open_history(folder / "history.duckdb", load_plant(ROOT / "factory.yaml"))
    # the shift, then a later event on the line: the shift's end is past the reports' grace
    history.record([*shift_events(events), events.entered(135, "U3", "kitting")])
    history.close()
    offline_user(folder, "max", "manager", "max-password-1")
    app = RunningApp("--no-emulator", data_dir=folder, tracking_links=False)
    yield app
    app.stop()


def test_a_manager_sees_the_report_listed_and_downloads_it(browser, reports_app, screenshots):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page.goto(f"{reports_app.base_url}/login?next=/reports")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#reports-table")
    # The first pass runs as the app starts and writes the CSV and the PDF one after the other;
    # the page lists what is there when it is drawn (once per visit).
    for _ in range(60):
        if page.locator(".report-row a.report-pdf").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
        page.wait_for_selector("#reports-table")
    row = page.locator(".report-row").first
    assert "2026-03-02" in row.inner_text() and "Air conditioner line 1" in row.inner_text()
    page.screenshot(path=str(screenshots / "reports.png"), full_page=True)
    with page.expect_download() as download:
        row.locator("a.report-pdf").click()
    assert download.value.suggested_filename == "ac1_2026-03-02_Late.pdf"
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    page.close()
