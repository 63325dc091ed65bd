"""The dead-letter page in real Chromium: a manager finds a refused event, fixes it and re-submits it."""

from __future__ import annotations

import time

import pytest
import requests

from streams import codec
from support import LineFeed, RunningApp, offline_user

pytestmark = pytest.mark.e2e
KEY = "dead-letter-test-key-0123456789"
HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def app(tmp_path):
    offline_user(tmp_path, "max", "manager", "max-password-1")
    running = RunningApp("--no-emulator", "--api-key", KEY, data_dir=tmp_path, tracking_links=False)
    yield running
    running.stop()


def test_a_manager_fixes_a_refused_event_and_it_is_accepted(browser, app, screenshots):
    feed = LineFeed(app.base_url, KEY)
    feed.post(feed.shift(), feed.placed("DL1"))
    wrong = codec.to_json(feed.entered("DL1", "kitting")).replace('"kitting"', '"kiting"')
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-ndjson"}
    answer = requests.post(app.base_url + "/api/events", data=f"{HOSTILE}\n{wrong}", headers=headers, timeout=60)
    assert answer.status_code == 422
    assert [e["reason"] for e in answer.json()["errors"]] == ["bad_json", "unknown_station"]

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{app.base_url}/login?next=/dead-letters")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    item = page.locator(".dl-item", has_text="unknown_station")
    item.wait_for()
    assert page.locator(".dl-raw-text", has_text=HOSTILE).count() == 1  # shown as text, never as markup
    assert page.evaluate("() => window.__pwned === undefined && !document.querySelector('.dl-list img')")
    item.locator("button", has_text="Fix").click()
    page.wait_for_function("() => document.querySelector('#dl-raw').value.includes('kiting')")
    page.fill("#dl-raw", page.input_value("#dl-raw").replace('"kiting"', '"kitting"'))
    page.click("#dl-send")
    page.wait_for_selector(".dl-accepted")
    assert "station_entered" in page.inner_text(".dl-accepted")
    page.locator(".dl-item", has_text="unknown_station").locator(".dl-done", has_text="re-submitted by max").wait_for()
    page.screenshot(path=str(screenshots / "dead-letters.png"), full_page=True)
    page.reload()  # and so it stays, from the control log
    page.locator(".dl-item", has_text="unknown_station").locator(".dl-done", has_text="re-submitted by max").wait_for()
    page.close()

    deadline = time.monotonic() + 60  # the gate holds a unit's events 2 s to order them, then the pump applies them
    while time.monotonic() < deadline:
        unit = requests.get(app.base_url + "/api/orders/token-DL1-0123456789", timeout=30).json()
        if unit.get("current_station") == "Kitting":  # named in English
            break
        time.sleep(0.2)
    assert unit.get("current_station") == "Kitting", unit  # the fixed event reached the live state
