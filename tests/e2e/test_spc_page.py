"""The SPC page in real Chromium, over half a day of emulated history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory.history import open_history
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from support import ROOT, RunningApp, offline_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def spc_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spc")
    plant = load_plant(ROOT / "factory.yaml")
    events: list = []
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=12)
    run_fast(PlantModel(plant, events.append, start, seed=5), 12 * 3600 - 600)
    history = open_history(folder / "history.duckdb", plant)
    for i in range(0, len(events), 5000):
        history.record(events[i : i + 5000])
    history.close()
    offline_user(folder, "max", "manager", "max-password-1", site="zhengzhou")
    app = RunningApp("--no-emulator", "--api-key", "spc-test-key-0123456789", data_dir=folder, tracking_links=False)
    yield app
    app.stop()


def test_a_manager_sees_the_chart_and_the_capability_table(browser, spc_app, screenshots):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{spc_app.base_url}/login?next=/spc?line=ac1%26station=leak_test%26measurement=charge%26product=AS12")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    # The individuals and the moving ranges, with the limit lines drawn as shapes. The figure is
    # drawn when its callback answers, so wait for both traces, not the first one. (A third, the
    # points that broke a rule, is drawn only when some did: that depends on the emulated hours.)
    page.wait_for_function("() => document.querySelectorAll('#spc-chart .scatterlayer .trace').length >= 2")
    assert page.locator("#spc-chart .shapelayer path").count() >= 5
    rows = page.locator(".spc-table tbody tr")
    assert rows.count() >= 2  # a shift and its day at least
    assert "whole day" in page.locator(".spc-table").inner_text()
    assert "Limits from" in page.locator(".spc-summary").inner_text()
    # A manager of Zhengzhou is offered Zhengzhou's lines only.
    assert "Refrigerator" not in page.locator(".exec-controls").inner_text()
    page.screenshot(path=str(screenshots / "spc.png"), full_page=True)
    page.close()
