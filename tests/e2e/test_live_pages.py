"""A unit visibly moves on the floor screen and on its customer's tracker, in real Chromium."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_the_app_serves_the_floor_and_a_tracking_link_once_started(live_app):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(live_app.base_url + "/login").status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    assert requests.get(live_app.tracking_urls[0]).status_code == 200
    assert requests.get(live_app.base_url + "/ready").status_code == 200


def test_a_unit_changes_station_on_the_floor(browser, live_app, screenshots):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(live_app.kiosk_url)  # signs this browser in as a wall screen
    page.goto(live_app.base_url + "/floor?line=ac1")
    page.wait_for_selector(".freshness.live")
    chip = page.locator(".station-tile .unit-chip").first
    unit = chip.get_attribute("title")
    tile = page.locator(".station-tile", has=page.locator(f'.unit-chip[title="{unit}"]'))
    before = tile.get_attribute("data-station")
    page.wait_for_function(
        """([unit, before]) => {
             const chip = document.querySelector(`.unit-chip[title="${unit}"]`);
             return !chip || chip.closest('.station-tile').dataset.station !== before;
           }""",
        arg=[unit, before],
        timeout=120_000,
    )
    page.screenshot(path=str(screenshots / "floor.png"))
    page.close()


def test_a_unit_changes_station_on_its_tracker(browser, live_app, screenshots):
    page = browser.new_page(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, accept_downloads=True
    )
    page.goto(live_app.tracking_urls[0])
    page.wait_for_selector(".freshness.live")
    done_before = page.locator(".step-done").count()
    page.wait_for_function(  # the unit leaves a station: one more step is done, pushed live
        "(n) => document.querySelectorAll('.step-done').length > n", arg=done_before, timeout=120_000
    )
    page.screenshot(path=str(screenshots / "tracker.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Download CSV")
    path = download.value.path()
    assert download.value.suggested_filename.startswith("test-report-")
    with open(path, encoding="utf-8") as f:
        assert "measurement" in f.read()
    page.close()


def test_unknown_tracking_link_shows_not_found(browser, live_app):
    page = browser.new_page()
    response = page.goto(live_app.base_url + "/track/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status == 404
    page.wait_for_selector("text=Page not found")
    page.close()


def test_the_floor_asks_anonymous_visitors_to_sign_in(browser, live_app):
    page = browser.new_page()
    page.goto(live_app.base_url + "/floor?line=ac1")
    assert page.url.startswith(live_app.base_url + "/login")
    page.fill("input[name=user]", "nobody")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=User or password is wrong.")
    page.close()


def test_a_customer_leaves_feedback_from_the_tracker(browser, live_app):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(live_app.tracking_urls[1])
    page.wait_for_selector(".freshness.live")  # the page has settled: what is typed now stays typed
    page.select_option("select[name=rating]", "4")
    page.fill("textarea[name=comment]", "Great to see it being built")
    with page.expect_navigation():
        page.click("text=Send")
    assert "thanks=1" in page.url, page.content()[:500]  # the form post answered 303 to the thanked tracker
    page.wait_for_selector("text=Your feedback reached the factory.")
    page.close()


def test_the_customer_s_time_lapse_plays_the_unit_through_its_stations_in_order(browser, live_app, screenshots):
    tracker = live_app.tracking_urls[0]
    journey_url = tracker.replace("/track/", "/api/orders/").split("?")[0] + "/journey"
    deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
    while len(requests.get(journey_url, timeout=30).json()["visits"]) < 3:
        assert time.monotonic() < deadline, "the unit did not get through three stations"
        time.sleep(0.5)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(tracker.split("?")[0] + "/replay")
    page.wait_for_selector(".stepper")
    page.wait_for_function("() => (document.querySelector('.stepper').dataset.played || '').split(',').length >= 3")
    page.wait_for_function("() => document.querySelector('.stepper').dataset.playing === ''", timeout=60_000)
    played = page.evaluate("() => document.querySelector('.stepper').dataset.played.split(',')")
    # What the page fetched is a prefix of the journey now (the unit may have gone on since).
    assert played == _frames(requests.get(journey_url, timeout=30).json())[: len(played)]
    assert page.locator("#journey-log li").count() >= 3
    page.screenshot(path=str(screenshots / "journey.png"), full_page=True)
    page.close()


def _frames(journey: dict) -> list[str]:
    """The stations a time-lapse shows, in order: each visit, and a rework right after the visit it followed."""
    out, reworks = [], list(journey["reworks"])
    for visit in journey["visits"]:
        out.append(visit["station"])
        while reworks and (visit["exited"] is None or reworks[0]["time"] <= visit["exited"]):
            out.append(reworks.pop(0)["station"])
    return out + [r["station"] for r in reworks]
