"""Events in, state out: hand-made sequences whose right answer is obvious."""
from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from support import EventFactory
from factory.projector import apply
from factory.state import empty_state
from factory.views import floor_view


def fold(plant, events):
    state = empty_state(plant)
    for event in events:
        apply(state, event)
    return state


def test_a_unit_moves_through_queue_station_and_completion(plant, events):
    placed = events.placed(0, "U1")
    state = fold(plant, [placed])
    line = state.lines["ac1"]
    assert line.stations["kitting"].queue == ["U1"] and state.units["U1"].status == "ordered"

    apply(state, events.entered(1, "U1", "kitting"))
    assert line.stations["kitting"].units == ["U1"] and line.stations["kitting"].queue == []
    assert state.units["U1"].status == "in_production"

    apply(state, events.exited(2, "U1", "kitting"))
    assert line.stations["kitting"].units == [] and line.stations["sheet_metal"].queue == ["U1"]

    apply(state, events.entered(3, "U1", "sheet_metal"))
    assert state.units["U1"].station_id == "sheet_metal" and line.stations["sheet_metal"].queue == []

    apply(state, events.exited(4, "U1", "loading"))
    apply(state, events.completed(4, "U1"))
    assert state.units["U1"].status == "completed" and line.completed == 1
    assert all(not s.units and not s.queue for s in line.stations.values())


def test_floor_view_counts_wip_as_released_and_unfinished(plant, events):
    state = fold(plant, [
        events.placed(0, "U1"), events.placed(0, "U2"), events.placed(0, "U3"),
        events.entered(1, "U1", "kitting"), events.exited(2, "U1", "kitting"),
        events.entered(2, "U2", "kitting"),
    ])
    view = floor_view(state, plant, "ac1")
    by_id = {s["id"]: s for s in view["stations"]}
    assert by_id["kitting"]["units"] == ["U2"] and by_id["kitting"]["queue"] == 1  # U3 not released
    assert by_id["sheet_metal"]["queue"] == 1  # U1 waits in front of sheet metal
    assert view["wip"] == 2


def test_events_for_unknown_units_or_lines_change_nothing(plant, events):
    state = fold(plant, [events.entered(1, "ghost", "kitting"), events.completed(2, "ghost")])
    assert state.units == {} and all(not s.units for s in state.lines["ac1"].stations.values())


def _journey(events, unit):
    seq = [events.placed(0, unit)]
    for i, station in enumerate(["kitting", "sheet_metal", "brazing"]):
        seq += [events.entered(1 + 2 * i, unit, station), events.exited(2 + 2 * i, unit, station)]
    return seq + [events.entered(7, unit, "assembly")]


def _summary(state):
    return (
        {code: (u.station_id, u.queued_for, u.status, [(v.station_id, v.entered, v.exited) for v in u.visits])
         for code, u in state.units.items()},
        {sid: (list(s.units), list(s.queue)) for sid, s in state.lines["ac1"].stations.items()},
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=20))
def test_duplicates_converge_to_the_same_state(plant, picks):
    events = EventFactory()
    journey = _journey(events, "U1") + _journey(events, "U2")
    with_duplicates = list(journey)
    for p in picks:
        event = journey[p % len(journey)]
        with_duplicates.insert(with_duplicates.index(event) + 1, event)  # redeliver right after the original
    assert _summary(fold(plant, with_duplicates)) == _summary(fold(plant, journey))


def test_replaying_the_whole_stream_changes_nothing(plant, events):
    journey = _journey(events, "U1")
    once = fold(plant, journey)
    twice = fold(plant, journey + journey)
    assert _summary(once) == _summary(twice)
    assert twice.lines["ac1"].completed == once.lines["ac1"].completed


def test_random_redelivery_of_an_emulator_run_is_harmless(plant):
    from datetime import datetime, timezone

    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast

    out = []
    run_fast(PlantModel(plant, out.append, datetime(2026, 3, 2, tzinfo=timezone.utc), seed=5), 2 * 3600)
    rng = random.Random(1)
    redelivered = []
    for event in out:
        redelivered.append(event)
        if rng.random() < 0.1:
            redelivered.append(event)
    assert _summary(fold(plant, redelivered)) == _summary(fold(plant, out))


def _status(state, station):
    s = state.lines["ac1"].stations[station]
    return s.status, s.since.strftime("%H:%M") if s.since else None


def test_station_states_follow_work_blocking_stops_breakdowns_and_setups(plant, events):
    from streams import events as ev

    def line_event(cls, minute, **data):
        return cls(**events._env(minute), line_id="ac1", **data)

    state = fold(plant, [events.placed(0, "U1"), events.entered(1, "U1", "kitting")])
    assert _status(state, "kitting") == ("running", "08:01")
    assert _status(state, "sheet_metal") == ("starved", "08:00")  # open line, nothing to do

    apply(state, ev.StationWorkDone(**events._env(2), unit_code="U1", line_id="ac1", station_id="kitting",
                                    work_s=60.0, ideal_s=38.0))
    assert _status(state, "kitting") == ("blocked", "08:02")  # done, but not let go

    apply(state, events.exited(3, "U1", "kitting"))
    assert _status(state, "kitting") == ("starved", "08:03")

    apply(state, line_event(ev.PlannedStopStarted, 4, kind="break", reason="Meal", planned_s=1800.0))
    assert _status(state, "kitting") == ("idle", "08:04") and state.lines["ac1"].planned_stop == "Meal"
    apply(state, line_event(ev.PlannedStopEnded, 34, kind="break"))
    assert _status(state, "kitting") == ("starved", "08:34")

    apply(state, line_event(ev.MachineDown, 35, station_id="brazing", machine=2, reason_code="GAS", reason="Gas"))
    assert _status(state, "brazing") == ("down", "08:35")
    assert state.lines["ac1"].stations["brazing"].down_reason == "Gas"
    apply(state, line_event(ev.MachineUp, 50, station_id="brazing", machine=2, reason_code="GAS", down_s=900.0))
    assert _status(state, "brazing") == ("starved", "08:50")

    apply(state, line_event(ev.ChangeoverStarted, 51, station_id="sheet_metal", option="panel",
                            from_choice="white", to_choice="graphite"))
    assert _status(state, "sheet_metal") == ("changeover", "08:51")
    apply(state, line_event(ev.ChangeoverFinished, 52, station_id="sheet_metal", duration_s=15.0))
    apply(state, events.placed(53, "U2"))
    apply(state, events.entered(54, "U2", "kitting"))
    apply(state, line_event(ev.ShiftEnded, 60, shift="Early"))
    assert _status(state, "sheet_metal") == ("idle", "09:00")
    assert _status(state, "kitting") == ("idle", "09:00")  # U2 waits on the station for the next shift
