"""The tracker in Chromium: it says when the finish time leaves the range shown before, and why;
in Chinese it shows no English name from the factory file.

The pages are real trackers of a hand-fed app. For the moves, once the page is live, frames whose
ETA is known are handed to the page's own renderer (the same entry point the socket uses), so every
line of text is known.
"""

from __future__ import annotations

import time

import pytest
import requests

from dashboard.i18n import texts
from streams import events as ev
from support import LineFeed, RunningApp

KEY = "tracker-eta-test-key-0123456789"
pytestmark = pytest.mark.e2e


def _view(earliest, expected, latest, reason=None):
    finish = {
        k: f"2026-03-02T{v}:00.000Z" for k, v in (("earliest", earliest), ("expected", expected), ("latest", latest))
    }
    return {
        "status": "in_production", "units_ahead": 0, "current_station": "kitting", "waiting_for": None,
        "steps": [], "tests": [], "shipping": None, "eta": {"finish": finish, "ship": None, "reason": reason},
    }  # fmt: skip


def test_a_move_beyond_the_range_shown_is_said_with_its_reason(browser, tmp_path):
    app = RunningApp("--no-emulator", "--api-key", KEY, data_dir=tmp_path, tracking_links=False)
    try:
        feed = LineFeed(app.base_url, KEY)
        feed.post(feed.shift(), feed.placed("U1"))
        deadline = time.monotonic() + 30  # accepted is not yet applied: wait for the live state to know it
        while requests.get(app.base_url + "/api/live/order/token-U1-0123456789", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB", timezone_id="UTC")
        page.goto(app.base_url + "/track/token-U1-0123456789")
        page.wait_for_selector(".freshness.live", timeout=20_000)
        settings = {
            "token": "token-U1-0123456789",
            "texts": texts("en"),
            "names": {"stations": {"assembly": "Assembly", "kitting": "Kitting"}, "reasons": {"E12": "motor fault"}},
            "locale": "en-GB",
        }
        # A renderer of the page's own kind, without a socket: it draws only the frames given here.
        page.evaluate("(s) => { window.__view = new window.tf.TrackerView(s); }", settings)

        def show(seq, view) -> list[str]:
            page.evaluate(
                "([s, v]) => window.__view.room.receive({e: 'test', s: s, v: v})",
                [seq, view],
            )
            return page.locator("#track-eta div").all_inner_texts()

        first = show(1, _view("09:50", "10:00", "10:10"))
        assert not any("shown before" in line for line in first)
        assert not any("shown before" in line for line in show(2, _view("09:55", "10:05", "10:10")))  # inside: quiet
        # Out of the first range (09:50-10:10) with no reason given: the pace changed.
        moved = show(3, _view("10:30", "10:40", "10:50"))
        assert "40 min later than shown before: the line has been slower than the units before yours" in moved
        # Inside the range shown at that move: the note stays, nothing new.
        assert "40 min later than shown before: the line has been slower than the units before yours" in show(
            4, _view("10:32", "10:42", "10:52")
        )
        down = {
            "code": "station_down",
            "station": "assembly",
            "since": "2026-03-02T10:35:00.000Z",
            "reason_code": "E12",
        }
        again = show(5, _view("11:50", "12:00", "12:10", down))
        assert "1 h 20 later than shown before: Assembly down since 10:35 (motor fault)" in again
        earlier = show(6, _view("10:50", "11:00", "11:10", None))
        assert "1 h 00 earlier than shown before: the line has been faster than the units before yours" in earlier
    finally:
        app.stop()


def test_the_tracker_in_chinese_shows_no_english_name_from_the_factory_file(browser, tmp_path):
    from config import ROOT
    from factory.layout import load_plant
    from factory.views import names_for

    app = RunningApp("--no-emulator", "--api-key", KEY, data_dir=tmp_path, tracking_links=False)
    try:
        feed = LineFeed(app.base_url, KEY)
        feed.post(feed.shift(), feed.placed("U1"), feed.entered("U1", "kitting"))
        deadline = time.monotonic() + 30
        while requests.get(app.base_url + "/api/live/order/token-U1-0123456789", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(app.base_url + "/track/token-U1-0123456789?lang=zh")
        page.wait_for_selector(".freshness.live")
        shown = page.locator("body").inner_text()
        plant = load_plant(ROOT / "factory.yaml")  # the app's default factory file
        en, zh = names_for(plant, "ac1", "en"), names_for(plant, "ac1", "zh")
        english = {en["product"], en["line"], en["site"], *en["stations"].values(), *en["options"].values()}
        english |= {name for choices in en["choices"].values() for name in choices.values()}
        english -= {zh["product"], *zh["stations"].values(), *zh["options"].values()}  # same in both (none today)
        assert zh["stations"]["kitting"] in shown and zh["product"] in shown
        # A part fitted shows in the parts list, named in Chinese, with supplier, batch and serial.
        env = feed._env()
        feed.post(
            ev.StationExited(**env, unit_code="U1", line_id="ac1", station_id="kitting", visit=1),
            ev.StationEntered(**feed._env(), unit_code="U1", line_id="ac1", station_id="sheet_metal", visit=1),
            ev.ComponentFitted(
                **feed._env(), unit_code="U1", line_id="ac1", station_id="sheet_metal", component="compressor",
                supplier="Huanghai Compressor", batch="HC-1", serial="HC-000042",
            ),
        )  # fmt: skip
        page.wait_for_selector("#track-parts li")
        assert (
            page.locator("#track-parts li").inner_text()
            == "旋转式压缩机：Huanghai Compressor · 批次 HC-1 · 序列号 HC-000042"
        )
        assert page.locator("#track-parts-none").is_hidden()
        shown = page.locator("body").inner_text()
        leaked = sorted(name for name in english if name in shown and not name.isdigit())
        assert not leaked, leaked
    finally:
        app.stop()


def test_an_order_in_the_backlog_sees_the_queue_ahead_of_it_move(browser, tmp_path):
    """Its own unit does not move, yet the page counts down as the orders before it start."""
    app = RunningApp("--no-emulator", "--api-key", KEY, data_dir=tmp_path, tracking_links=False)
    try:
        feed = LineFeed(app.base_url, KEY)
        feed.post(feed.shift(), feed.placed("Q1"), feed.placed("Q2"), feed.placed("Q3"))
        deadline = time.monotonic() + 30
        while requests.get(app.base_url + "/api/live/order/token-Q3-0123456789", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB")
        page.goto(app.base_url + "/track/token-Q3-0123456789")
        page.wait_for_selector(".freshness.live", timeout=20_000)
        en = texts("en")
        page.get_by_text(en["ahead"].format(n=2)).wait_for(timeout=10_000)
        feed.post(feed.entered("Q1", "kitting"))  # the first order starts: one fewer ahead of Q3
        page.get_by_text(en["ahead_one"]).wait_for(timeout=20_000)
        feed.post(feed.entered("Q2", "kitting"))
        page.wait_for_function("() => !document.body.innerText.includes('ahead of yours')", timeout=20_000)
    finally:
        app.stop()
