"""Events in, state out: hand-made sequences, and convergence under duplicates and reordering."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from factory.derive import line_members, position
from factory.projector import apply
from factory.state import empty_state
from factory.views import floor_view
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev
from support import EventFactory


def fold(plant, events):
    state = empty_state(plant)
    for event in events:
        apply(state, event)
    return state


def comparable(state):
    state.events_applied = 0  # the only field that counts deliveries rather than facts
    return state


def where(state, plant, unit):
    p = position(state.units[unit], tuple(s.id for s in plant.line("ac1").stations))
    assert p == state.units[unit].position  # the projection keeps it current
    return p.kind, p.station_id


def test_a_unit_moves_through_queue_station_and_completion(plant, events):
    state = fold(plant, [events.placed(0, "U1")])
    assert where(state, plant, "U1") == ("queued", "kitting")
    apply(state, events.entered(1, "U1", "kitting"))
    assert where(state, plant, "U1") == ("at", "kitting")
    apply(state, events.exited(2, "U1", "kitting"))
    assert where(state, plant, "U1") == ("queued", "sheet_metal")
    apply(state, events.entered(2, "U1", "sheet_metal"))  # same instant as the exit: the later station wins
    assert where(state, plant, "U1") == ("at", "sheet_metal")
    apply(state, events.exited(4, "U1", "loading"))
    apply(state, events.completed(4, "U1"))
    assert where(state, plant, "U1") == ("completed", None)
    assert state.lines["ac1"].completed == 1 and state.lines["ac1"].active == set()


def test_rework_sends_the_unit_to_the_bay_then_back(plant, events):
    state = fold(
        plant,
        [
            events.placed(0, "U1"),
            events.entered(1, "U1", "leak_test"),
            events.exited(2, "U1", "leak_test"),
            ev.ReworkRouted(
                **events._env(2),
                unit_code="U1",
                line_id="ac1",
                station_id="leak_test",
                defect_code="leak_rate_high",
                reenter_at="vacuum_charge",
            ),
        ],
    )
    assert where(state, plant, "U1") == ("rework", "vacuum_charge")
    apply(state, events.entered(30, "U1", "vacuum_charge", visit=2))
    assert where(state, plant, "U1") == ("at", "vacuum_charge")


def test_floor_view_counts_wip_as_released_and_unfinished(plant, events):
    state = fold(
        plant,
        [
            events.placed(0, "U1"),
            events.placed(0, "U2"),
            events.placed(0, "U3"),
            events.entered(1, "U1", "kitting"),
            events.exited(2, "U1", "kitting"),
            events.entered(2, "U2", "kitting"),
        ],
    )
    view = floor_view(state, plant, "ac1")
    by_id = {s["id"]: s for s in view["stations"]}
    assert by_id["kitting"]["units"] == ["U2"] and by_id["kitting"]["queue"] == 1  # U3 not released
    assert by_id["sheet_metal"]["queue"] == 1  # U1 waits in front of sheet metal
    assert (view["wip"], view["backlog"]) == (2, 1)


def test_events_for_unknown_lines_change_nothing(plant):
    stray = EventFactory(line_id="zz9")
    state = fold(plant, [stray.entered(1, "ghost", "kitting"), stray.completed(2, "ghost")])
    assert state.units == {}


def test_a_unit_whose_order_arrives_last_is_still_tracked(plant, events):
    placed = events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa")
    state = fold(plant, [events.entered(1, "U1", "kitting"), placed])
    assert where(state, plant, "U1") == ("at", "kitting") and state.unit_by_token["tok-U1-aaaaaaaaaaaa"] == "U1"


def _status(view, station):
    s = next(s for s in view["stations"] if s["id"] == station)
    return s["status"], s["since"][11:16] if s["since"] else None


def test_station_states_follow_work_blocking_stops_breakdowns_and_setups(plant, events):
    def line_event(cls, minute, **data):
        return cls(**events._env(minute), line_id="ac1", **data)

    state = fold(plant, [events.placed(0, "U1"), events.entered(1, "U1", "kitting")])
    view = lambda: floor_view(state, plant, "ac1")  # noqa: E731
    assert _status(view(), "kitting") == ("running", "08:01")
    assert _status(view(), "sheet_metal")[0] == "starved"  # open line, nothing to do

    apply(
        state,
        ev.StationWorkDone(
            **events._env(2), unit_code="U1", line_id="ac1", station_id="kitting", work_s=60.0, ideal_s=38.0
        ),
    )
    assert _status(view(), "kitting") == ("blocked", "08:02")  # done, but not let go

    apply(state, events.exited(3, "U1", "kitting"))
    assert _status(view(), "kitting") == ("starved", "08:03")

    apply(state, line_event(ev.PlannedStopStarted, 4, kind="break", reason="Meal", planned_s=1800.0))
    assert _status(view(), "kitting") == ("idle", "08:04") and view()["planned_stop"] == "Meal"
    apply(state, line_event(ev.PlannedStopEnded, 34, kind="break"))
    assert _status(view(), "kitting")[0] == "starved" and view()["planned_stop"] is None

    apply(state, line_event(ev.MachineDown, 35, station_id="brazing", machine=2, reason_code="GAS", reason="Gas"))
    assert _status(view(), "brazing") == ("down", "08:35")
    assert next(s for s in view()["stations"] if s["id"] == "brazing")["down_reason"] == "Gas"
    apply(state, line_event(ev.MachineUp, 50, station_id="brazing", machine=2, reason_code="GAS", down_s=900.0))
    assert _status(view(), "brazing") == ("starved", "08:50")

    apply(
        state,
        line_event(
            ev.ChangeoverStarted,
            51,
            station_id="sheet_metal",
            option="panel",
            from_choice="white",
            to_choice="graphite",
        ),
    )
    assert _status(view(), "sheet_metal") == ("changeover", "08:51")
    apply(state, line_event(ev.ChangeoverFinished, 52, station_id="sheet_metal", duration_s=15.0))
    apply(state, events.placed(53, "U2"))
    apply(state, events.entered(54, "U2", "kitting"))
    apply(state, line_event(ev.ShiftEnded, 60, shift="Early"))
    assert _status(view(), "sheet_metal") == ("idle", "09:00")
    assert _status(view(), "kitting") == ("idle", "09:00")  # U2 waits on the station for the next shift
    apply(state, line_event(ev.ShiftStarted, 60, shift="Late", planned_end="2026-03-02T17:00:00.000Z"))
    assert _status(view(), "kitting")[0] == "running"  # one shift ends as the next begins


_RUN: list[ev.Event] = []


def _emulator_run(plant):
    if not _RUN:
        run_fast(PlantModel(plant, _RUN.append, datetime(2026, 3, 2, 1, 50, tzinfo=UTC), seed=5), 1800)
    return _RUN


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), duplicate_share=st.floats(min_value=0, max_value=0.5))
def test_any_order_with_duplicates_converges_to_the_same_state(plant, seed, duplicate_share):
    """Half an hour of the real plant (with a break starting), shuffled and partly redelivered."""
    run = _emulator_run(plant)
    rng = random.Random(seed)
    delivered = run + [e for e in run if rng.random() < duplicate_share]
    rng.shuffle(delivered)
    assert comparable(fold(plant, delivered)) == comparable(fold(plant, run))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), changed_share=st.floats(min_value=0, max_value=0.3))
def test_the_kept_latest_fact_gives_the_position_all_facts_give(plant, seed, changed_share):
    """Positions are kept from the latest fact as facts arrive; reading every fact must agree
    (every 25 events and at the end), also when facts come late, twice, or again with another time."""
    rng = random.Random(seed)
    run = _emulator_run(plant)
    moves = (ev.StationEntered, ev.StationExited, ev.StationWorkDone)
    again = [
        dataclasses.replace(e, id=f"{e.id}-again", time=e.time + timedelta(seconds=rng.choice([-90, -1, 0, 1, 90])))
        for e in run
        if isinstance(e, moves) and rng.random() < changed_share
    ]
    delivered = run + again
    rng.shuffle(delivered)
    state = empty_state(plant)
    stations = {line.id: tuple(s.id for s in line.stations) for line in plant.lines}
    for n, event in enumerate(delivered):
        apply(state, event)
        if n % 25 == 0 or n == len(delivered) - 1:
            for unit in state.units.values():
                if unit.position is not None:  # None: only facts that do not move it (a check, a part) so far
                    assert unit.position == position(unit, stations[unit.line_id]), unit.unit_code


def test_the_converged_state_gives_the_same_views(plant):
    run = _emulator_run(plant)
    shuffled = list(run)
    random.Random(9).shuffle(shuffled)
    a, b = fold(plant, run), fold(plant, shuffled)
    for line in plant.lines:
        assert floor_view(a, plant, line.id) == floor_view(b, plant, line.id)
        assert {k: [x[1] for x in m.at] for k, m in line_members(a, line.id).items()} == {
            k: [x[1] for x in m.at] for k, m in line_members(b, line.id).items()
        }


def test_an_event_about_a_unit_of_another_line_changes_nothing(plant, events):
    state = fold(plant, [events.placed(0, "U1"), events.entered(1, "U1", "kitting")])
    stray = EventFactory(line_id="wm1").entered(2, "U1", "cabinet")
    before = comparable(fold(plant, [events.placed(0, "U1"), events.entered(1, "U1", "kitting")]))
    assert comparable(apply(state, stray)).units == before.units


def test_finished_units_leave_the_live_state_an_hour_after_shipping(plant, events):
    from datetime import timedelta

    from factory.projector import evict

    e = events
    shipped = ev.UnitShipped(
        **e._env(30), unit_code="U1", line_id="ac1", shipment_id="S1", carrier="RRS", estimated_delivery="2026-03-05"
    )
    state = fold(
        plant,
        [
            e.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"),
            e.entered(1, "U1", "kitting"),
            e.completed(20, "U1"),
            shipped,
            e.placed(40, "U2"),
        ],
    )
    assert evict(state, shipped.time + timedelta(minutes=59)) == 0
    assert evict(state, shipped.time + timedelta(minutes=61)) == 1
    assert "U1" not in state.units and "tok-U1-aaaaaaaaaaaa" not in state.unit_by_token
    assert "U1" in state.lines["ac1"].recent  # kept for the ETA of the units after it
