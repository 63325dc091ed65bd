"""apply(state, event) -> state: the one place events change the plant's state.

Handlers are deterministic and do no I/O. Each is idempotent: applying the same event twice
leaves the state as applying it once, so a replay after a reconnect cannot double-count. The
state object is updated in place and returned (copying the whole plant per event would cost
more than the rest of the pipeline together).
"""
from __future__ import annotations

from functools import singledispatch

from factory.state import FactoryState, LineState, StationState, UnitState, Visit
from streams.events import (
    ChangeoverFinished, ChangeoverStarted, Event, MachineDown, MachineUp, OrderPlaced, PlannedStopEnded,
    PlannedStopStarted, ReworkRouted, ShiftEnded, ShiftStarted, StationEntered, StationExited, StationWorkDone,
    UnitCompleted, UnitScrapped, UnitShipped,
)


def apply(state: FactoryState, event: Event) -> FactoryState:
    """Fold one event into ``state`` and return it."""
    _apply(event, state)
    line = state.lines.get(getattr(event, "line_id", None))
    if line is not None:
        station_id = getattr(event, "station_id", None)
        touched = [line.stations[station_id]] if station_id in line.stations else line.stations.values()
        for station in touched:
            _refresh_status(line, station, event)
    state.events_applied += 1
    if state.last_event_time is None or event.time > state.last_event_time:
        state.last_event_time = event.time
    return state


def station_status(line: LineState, station: StationState) -> str:
    """Return what a station is doing, most urgent first.

    down (a machine broken) > idle (line in a planned stop or out of shift: units on stations
    wait for it to reopen) > changeover > running (a unit in work) > blocked (only finished
    units that cannot move on) > starved (open, nothing to work on).
    """
    if station.machines_down:
        return "down"
    if not line.in_shift or line.planned_stop is not None:
        return "idle"
    if station.in_changeover:
        return "changeover"
    if any(unit not in station.work_done for unit in station.units):
        return "running"
    if station.units:
        return "blocked"
    return "starved"


def _refresh_status(line: LineState, station: StationState, event: Event) -> None:
    status = station_status(line, station)
    if status != station.status or station.since is None:
        station.status, station.since = status, event.time


@singledispatch
def _apply(event: Event, state: FactoryState) -> None:
    """Events this projection does not use change nothing."""


@_apply.register
def _(event: StationWorkDone, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None and event.unit_code in station.units:
        station.work_done.add(event.unit_code)


@_apply.register
def _(event: MachineDown, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None:
        station.machines_down.add(event.machine)
        station.down_reason = event.reason


@_apply.register
def _(event: MachineUp, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None:
        station.machines_down.discard(event.machine)
        if not station.machines_down:
            station.down_reason = None


@_apply.register(ChangeoverStarted)
@_apply.register(ChangeoverFinished)
def _(event, state: FactoryState) -> None:
    station = _station(state, event)
    if station is not None:
        station.in_changeover = isinstance(event, ChangeoverStarted)


@_apply.register(ShiftStarted)
@_apply.register(ShiftEnded)
def _(event, state: FactoryState) -> None:
    line = state.lines.get(event.line_id)
    if line is not None:
        line.in_shift = isinstance(event, ShiftStarted)


@_apply.register(PlannedStopStarted)
@_apply.register(PlannedStopEnded)
def _(event, state: FactoryState) -> None:
    line = state.lines.get(event.line_id)
    if line is not None:
        line.planned_stop = event.reason if isinstance(event, PlannedStopStarted) else None


def _station(state: FactoryState, event) -> StationState | None:
    line = state.lines.get(event.line_id)
    return line.stations.get(event.station_id) if line is not None else None


@_apply.register
def _(event: OrderPlaced, state: FactoryState) -> None:
    if event.unit_code in state.units:
        return
    state.units[event.unit_code] = UnitState(
        unit_code=event.unit_code,
        order_id=event.order_id,
        tracking_token=event.tracking_token,
        line_id=event.line_id,
        product=event.product,
        options=dict(event.options),
        placed_at=event.time,
    )
    state.unit_by_token[event.tracking_token] = event.unit_code
    line = state.lines.get(event.line_id)
    if line is not None:
        _enqueue(state, state.units[event.unit_code], next(iter(line.stations)))


@_apply.register
def _(event: StationEntered, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    line = state.lines.get(event.line_id)
    if unit is None or line is None or event.station_id not in line.stations:
        return
    visit = _visit(unit, event.station_id, event.visit)
    if visit.entered is not None:
        return  # duplicate
    visit.entered = event.time
    unit.in_rework = False
    if visit.exited is None:
        _move(state, unit, event.station_id)


@_apply.register
def _(event: StationExited, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    if unit is None or event.line_id not in state.lines:
        return
    visit = _visit(unit, event.station_id, event.visit)
    if visit.exited is not None:
        return  # duplicate
    visit.exited = event.time
    if unit.station_id == event.station_id:
        _move(state, unit, None)
        _enqueue(state, unit, _next_station(state, unit.line_id, event.station_id))


@_apply.register
def _(event: UnitCompleted, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    if unit is None or unit.completed_at is not None:
        return
    unit.completed_at = event.time
    _move(state, unit, None)
    _enqueue(state, unit, None)
    state.lines[unit.line_id].completed += 1


@_apply.register
def _(event: ReworkRouted, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    if unit is None or unit.scrapped_at is not None:
        return
    if unit.station_id is None or unit.station_id == event.station_id:  # not re-entered the line yet
        _move(state, unit, None)
        _enqueue(state, unit, None)
        unit.in_rework = True
    unit.rework_ids.add(f"{event.source} {event.id}")


@_apply.register
def _(event: UnitScrapped, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    if unit is None or unit.scrapped_at is not None:
        return
    unit.scrapped_at = event.time
    unit.in_rework = False
    _move(state, unit, None)
    _enqueue(state, unit, None)


@_apply.register
def _(event: UnitShipped, state: FactoryState) -> None:
    unit = state.units.get(event.unit_code)
    if unit is None:
        return
    unit.shipped_at, unit.carrier, unit.estimated_delivery = event.time, event.carrier, event.estimated_delivery


def _visit(unit: UnitState, station_id: str, number: int) -> Visit:
    """Return the unit's visit record for (station, visit number), creating it in arrival order."""
    for visit in unit.visits:
        if visit.station_id == station_id and visit.visit == number:
            return visit
    visit = Visit(station_id, number)
    unit.visits.append(visit)
    return visit


def _next_station(state: FactoryState, line_id: str, station_id: str) -> str | None:
    """Return the station after ``station_id`` in flow order, or None after the last."""
    order = list(state.lines[line_id].stations)
    index = order.index(station_id)
    return order[index + 1] if index + 1 < len(order) else None


def _enqueue(state: FactoryState, unit: UnitState, station_id: str | None) -> None:
    """Move the unit into the queue in front of ``station_id`` (None: out of every queue)."""
    stations = state.lines[unit.line_id].stations
    if unit.queued_for is not None and unit.unit_code in stations[unit.queued_for].queue:
        stations[unit.queued_for].queue.remove(unit.unit_code)
    unit.queued_for = station_id
    if station_id is not None:
        stations[station_id].queue.append(unit.unit_code)


def _move(state: FactoryState, unit: UnitState, station_id: str | None) -> None:
    """Take the unit off its current station (if any) and put it on ``station_id`` (if any)."""
    stations = state.lines[unit.line_id].stations
    if station_id is not None:
        _enqueue(state, unit, None)
    if unit.station_id is not None and unit.unit_code in stations[unit.station_id].units:
        stations[unit.station_id].units.remove(unit.unit_code)
        stations[unit.station_id].work_done.discard(unit.unit_code)
    unit.station_id = station_id
    if station_id is not None:
        stations[station_id].units.append(unit.unit_code)
