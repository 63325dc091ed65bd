"""ETA: ranges from what recent units took, anchored where this unit is, with the reason for a slip."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from factory.eta import ALWAYS_OPEN, _backlog_range, _busy_gap_s, _widening, estimate
from factory.projector import apply
from factory.state import UnitState, Visit, empty_state
from streams import events as ev
from support import T0, EventFactory


def _finished_units(events, n, minutes_from_kitting, offset=0, every=10):
    """n units that each took the given minutes from entering kitting to completion, and shipped 30 min later."""
    out = []
    for i in range(n):
        unit = f"D{i}"
        start = offset + every * i
        out += [
            events.placed(start, unit),
            events.entered(start, unit, "kitting"),
            events.exited(start + 1, unit, "kitting"),
            events.completed(start + minutes_from_kitting[i], unit),
            ev.UnitShipped(
                **events._env(start + minutes_from_kitting[i] + 30),
                unit_code=unit,
                line_id="ac1",
                shipment_id="T",
                carrier="RRS Logistics",
                estimated_delivery="2026-03-05",
            ),
        ]
    return out


def test_a_unit_at_kitting_gets_the_spread_of_recent_units(plant):
    events = EventFactory()
    spans = [40, 42, 44, 46, 48, 50, 52, 54, 56]  # minutes, kitting entry -> completion
    state = empty_state(plant)
    for e in [
        *_finished_units(events, len(spans), spans),
        events.placed(200, "U1"),
        events.entered(201, "U1", "kitting"),
    ]:
        apply(state, e)
    eta = estimate(state, plant.line("ac1"), state.units["U1"], 0)
    entered = T0 + timedelta(minutes=201)
    # deciles of 40..56 step 2 (inclusive method, position 8p): 10th = 41.6, median = 48, 90th = 54.4
    # minutes; nine samples give four sequential checks, too few to widen by (factor 1).
    assert eta["finish"] == (
        entered + timedelta(minutes=41, seconds=36),
        entered + timedelta(minutes=48),
        entered + timedelta(minutes=54, seconds=24),
    )
    assert eta["ship"][1] == entered + timedelta(minutes=78)  # + the recent median 30 min at the dock
    assert eta["reason"] is None and eta["basis"] == "last 9 units of this line"


def test_durations_are_open_time_so_a_friday_evening_unit_finishes_on_monday(plant):
    """Camden (rf2's calendar): Day 06:00 and Swing 14:30 ET, Monday to Friday, breaks 2 h and 4 h in."""
    events = EventFactory(line_id="rf2")
    state = empty_state(plant)
    # T0 is Monday 2026-03-02 03:00 EST; minute 6240 is Friday 11:00 EST. Nine units each take
    # 60 open minutes (11:00-12:40, no stop in between); U1 enters kitting Friday 22:00 (minute 6900).
    for e in [
        *_finished_units(events, 9, [60] * 9, offset=6240, every=5),
        events.placed(6899, "U1"),
        events.entered(6900, "U1", "kitting"),
    ]:
        apply(state, e)
    eta = estimate(state, plant.line("rf2"), state.units["U1"], 0, plant.open_clock("rf2"))
    # 30 min to the 22:30 end of the Swing shift; Monday 06:00 maintenance until 06:15; 30 min more.
    monday = datetime(2026, 3, 9, 10, 45, tzinfo=UTC)  # 06:45 EDT (daylight saving began on Sunday)
    assert eta["finish"] == (monday, monday, monday)


def test_a_unit_in_the_backlog_waits_a_gap_per_unit_ahead_and_the_spreads_add():
    # gaps 2,4,2,4,2,4: mean 3, variance 6/5; spans 40..56 step 2: median 48, variance 240/8 = 30.
    # Three ahead: 4 gaps + a span = 60; sd = sqrt(4 x 1.2 + 30) = 5.89915; P10/P90 = 60 -/+ 1.2816 sd.
    low, mid, high = _backlog_range([40, 42, 44, 46, 48, 50, 52, 54, 56], [2, 4, 2, 4, 2, 4], 3, 1.0)
    assert mid == 60
    assert low == pytest.approx(60 - 1.2816 * math.sqrt(34.8), abs=1e-9)
    assert high == pytest.approx(60 + 1.2816 * math.sqrt(34.8), abs=1e-9)
    assert _backlog_range([40, 42, 44, 46, 48, 50, 52, 54, 56], [2, 4, 2, 4, 2, 4], 3, 2.0)[2] == pytest.approx(
        60 + 2 * 1.2816 * math.sqrt(34.8), abs=1e-9
    )


def test_the_range_widens_or_narrows_by_how_it_would_have_done_on_recent_units():
    base = [10, 20, 30, 40, 50]  # P10 14, median 30, P90 46
    # Each later unit took the median: every check needed nothing, so the range halves (the floor).
    assert _widening([*base, 30, 30, 30, 30, 30], lag=0) == 0.5
    # The fifth check: spans before it sorted 10,20,30,30,30,30,30,40,50 give median 30 and P90
    # 40 + 0.2 x 10 = 42; 78 needed (78 - 30) / 12 = 4 half-widths. Needs 0,0,0,0,4: 80th
    # percentile (inclusive) 0 + 0.2 x 4 = 0.8.
    assert _widening([*base, 30, 30, 30, 30, 78], lag=0) == pytest.approx(0.8, abs=1e-12)
    # Fewer than five checks: no evidence either way.
    assert _widening([*base, 30, 30, 30, 78], lag=0) == 1.0


def test_a_breakdown_on_the_way_is_the_reason(plant):
    events = EventFactory()
    state = empty_state(plant)
    for e in [
        *_finished_units(events, 6, [50] * 6),
        events.placed(200, "U1"),
        events.entered(201, "U1", "kitting"),
        ev.MachineDown(
            **events._env(202),
            line_id="ac1",
            station_id="leak_test",
            machine=1,
            reason_code="SENS",
            reason="Sensor fault",
        ),
    ]:
        apply(state, e)
    eta = estimate(state, plant.line("ac1"), state.units["U1"], 0)
    assert eta["reason"] == {
        "code": "station_down",
        "station": "leak_test",
        "since": "2026-03-02T11:22:00.000Z",
        "reason_code": "SENS",
    }


def test_without_history_standard_times_are_used(plant):
    events = EventFactory()
    state = empty_state(plant)
    for e in [events.placed(0, "U1"), events.entered(1, "U1", "kitting")]:
        apply(state, e)
    eta = estimate(state, plant.line("ac1"), state.units["U1"], 0)
    standard = sum(s.cycle_s for s in plant.line("ac1").stations)
    assert eta["finish"][1] == T0 + timedelta(minutes=1, seconds=standard) and eta["basis"] == "standard times"
    assert eta["ship"] is None


def test_the_estimate_is_never_in_the_past(plant):
    events = EventFactory()
    state = empty_state(plant)
    for e in [
        *_finished_units(events, 6, [50] * 6),
        events.placed(200, "U1"),
        events.entered(201, "U1", "kitting"),
        events.placed(400, "U2"),
    ]:  # clock moves to 400
        apply(state, e)
    eta = estimate(state, plant.line("ac1"), state.units["U1"], 0)
    assert all(t >= T0 + timedelta(minutes=400) for t in eta["finish"])


def test_a_busy_line_s_pace_is_its_slowest_station_s_work_over_its_machines(plant):
    """Five recent units: brazing (2 machines) worked 200 s each, vacuum charge (2) 100 s, kitting (1) 60 s."""
    line = plant.line("ac1")
    recent = []
    for i in range(5):
        t = T0 + timedelta(hours=i)
        unit = UnitState(unit_code=f"D{i}", line_id="ac1", completed_at=t + timedelta(hours=1))
        for station, seconds in (("kitting", 60), ("brazing", 200), ("vacuum_charge", 100)):
            unit.visits[(station, 1)] = Visit(station, 1, entered=t, work_done=t + timedelta(seconds=seconds))
        recent.append(unit)
    assert _busy_gap_s(recent, line, ALWAYS_OPEN) == 100.0  # brazing: 200 s / 2 machines
    assert _busy_gap_s(recent[:4], line, ALWAYS_OPEN) is None  # fewer than five measured units
