"""apply(state, event) -> state: the one place events change what is known about the plant.

Handlers record facts and do no I/O. Each fact is keyed or a maximum, so duplicates change
nothing and events may arrive in any order: the state converges to the same value (tested with
Hypothesis). Where each unit is follows from its facts (:func:`factory.derive.reposition`,
called whenever a unit's facts change). The state is updated in place and returned: copying the
plant per event would cost more than the rest of the pipeline together.

``apply`` is total: an event about a line, station or unit the state does not know changes
nothing. :func:`evict` keeps live state bounded on a screen that runs for months.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from functools import singledispatch

from factory.derive import REWORK_RANK, forget_member, reposition
from factory.state import (
    ORDERS_SHOWN,
    SAMPLES,
    Check,
    FactoryState,
    Fitted,
    LineState,
    Machine,
    Rework,
    StationState,
    UnitState,
    Visit,
)
from streams import events as ev

SHIPPED_KEPT = timedelta(hours=1)  # a shipped or scrapped unit stays live this long (its tracker shows it)
UNSHIPPED_KEPT = timedelta(days=7)  # a completed unit that never ships leaves the live state after this
HOURS_KEPT = timedelta(hours=48)  # completions per hour kept for the floor


def apply(state: FactoryState, event: ev.Event) -> FactoryState:
    """Fold one event into ``state`` and return it."""
    _apply(event, state)
    state.events_applied += 1
    if state.last_event_time is None or event.time > state.last_event_time:
        state.last_event_time = event.time
    return state


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _earlier(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


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
    elif unit.line_id != event.line_id:
        return None  # a unit belongs to one line; the plant check refuses such events before they get here
    unit.last_fact = _later(unit.last_fact, event.time)
    if not unit.finished:
        line.active.add(unit.unit_code)
    return unit


def _moved(state: FactoryState, unit: UnitState) -> None:
    reposition(state.lines[unit.line_id], unit)


def _station(state: FactoryState, event) -> StationState | None:
    line = state.lines.get(event.line_id)
    station = line.stations.get(event.station_id) if line is not None else None
    if station is not None:
        station.last_fact = _later(station.last_fact, event.time)
    return station


def _visit(state: FactoryState, event) -> tuple[UnitState, Visit] | None:
    line = state.lines.get(event.line_id)
    if line is None or event.station_id not in line.stations:
        return None
    unit = _unit(state, event)
    if unit is None:
        return None
    _station(state, event)
    key = (event.station_id, event.visit)
    if key not in unit.visits:
        unit.visits[key] = Visit(event.station_id, event.visit)
    return unit, unit.visits[key]


def _finish(state: FactoryState, unit: UnitState) -> None:
    state.lines[unit.line_id].active.discard(unit.unit_code)
    _moved(state, unit)


@_apply.register
def _(event: ev.OrderPlaced, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is None or unit.order_id is not None:
        return
    if state.unit_by_token.get(event.tracking_token, event.unit_code) != event.unit_code:
        return  # a token belongs to its first order forever
    unit.order_id, unit.tracking_token, unit.product = event.order_id, event.tracking_token, event.product
    unit.options, unit.placed_at, unit.promised_by = dict(event.options), event.time, event.promised_by
    state.unit_by_token[event.tracking_token] = event.unit_code
    note_order(state.lines[unit.line_id], event.time, unit.unit_code)
    _moved(state, unit)


def note_order(line: LineState, placed_at: datetime, unit_code: str) -> None:
    """Keep the line's latest orders (the floor's incoming-orders panel), oldest dropped first."""
    bisect.insort(line.orders_log, (placed_at, unit_code))
    if len(line.orders_log) > ORDERS_SHOWN:
        line.orders_log.pop(0)


_VISIT_FIELD = {ev.StationEntered: "entered", ev.StationWorkDone: "work_done", ev.StationExited: "exited"}
_VISIT_RANK = {"entered": 0, "work_done": 1, "exited": 2}  # as factory.derive ranks facts at one instant


@_apply.register(ev.StationEntered)
@_apply.register(ev.StationWorkDone)
@_apply.register(ev.StationExited)
def _(event, state: FactoryState) -> None:
    found = _visit(state, event)
    if found is not None:
        unit, visit = found
        name = _VISIT_FIELD[type(event)]
        before = getattr(visit, name)
        setattr(visit, name, event.time)
        line = state.lines[unit.line_id]
        if before is None or before == event.time:  # a fact added: the latest is the known one or this one
            key = (event.time, line.station_ids.index(visit.station_id), _VISIT_RANK[name])
            reposition(line, unit, (key, visit))
        else:  # a fact changed: read them all again
            reposition(line, unit)


@_apply.register
def _(event: ev.QualityChecked, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None and event.station_id in state.lines[unit.line_id].stations:
        unit.checks[(event.station_id, event.visit)] = Check(
            event.station_id, event.visit, event.time, event.passed, event.measurements, event.defect_code
        )


@_apply.register
def _(event: ev.ReworkRouted, state: FactoryState) -> None:
    unit = _unit(state, event)
    stations = state.lines[event.line_id].stations if unit is not None else {}
    if unit is not None and event.station_id in stations and event.reenter_at in stations:
        key = f"{event.source} {event.id}"
        known = key in unit.reworks
        rework = unit.reworks[key] = Rework(event.time, event.station_id, event.reenter_at, event.defect_code)
        line = state.lines[unit.line_id]
        if known:
            reposition(line, unit)
        else:
            rank = (event.time, line.station_ids.index(event.station_id), REWORK_RANK)
            reposition(line, unit, (rank, rework))


@_apply.register
def _(event: ev.ComponentFitted, state: FactoryState) -> None:
    unit = _unit(state, event)
    if unit is not None:
        fitted = unit.components.get(event.component)
        if fitted is None or (event.time, event.serial) < (fitted.time, fitted.serial):  # the first fit counts
            unit.components[event.component] = Fitted(
                event.station_id, event.time, event.supplier, event.batch, event.serial
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
    line.recent[unit.unit_code] = unit
    if len(line.completed_log) > SAMPLES:
        _, dropped = line.completed_log.pop(0)
        line.recent.pop(dropped, None)
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
    if unit is not None and (
        unit.shipped_at is None or (event.time, event.shipment_id) < (unit.shipped_at, unit.shipment_id or "")
    ):
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
        machine.last_down is None or (event.time, event.reason) > (machine.last_down, machine.reason or "")
    ):
        machine.last_down, machine.reason, machine.reason_code = event.time, event.reason, event.reason_code


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
        line.stop_started is None or (event.time, event.reason) > (line.stop_started, line.stop_reason or "")
    ):
        line.stop_started, line.stop_reason = event.time, event.reason


@_apply.register
def _(event: ev.PlannedStopEnded, state: FactoryState) -> None:
    if (line := _line(state, event)) is not None:
        line.stop_ended = _later(line.stop_ended, event.time)


def evict(state: FactoryState, now: datetime) -> int:
    """Drop units that left the plant a while before ``now`` (and old hour counts); return how many left.

    Shipped and scrapped units go ``SHIPPED_KEPT`` after leaving, completed units that never ship
    after ``UNSHIPPED_KEPT``. Their trackers are then served from history.
    """
    gone = [
        code for code, u in state.units.items()
        if (u.shipped_at is not None and u.shipped_at < now - SHIPPED_KEPT)
        or (u.scrapped_at is not None and u.scrapped_at < now - SHIPPED_KEPT)
        or (u.completed_at is not None and u.completed_at < now - UNSHIPPED_KEPT)
    ]  # fmt: skip
    for code in gone:
        unit = state.units.pop(code)
        if unit.tracking_token is not None and state.unit_by_token.get(unit.tracking_token) == code:
            del state.unit_by_token[unit.tracking_token]
        line = state.lines[unit.line_id]
        line.active.discard(code)
        forget_member(line, code)
    for line in state.lines.values():
        for hour in [h for h in line.completed_by_hour if h < now - HOURS_KEPT]:
            del line.completed_by_hour[hour]
    state.units_evicted += len(gone)
    return len(gone)
