"""Wall screens in real Chromium: kiosk fit and rotation, andon acknowledgement, stale data, restarts.

Apart from the kiosk test (the built-in plant), these run the app without its emulator and feed
it hand-made events through POST /api/events, so every number on the screen is known.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from dashboard.accounts import Accounts
from streams import codec
from streams import events as ev
from support import DAY_SHIFT, ROOT, RunningApp

SCREENSHOTS = ROOT / "docs" / "screenshots"
KEY = "wall-screen-test-key-0123456789"
MANAGER, PASSWORD = "mia", "correct horse battery"
pytestmark = pytest.mark.e2e


class Feed:
    """Events of line ac1 stamped with the wall clock, posted like a real line would."""

    def __init__(self, base_url: str) -> None:
        self.base_url, self.n = base_url, 0

    def url(self, base_url: str) -> None:
        self.base_url = base_url

    def _env(self) -> dict:
        self.n += 1
        return {"id": f"wall-{self.n}", "source": "/test/wall", "time": datetime.now(UTC)}

    def post(self, *events: ev.Event) -> None:
        body = "\n".join(codec.to_json(e) for e in events)
        r = requests.post(
            self.base_url + "/api/events",
            data=body,
            timeout=5,
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text

    def shift(self):
        return ev.ShiftStarted(
            **self._env(),
            line_id="ac1",
            shift="A",
            planned_end=codec.format_time(datetime.now(UTC) + timedelta(hours=8)),
        )

    def placed(self, unit):
        return ev.OrderPlaced(
            **self._env(),
            order_id=f"SO-{unit}",
            unit_code=unit,
            tracking_token=f"token-{unit}-0123456789",
            line_id="ac1",
            product="air_conditioner",
            options={"model": "AS12", "wifi": "wifi"},
        )

    def entered(self, unit, station):
        return ev.StationEntered(**self._env(), unit_code=unit, line_id="ac1", station_id=station, visit=1)

    def down(self, station):
        return ev.MachineDown(
            **self._env(), line_id="ac1", station_id=station, machine=1, reason_code="E12", reason="motor fault"
        )


def _fed_app(data_dir, port=None):
    return RunningApp(
        "--no-emulator", "--api-key", KEY, "--stale-after", "4", data_dir=data_dir, port=port, tracking_links=False
    )


@pytest.fixture
def fed(tmp_path):
    Accounts(tmp_path / "accounts.json").add_user(MANAGER, "manager", PASSWORD)
    app = _fed_app(tmp_path)
    yield app, Feed(app.base_url)
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


def test_kiosk_fits_both_screen_sizes_and_rotates_between_lines(browser, tmp_path):
    app = RunningApp("--speed", "60", "--seed", "42", "--start", DAY_SHIFT, "--kiosk-rotate", "8", data_dir=tmp_path)
    try:
        assert "rotate=8" in requests.get(app.kiosk_url, allow_redirects=False, timeout=5).headers["Location"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width, height in ((1920, 1080), (3840, 2160)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(app.kiosk_url)
            page.wait_for_selector(".freshness.live", timeout=10_000)
            page.wait_for_selector("#floor-hourly .bars path", state="attached", timeout=15_000)  # KPIs arrived
            assert page.locator(".line-links").is_hidden()  # no navigation on a wall screen
            assert _fits(page), (width, height)
            page.screenshot(path=str(SCREENSHOTS / f"kiosk-{width}x{height}.png"))
            first = page.locator("h1").inner_text()
            page.wait_for_function(
                "(first) => document.querySelector('h1').innerText !== first", arg=first, timeout=20_000
            )
            assert "line=wm1" in page.url
            page.wait_for_selector(".freshness.live", timeout=10_000)
            page.wait_for_function("() => document.querySelectorAll('.unit-chip').length > 0", timeout=10_000)
            assert _fits(page)
            page.close()
    finally:
        app.stop()


def test_stale_data_greys_out_and_a_manager_acknowledges_an_alarm(browser, fed):
    app, feed = fed
    feed.post(feed.shift(), feed.placed("U1"), feed.entered("U1", "kitting"), feed.down("assembly"))
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(app.kiosk_url)
    wall.wait_for_selector(".freshness.live", timeout=15_000)
    alarm = wall.locator(".andon-alarm.kind-down")
    alarm.wait_for(timeout=10_000)
    assert "Assembly: DOWN (motor fault)" in alarm.inner_text() and "unacknowledged" in alarm.inner_text().lower()
    assert wall.locator(".andon-ack").count() == 0  # a wall screen cannot acknowledge
    assert "alert" in wall.locator('[data-station="assembly"]').get_attribute("class")

    # Nothing more arrives: within the stale limit (4 s) the panels grey out and a banner says why.
    wall.wait_for_selector(".panel.map.stale", timeout=15_000)
    assert "No data from the line" in wall.locator(".connection-banner").inner_text()
    feed.post(feed.entered("U1", "sheet_metal"))
    wall.wait_for_selector(".panel.map:not(.stale)", timeout=10_000)
    wall.wait_for_selector(".connection-banner.hidden", state="attached", timeout=5_000)

    manager = browser.new_page(viewport={"width": 1920, "height": 1080})
    manager.goto(app.base_url + "/login?next=/floor?line=ac1")
    manager.fill("input[name=user]", MANAGER)
    manager.fill("input[name=password]", PASSWORD)
    manager.click("button[type=submit], input[type=submit]")
    manager.locator(".andon-ack").click(timeout=10_000)
    manager.wait_for_selector(f".andon-alarm.acked >> text=✓ {MANAGER}", timeout=10_000)
    wall.wait_for_selector(f".andon-alarm.acked >> text=✓ {MANAGER}", timeout=10_000)  # pushed to every screen
    wall.close()
    manager.close()


def test_a_wall_screen_recovers_from_a_server_restart_by_itself(browser, tmp_path):
    Accounts(tmp_path / "accounts.json")
    app = _fed_app(tmp_path)
    feed = Feed(app.base_url)
    try:
        feed.post(
            feed.shift(),
            *(feed.placed(u) for u in ("U1", "U2", "U3")),
            feed.entered("U1", "brazing"),
            feed.entered("U2", "kitting"),
        )
        wall = browser.new_page(viewport={"width": 1920, "height": 1080})
        wall.goto(app.kiosk_url)
        wall.wait_for_function("() => document.querySelectorAll('.unit-chip').length === 2", timeout=10_000)
        time.sleep(1.5)  # the history writer's batch
        port, kiosk_url = app.port, app.kiosk_url
    finally:
        app.stop()
    wall.wait_for_selector(".connection-banner >> text=Connection lost", timeout=10_000)
    assert wall.locator(".panel.stale").count() == 4

    app = _fed_app(tmp_path, port=port)  # same port and data: the page must find its way back alone
    try:
        feed.url(app.base_url)
        # Reconnected (no event has come since, so the stream is rightly reported as stopped).
        wall.wait_for_function(
            "() => !document.querySelector('.connection-banner').innerText.includes('Connection lost')", timeout=20_000
        )
        chips = _chips(wall)
        assert chips["brazing"] == ["U1"] and chips["kitting"] == ["U2"]
        assert sum(len(c) for c in chips.values()) == 2  # nothing doubled
        assert wall.locator("#floor-wip").inner_text() == "2"
        feed.post(feed.entered("U3", "kitting"), feed.entered("U2", "sheet_metal"))  # the new server's first frames
        wall.wait_for_function("() => document.querySelectorAll('.unit-chip').length === 3", timeout=10_000)
        wall.wait_for_selector(".freshness.live", timeout=5_000)
        chips = _chips(wall)
        assert chips["kitting"] == ["U3"] and chips["sheet_metal"] == ["U2"] and chips["brazing"] == ["U1"]
        assert wall.locator("#floor-wip").inner_text() == "3"
        assert app.kiosk_url == kiosk_url
        wall.close()
    finally:
        app.stop()
