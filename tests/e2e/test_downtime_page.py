"""A manager classifies a stop on /downtime in real Chromium, and the page shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory.history import open_history
from factory.layout import load_plant
from streams import events as ev
from support import ROOT, RunningApp, offline_user, pick_option

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def downtime_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("downtime")
    plant = load_plant(ROOT / "factory.yaml")
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)

    def stop(n, minute, machine, code, minutes):
        common = {"source": "/e2e/ac1", "line_id": "ac1", "station_id": "brazing", "machine": machine,
                  "reason_code": code}  # fmt: skip
        down = ev.MachineDown(id=f"d{n}", time=began + timedelta(minutes=minute), reason=code, **common)
        up = ev.MachineUp(id=f"u{n}", time=down.time + timedelta(minutes=minutes), down_s=minutes * 60.0, **common)
        return [down, up]

    history = open_history(folder / "history.duckdb", plant)
    history.record(stop(1, 0, 1, "GAS", 30) + stop(2, 50, 2, "TORCH", 12))
    history.close()
    offline_user(folder, "max", "manager", "max-password-1")
    app = RunningApp("--no-emulator", "--api-key", "downtime-test-key-0123456789", data_dir=folder,
                     tracking_links=False)  # fmt: skip
    yield app
    app.stop()


def test_a_manager_classifies_a_stop_and_the_page_shows_it(browser, downtime_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    page.goto(f"{downtime_app.base_url}/login?next=/downtime?line=ac1")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("tr.dt-stop")
    assert page.locator("tr.dt-unclassified").count() == 2
    newest = page.locator("tr.dt-stop").first  # the TORCH stop, newest first
    assert "TORCH" in newest.inner_text()
    reasons = newest.locator("button.dash-dropdown")  # loaded after the table: clicking it waits for it
    pick_option(page, reasons, "Waiting", page.get_by_text("Organisational · Waiting for maintenance"))
    newest.locator("input[placeholder=note]").fill("fitter was on line 2")
    newest.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Saved: Waiting for maintenance (by max)")
    page.reload()  # what the page shows now comes from the control log, as on every worker
    page.wait_for_function(
        "() => [...document.querySelectorAll('tr.dt-stop')].some(r => r.innerText.includes('classified by max'))"
    )
    assert page.locator("tr.dt-unclassified").count() == 1
    newest = page.locator("tr.dt-stop").first
    assert "Waiting for maintenance" in newest.inner_text() and "classified by max" in newest.inner_text()
    assert newest.locator("input[placeholder=note]").input_value() == "fitter was on line 2"
    page.screenshot(path=str(screenshots / "downtime.png"), full_page=True)
    page.close()
