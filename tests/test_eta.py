"""ETA: ranges from what recent units took, anchored where this unit is, with the reason for a slip."""

from __future__ import annotations

from datetime import timedelta

from factory.eta import estimate
from factory.projector import apply
from factory.state import empty_state
from streams import events as ev
from support import T0, EventFactory


def _finished_units(events, n, minutes_from_kitting):
    """n units that each took the given minutes from entering kitting to completion, and shipped 30 min later."""
    out = []
    for i in range(n):
        unit = f"D{i}"
        start = 10 * i
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
    spans = [40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60]  # minutes, kitting entry -> completion
    state = empty_state(plant)
    for e in [
        *_finished_units(events, len(spans), spans),
        events.placed(200, "U1"),
        events.entered(201, "U1", "kitting"),
    ]:
        apply(state, e)
    eta = estimate(state, plant.line("ac1"), state.units["U1"], 0)
    entered = T0 + timedelta(minutes=201)
    # deciles of 40..60 step 2 (inclusive method): 10th = 42, median = 50, 90th = 58 minutes
    assert eta["finish"] == (
        entered + timedelta(minutes=42),
        entered + timedelta(minutes=50),
        entered + timedelta(minutes=58),
    )
    assert eta["ship"][1] == entered + timedelta(minutes=80)  # + the recent median 30 min at the dock
    assert eta["reason"] is None and eta["basis"] == "last 11 units of this line"


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
