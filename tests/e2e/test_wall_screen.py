"""Wall screens in real Chromium: kiosk fit and rotation, andon acknowledgement, stale data, restarts.

Apart from the kiosk test (the built-in plant), these run the app without its emulator and feed
it hand-made events through POST /api/events, so every number on the screen is known.
"""

from __future__ import annotations

import time

import pytest
import requests

from support import DAY_SHIFT, LineFeed, RunningApp, offline_user

KEY = "wall-screen-test-key-0123456789"
MANAGER, PASSWORD = "mia", "correct horse battery"
pytestmark = pytest.mark.e2e


def _fed_app(data_dir, port=None):
    return RunningApp(
        "--no-emulator", "--api-key", KEY, "--stale-after", "4", data_dir=data_dir, port=port, tracking_links=False
    )


@pytest.fixture
def fed(tmp_path):
    offline_user(tmp_path, MANAGER, "manager", PASSWORD)
    app = _fed_app(tmp_path)
    yield app, LineFeed(app.base_url, KEY)
    app.stop()


def _chips(page) -> dict[str, list[str]]:
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('.station-tile')).map(
        t => [t.dataset.station, Array.from(t.querySelectorAll('.unit-chip')).map(c => c.title)]))""")


def _fits(page) -> bool:
    return page.evaluate("""() => {
        const s = document.scrollingElement;
        const panels = Array.from(document.querySelectorAll('.panel'));
        return s.scrollHeight <= innerHeight && s.scrollWidth <= innerWidth
            && panels.every(p => p.getBoundingClientRect().bottom <= innerHeight + 0.5);
    }""")


def test_kiosk_fits_both_screen_sizes_and_rotates_between_lines(browser, tmp_path, screenshots):
    app = RunningApp("--speed", "60", "--seed", "42", "--start", DAY_SHIFT, "--kiosk-rotate", "20", data_dir=tmp_path)
    lines = ["ac1", "rf1", "wm1", "wh1", "rf2", "ac2"]
    try:
        assert "rotate=20" in requests.get(app.kiosk_url, allow_redirects=False, timeout=30).headers["Location"]
        for width, height in ((1920, 1080), (3840, 2160)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(app.kiosk_url)
            page.wait_for_selector(".freshness.live")
            page.wait_for_selector("#floor-hourly .bars path", state="attached")  # KPIs arrived
            assert page.locator(".line-links").is_hidden()  # no navigation on a wall screen
            assert _fits(page), (width, height)
            page.screenshot(path=str(screenshots / f"kiosk-{width}x{height}.png"))
            first, shown = page.locator("h1").inner_text(), page.url.split("line=")[1].split("&")[0]
            page.wait_for_function("(first) => document.querySelector('h1').innerText !== first", arg=first)
            assert f"line={lines[lines.index(shown) + 1]}&" in page.url  # the next line of the enterprise
            page.wait_for_selector(".freshness.live")
            page.wait_for_function("() => document.querySelectorAll('.unit-chip').length > 0")
            assert _fits(page)
            page.close()
    finally:
        app.stop()


def test_stale_data_greys_out_and_a_manager_acknowledges_an_alarm(browser, fed):
    app, feed = fed
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(app.kiosk_url)
    wall.wait_for_function(
        "() => { const s = document.querySelector('#floor-status');"
        " return s && !s.innerText.startsWith('Connecting'); }"
    )
    feed.post(feed.shift(), feed.placed("U1"), feed.entered("U1", "kitting"), feed.down("assembly"))
    alarm = wall.locator(".andon-alarm.kind-down")
    alarm.wait_for()
    assert "Assembly: DOWN (motor fault)" in alarm.inner_text() and "unacknowledged" in alarm.inner_text().lower()
    assert wall.locator(".andon-ack").count() == 0  # a wall screen cannot acknowledge
    assert "alert" in wall.locator('[data-station="assembly"]').get_attribute("class")

    # Nothing more arrives: within the stale limit (4 s) the panels grey out and a banner says why.
    # Both read in one evaluation: two separate reads straddle the screen's one-second tick.
    wall.wait_for_function(
        "() => document.querySelector('.panel.map.stale')"
        " && document.querySelector('.connection-banner').innerText.includes('No data from the line')"
    )
    feed.post(feed.entered("U1", "sheet_metal"))
    wall.wait_for_selector(".panel.map:not(.stale)")
    wall.wait_for_selector(".connection-banner.hidden", state="attached")

    manager = browser.new_page(viewport={"width": 1920, "height": 1080})
    manager.goto(app.base_url + "/login?next=/floor?line=ac1")
    manager.fill("input[name=user]", MANAGER)
    manager.fill("input[name=password]", PASSWORD)
    manager.click("button[type=submit], input[type=submit]")
    manager.locator(".andon-ack").click()
    manager.wait_for_selector(f".andon-alarm.acked >> text=✓ {MANAGER}")
    wall.wait_for_selector(f".andon-alarm.acked >> text=✓ {MANAGER}")  # pushed to every screen
    wall.close()
    manager.close()


def test_a_wall_screen_recovers_from_a_server_restart_by_itself(browser, tmp_path):
    app = _fed_app(tmp_path)
    feed = LineFeed(app.base_url, KEY)
    try:
        feed.post(
            feed.shift(),
            *(feed.placed(u) for u in ("U1", "U2", "U3")),
            feed.entered("U1", "brazing"),
            feed.entered("U2", "kitting"),
        )
        wall = browser.new_page(viewport={"width": 1920, "height": 1080})
        wall.goto(app.kiosk_url)
        wall.wait_for_function("() => document.querySelectorAll('.unit-chip').length === 2")
        time.sleep(1.5)  # the history writer's batch
        port, kiosk_url = app.port, app.kiosk_url
    finally:
        app.stop()
    wall.wait_for_selector(".connection-banner >> text=Connection lost")
    assert wall.locator(".panel.stale").count() == wall.locator(".panel[data-panel]").count() == 5  # every panel

    app = _fed_app(tmp_path, port=port)  # same port and data: the page must find its way back alone
    try:
        feed.base_url = app.base_url
        # Reconnected (no event has come since, so the stream is rightly reported as stopped).
        wall.wait_for_function(
            "() => !document.querySelector('.connection-banner').innerText.includes('Connection lost')"
        )
        chips = _chips(wall)
        assert chips["brazing"] == ["U1"] and chips["kitting"] == ["U2"]
        assert sum(len(c) for c in chips.values()) == 2  # nothing doubled
        assert wall.locator("#floor-wip").inner_text() == "2"
        feed.post(feed.entered("U3", "kitting"), feed.entered("U2", "sheet_metal"))  # the new server's first frames
        wall.wait_for_function("() => document.querySelectorAll('.unit-chip').length === 3")
        wall.wait_for_selector(".freshness.live")
        chips = _chips(wall)
        assert chips["kitting"] == ["U3"] and chips["sheet_metal"] == ["U2"] and chips["brazing"] == ["U1"]
        assert wall.locator("#floor-wip").inner_text() == "3"
        assert app.kiosk_url == kiosk_url
        wall.close()
    finally:
        app.stop()
