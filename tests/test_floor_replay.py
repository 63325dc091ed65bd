"""The floor at a past moment: a replay shows exactly what the events up to that moment show.

Reference: a fresh fold of every stored event up to the moment (no checkpoint), the definition
of the state at a time. The replay takes the latest checkpoint before it and the events after.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_history_contract import same

from factory.history import open_history
from factory.history.writer import Recorder
from factory.operations import OperationsState
from factory.projector import apply
from factory.state import empty_state
from factory.validation import PlantCheck
from factory.views import floor_view
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams.codec import format_time
from streams.memory import MemoryBus
from support import API_KEY, PASSWORD, add_user, client_as, layout_text
from web.push.queries import mark_alarms
from web.push.replay import FloorReplay

T = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 at the Chinese sites
HOURS = 6


@pytest.fixture(scope="module")
def recorded(plant):
    """Six hours of the enterprise in a history with a checkpoint every hour of event time."""
    events: list = []
    run_fast(PlantModel(plant, events.append, T, seed=11), HOURS * 3600)
    bus = MemoryBus()
    bus.publish_many(events)
    history = open_history(None, plant)
    recorder = Recorder(history, {"events": bus}, checkpoint_every=timedelta(hours=1))
    while recorder.step():
        pass
    assert len(history.query("SELECT time FROM checkpoints")) >= HOURS - 1
    yield history, events
    history.close()


def reference(history, plant, line_id: str, at: datetime) -> dict:
    state, check = empty_state(plant), PlantCheck(plant, window=timedelta(days=3650))
    for event in history.replay(end=at + timedelta(milliseconds=1)):
        if check.admit(event) is None:
            apply(state, event)
    view = floor_view(state, plant, line_id)
    mark_alarms(view, OperationsState(), line_id, at)
    return view


def shown(view: dict) -> dict:
    """What the floor draws from the stream (the KPI tiles come from the history's sums either way)."""
    return {k: v for k, v in view.items() if k not in ("kpis", "replay")}


def moments(events) -> list[datetime]:
    ac1 = [e.time for e in events if getattr(e, "line_id", None) == "ac1"]
    return [
        T + timedelta(minutes=7),  # before the first checkpoint
        T + timedelta(hours=2, minutes=31, seconds=17.25),  # between checkpoints
        ac1[len(ac1) // 2],  # exactly at an event of the line: its own event is in
        T + timedelta(hours=HOURS) - timedelta(seconds=1),
    ]


def test_a_seek_shows_what_the_events_up_to_that_moment_show(recorded, plant):
    history, events = recorded
    for at in moments(events):
        for line_id in ("ac1", "rf1"):
            replayed = FloorReplay(plant, history).view(line_id, at)
            assert sum(len(s["units"]) for s in replayed["stations"]) > 0  # a line at work, not two empty views
            same(shown(replayed), shown(reference(history, plant, line_id, at)), f"{line_id}@{at}")
            assert replayed["replay"]["at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
            assert replayed["kpis"]["to"] == replayed["replay"]["at"]


def test_playing_forward_and_back_agrees_with_a_fresh_seek(recorded, plant):
    history, _events = recorded
    player = FloorReplay(plant, history)
    at = T + timedelta(hours=1, minutes=50)
    player.view("ac1", at)
    for step in (timedelta(seconds=1), timedelta(minutes=3), timedelta(hours=1), -timedelta(minutes=40)):
        at += step
        same(shown(player.view("ac1", at)), shown(FloorReplay(plant, history).view("ac1", at)), str(at))


def test_steps_go_to_the_line_s_previous_and_next_event(recorded, plant):
    history, events = recorded
    at = T + timedelta(hours=3, seconds=0.5)
    ac1 = sorted(e.time for e in events if getattr(e, "line_id", None) == "ac1")
    view = FloorReplay(plant, history).view("ac1", at)
    assert view["replay"]["previous"] == format_time(max(t for t in ac1 if t < at))
    assert view["replay"]["next"] == format_time(min(t for t in ac1 if t > at))
    first = FloorReplay(plant, history).view("ac1", ac1[0])
    assert first["replay"]["previous"] is None


# --- the API ----------------------------------------------------------------------------------


def test_the_api_replays_for_managers_and_keys_only(factory):
    at = "2026-03-02T08:01:00Z"  # the fixture's orders: placed at 08:00, UA entered kitting at 08:01
    manager = client_as(factory, "mia").get(f"/api/floor/ac1?at={at}")
    assert manager.status_code == 200, manager.get_json()
    view = manager.get_json()
    kitting = next(s for s in view["stations"] if s["id"] == "kitting")
    assert kitting["units"] == ["UA"] and view["replay"]["at"] == "2026-03-02T08:01:00.000Z"
    before = client_as(factory, "mia").get("/api/floor/ac1?at=2026-03-02T08:00:30Z").get_json()
    assert next(s for s in before["stations"] if s["id"] == "kitting")["units"] == []  # UA had not entered yet
    keyed = factory.dash_app.server.test_client().get(
        f"/api/floor/ac1?at={at}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert keyed.status_code == 200
    assert client_as(factory).get(f"/api/floor/ac1?at={at}").status_code == 401
    assert client_as(factory, "wall").get(f"/api/floor/ac1?at={at}").status_code == 403  # a wall screen shows now
    add_user(factory, "sam", "manager", PASSWORD, site="shenyang")
    assert client_as(factory, "sam").get(f"/api/floor/ac1?at={at}").status_code == 403  # another site's line


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("?at=2026-03-01T08:00:00Z", 400, "outside_history"),
        ("?at=2027-01-01T00:00:00Z", 400, "outside_history"),
        ("?at=yesterday", 400, None),
        ("", 400, None),
    ],
)
def test_the_api_refuses_moments_it_cannot_show(factory, query, status, code):
    answer = client_as(factory, "mia").get(f"/api/floor/ac1{query}")
    assert answer.status_code == status
    if code:
        assert answer.get_json()["error"] == code
    assert client_as(factory, "mia").get("/api/floor/nope?at=2026-03-02T08:01:00Z").status_code == 404


def test_the_page_replays_for_managers_and_not_for_wall_screens(factory):
    search = "?line=ac1&at=2026-03-02T08:01:00Z"
    manager = layout_text(factory, "/floor", search, client_as(factory, "mia"))
    assert "replay-bar" in manager and "Back to live" in manager and "2026-03-02T08:01:00.000Z" in manager
    assert "Replay…" in layout_text(factory, "/floor", "?line=ac1", client_as(factory, "mia"))  # the way in
    wall = layout_text(factory, "/floor", search, client_as(factory, "wall"))
    assert "Sign in to see this page" in wall and "replay-bar" not in wall
    assert "Page not found" in layout_text(factory, "/floor", "?line=ac1&at=not-a-time", client_as(factory, "mia"))
