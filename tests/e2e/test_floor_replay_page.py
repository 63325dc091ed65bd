"""The floor replay in real Chromium: seek to a past moment, step event by event, play, share the link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory.history import open_history
from factory.history.writer import Recorder
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams.memory import MemoryBus
from support import ROOT, RunningApp, offline_user

pytestmark = pytest.mark.e2e
T = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 at the Chinese sites


@pytest.fixture(scope="module")
def replay_app(tmp_path_factory):
    """An app over four recorded hours of the enterprise (checkpoints hourly), no live plant."""
    folder = tmp_path_factory.mktemp("replay")
    plant = load_plant(ROOT / "factory.yaml")
    events: list = []
    run_fast(PlantModel(plant, events.append, T, seed=8), 4 * 3600)
    bus = MemoryBus()
    bus.publish_many(events)
    history = open_history(folder / "history.duckdb", plant)
    recorder = Recorder(history, {"events": bus}, checkpoint_every=timedelta(hours=1))
    while recorder.step():
        pass
    history.close()
    offline_user(folder, "max", "manager", "max-password-1")
    app = RunningApp("--no-emulator", data_dir=folder, tracking_links=False)
    yield app
    app.stop()


CHIPS = (
    "() => Object.fromEntries([...document.querySelectorAll('.station-tile')]"
    ".map(t => [t.dataset.station, [...t.querySelectorAll('.unit-chip')].map(c => c.title)]))"
)


def test_a_manager_replays_the_floor_steps_and_plays(browser, replay_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    at = "2026-03-02T02:10:00.000Z"
    page.goto(f"{replay_app.base_url}/login?next=/floor?line=ac1%26at={at}")
    page.fill("input[name=user]", "max")
    page.fill("input[name=password]", "max-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector(".replay-bar")
    page.wait_for_function("() => document.querySelectorAll('.station-tile .unit-chip').length > 0")
    assert page.inner_text("#floor-status") == "Replay"
    # The tiles show what the history says the line held at that moment.
    view = page.evaluate(f"() => fetch('/api/floor/ac1?at={at}').then(r => r.json())")
    assert page.evaluate(CHIPS) == {s["id"]: s["units"] for s in view["stations"]}
    page.screenshot(path=str(screenshots / "floor-replay.png"))

    # One step: the line's next event, and the address bar says where the replay is.
    page.click("#replay-next")
    page.wait_for_function("t => new URL(location.href).searchParams.get('at') !== t", arg=at)
    stepped = page.evaluate("() => new URL(location.href).searchParams.get('at')")
    assert stepped == view["replay"]["next"]

    # Play at 3600×: an hour of the line a second.
    page.select_option("#replay-speed", "3600")
    page.click("#replay-play")
    page.wait_for_function(
        "t => Date.parse(new URL(location.href).searchParams.get('at')) - Date.parse(t) >= 30 * 60 * 1000",
        arg=stepped,
        timeout=30_000,
    )
    page.click("#replay-play")  # pause
    page.wait_for_timeout(1500)  # a load already under way lands first

    # The link is the moment: opened again, it shows the same floor.
    link = page.url
    shown = page.evaluate(CHIPS)
    again = browser.new_page(viewport={"width": 1600, "height": 1000})
    again.context.add_cookies(page.context.cookies())
    again.goto(link)
    again.wait_for_selector(".replay-bar")
    again.wait_for_function("() => document.querySelectorAll('.station-tile .unit-chip').length > 0")
    assert again.evaluate(CHIPS) == shown
    again.close()
    page.close()
