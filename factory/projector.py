"""apply(state, event) -> state: the one place events change what is known about the plant.

Handlers record facts and do no I/O. Each fact is keyed or a maximum, so duplicates change
nothing and events may arrive in any order: the state converges to the same value (tested with
Hypothesis). Where things are (which unit is at which station, what a station is doing) is
derived from these facts in :mod:`factory.derive`. The state is updated in place and returned:
copying the plant per event would cost more than the rest of the pipeline together.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from functools import singledispatch

from factory.state import Check, FactoryState, LineState, Machine, Rework, StationState, UnitState, Visit
from streams import events as ev


def apply(state: FactoryState, event: ev.Event) -> FactoryState:
    """Fold one event into ``state`` and return it."""
    _apply(event, state)
    state.events_applied += 1
    if state.last_event_time is None or event.time > state.last_event_time:
        state.last_event_time = event.time
    return state


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@singledispatch
def _apply(event: ev.Event, state: FactoryState) -> None:
    """Events this projection does not use change nothing."""


def _unit(state: FactoryState, event) -> UnitState | None:
    """Return the unit an event is about, creating it if this is the first word of it."""
    line = state.lines.get(event.line_id)
    if line is None:
        return None
    unit = state.units.get(event.unit_code)
    if unit is None:
        unit = state.units[event.unit_code] = UnitState(event.unit_code, event.line_id)
    if not unit.finished:
        line.active.add(unit.unit_code)
    return unit


def _station(state: FactoryState, event) -> StationState | None:
    line = state.lines.get(event.line_id)
    station = line.stations.get(event.station_id) if line is not None else None
    if station is not None:
        station.last_fact = _later(station.last_fact, event.time)
    return station


def _visit(state: FactoryState, event) -> Visit | None:
    unit = _unit(state, event)
    if unit is None or _station(state, event) is None:
        return None
    key = (event.station_id, event.visit)
    if key not in unit.visits:
        unit.visits[key] = Visit(event.station_id, event.visit)
    return unit.visits[key]


def _finish(state: FactoryState, unit: UnitState) -> None:
    state.lines[unit.line_id].active.discard(unit.unit_code)


@_apply.register
def _(event: ev.OrderPlaced, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is None or unit.order_id is not None:
        return
    unit.order_id, unit.tracking_token, unit.product = event.order_id, event.tracking_token, event.product
    unit.options, unit.placed_at = dict(event.options), event.time
    state.unit_by_token[event.tracking_token] = event.unit_code


_VISIT_FIELD = {ev.StationEntered: "entered", ev.StationWorkDone: "work_done", ev.StationExited: "exited"}


@_apply.register(ev.StationEntered)
@_apply.register(ev.StationWorkDone)
@_apply.register(ev.StationExited)
def _(event, state: FactoryState) -> None:
    visit = _visit(state, event)
    if visit is not None:
        setattr(visit, _VISIT_FIELD[type(event)], event.time)


@_apply.register
def _(event: ev.QualityChecked, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None:
        unit.checks[(event.station_id, event.visit)] = Check(
            event.station_id, event.visit, event.time, event.passed, event.measurements, event.defect_code
        )


@_apply.register
def _(event: ev.ReworkRouted, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None:
        unit.reworks[f"{event.source} {event.id}"] = Rework(
            event.time, event.station_id, event.reenter_at, event.defect_code
        )


@_apply.register
def _(event: ev.UnitCompleted, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is None or unit.completed_at is not None:
        return
    unit.completed_at = event.time
    line = state.lines[unit.line_id]
    line.completed += 1
    hour = event.time.replace(minute=0, second=0, microsecond=0)
    line.completed_by_hour[hour] = line.completed_by_hour.get(hour, 0) + 1
    bisect.insort(line.completed_log, (event.time, unit.unit_code))
    _finish(state, unit)


@_apply.register
def _(event: ev.UnitScrapped, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None and unit.scrapped_at is None:
        unit.scrapped_at = event.time
        _finish(state, unit)


@_apply.register
def _(event: ev.UnitShipped, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None:
        unit.shipped_at, unit.shipment_id = event.time, event.shipment_id
        unit.carrier, unit.estimated_delivery = event.carrier, event.estimated_delivery


def _machine(state: FactoryState, event) -> Machine | None:
    station = _station(state, event)
    if station is None:
        return None
    return station.machines.setdefault(event.machine, Machine())


@_apply.register
def _(event: ev.MachineDown, state: FactoryState) -> None:
    machine = _machine(state, event)
    # (time, reason) breaks a tie of two breakdowns at one instant the same way in any order
    if machine is not None and (
        machine.last_down is None or (event.time, event.reason) > (machine.last_down, machine.reason)
    ):
        machine.last_down, machine.reason = event.time, event.reason


@_apply.register
def _(event: ev.MachineUp, state: FactoryState) -> None:
    machine = _machine(state, event)
    if machine is not None:
        machine.last_up = _later(machine.last_up, event.time)


@_apply.register
def _(event: ev.ChangeoverStarted, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None:
        station.changeover_started = _later(station.changeover_started, event.time)


@_apply.register
def _(event: ev.ChangeoverFinished, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None:
        station.changeover_finished = _later(station.changeover_finished, event.time)


def _line(state: FactoryState, event) -> LineState | None:
    return state.lines.get(event.line_id)


@_apply.register
def _(event: ev.ShiftStarted, state: FactoryState) -> None:
    if (line := _line(state, event)) is not None:
        line.shift_started = _later(line.shift_started, event.time)


@_apply.register
def _(event: ev.ShiftEnded, state: FactoryState) -> None:
    if (line := _line(state, event)) is not None:
        line.shift_ended = _later(line.shift_ended, event.time)


@_apply.register
def _(event: ev.PlannedStopStarted, state: FactoryState) -> None:
    line = _line(state, event)
    if line is not None and (
        line.stop_started is None or (event.time, event.reason) > (line.stop_started, line.stop_reason)
    ):
        line.stop_started, line.stop_reason = event.time, event.reason


@_apply.register
def _(event: ev.PlannedStopEnded, state: FactoryState) -> None:
    if (line := _line(state, event)) is not None:
        line.stop_ended = _later(line.stop_ended, event.time)
