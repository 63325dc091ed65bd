"""Resume a recorded run: where each unit, machine and station of the plant stood when the record ended.

A restarted app does not simulate its plant again from the start (that would emit the same hour
twice and double every KPI): it reads the projection of what was recorded (factory.state) and
starts the model there (line_emulator.model.UnitProgress). Units continue from their stations
with the work they had left, machines that were down finish their repair, each station keeps
the variant it was set up for, loaded units wait at the dock, and the simulated clock goes on
from the last recorded event.

Simplifications, on purpose: a cycle under way finishes after a fresh draw of its time minus
what it had already run (at least nothing); a repair likewise; a changeover under way is
taken as done.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from factory.history.rows import order_number
from factory.layout import Plant
from factory.projector import apply
from factory.state import FactoryState, UnitState, empty_state
from factory.validation import PlantCheck
from line_emulator.model import UnitProgress
from line_emulator.orders import Order
from line_emulator.params import SimParams
from streams import events as ev
from streams.bus import Bus


def _progress(unit: UnitState, plant: Plant, params: SimParams, clock: datetime) -> UnitProgress | None:
    line = plant.line(unit.line_id)
    product = plant.products[line.product]
    if unit.order_id is None or unit.tracking_token is None or unit.position is None:
        return None  # facts without their order: nothing to build
    order = Order(
        unit.order_id, unit.unit_code, unit.tracking_token, dict(unit.options), product.extra_work_s(unit.options)
    )
    visits: Counter[str] = Counter()
    for station_id, n in unit.visits:
        visits[station_id] = max(visits[station_id], n)
    failures = Counter(c.station_id for c in unit.checks.values() if not c.passed)
    where = unit.position
    ids = [s.id for s in line.stations]
    fitted = frozenset(unit.components)
    if where.kind == "rework":
        rework = max(unit.reworks.values(), key=lambda r: r.time)
        gate = params.stations[(line.id, rework.station_id)].gate
        return UnitProgress(
            order,
            "rework",
            ids.index(rework.reenter_at),
            (clock - rework.time).total_seconds(),
            gate.repair_s if gate else 0.0,
            visits,
            failures,
            fitted,
        )
    if where.kind == "queued" and where.station_id is not None:
        return UnitProgress(order, "queued", ids.index(where.station_id), 0.0, 0.0, visits, failures, fitted)
    if where.kind == "at" and where.station_id is not None:
        kind = "done" if where.blocked_since is not None else "at"
        elapsed = (clock - where.since).total_seconds() if where.since else 0.0
        return UnitProgress(order, kind, ids.index(where.station_id), max(elapsed, 0.0), 0.0, visits, failures, fitted)
    return None


def resume_plan(state: FactoryState, plant: Plant, params: SimParams, clock: datetime) -> dict[str, dict[str, Any]]:
    """Return, per line, the keyword arguments of LineModel.start that continue the recorded run."""
    plan: dict[str, dict[str, Any]] = {}
    for line in plant.lines:
        line_state = state.lines[line.id]
        units = [state.units[c] for c in line_state.active if c in state.units]
        units.sort(key=lambda u: (u.position.since if u.position and u.position.since else clock, u.unit_code))
        progress = [p for u in units if (p := _progress(u, plant, params, clock)) is not None]
        down = {}
        set_up_for = {}
        for i, station in enumerate(line.stations):
            st = line_state.stations[station.id]
            for number, machine in st.machines.items():
                if machine.last_down is not None and (machine.last_up is None or machine.last_down > machine.last_up):
                    down[(i, number)] = (machine.reason_code or "MECH", (clock - machine.last_down).total_seconds())
            spec = params.stations[(line.id, station.id)].changeover
            if spec is not None:
                latest = None
                for unit in (*state.units.values(), *line_state.recent.values()):
                    if unit.line_id != line.id:
                        continue
                    for visit in unit.visits.values():
                        if (
                            visit.station_id == station.id
                            and visit.entered
                            and (latest is None or visit.entered > latest[0])
                        ):
                            latest = (visit.entered, unit.options.get(spec.option))
                if latest is not None and latest[1] is not None:
                    set_up_for[i] = latest[1]
        at_dock = sorted(
            (u.completed_at, u.unit_code)
            for u in state.units.values()
            if u.line_id == line.id and u.completed_at is not None and u.shipped_at is None
        )
        plan[line.id] = {
            "progress": progress,
            "down": down,
            "set_up_for": set_up_for,
            "at_dock": [code for _, code in at_dock],
        }
    return plan


@dataclass
class StreamRecord:
    """What a retained stream says about the plant that wrote it (a standalone emulator's memory)."""

    state: FactoryState
    first_orders: dict[str, int]  # line -> the next order number
    until: datetime | None  # the latest line event (None: the stream holds none)
    events: int


def read_stream(bus: Bus, plant: Plant, batch: int = 5000) -> StreamRecord:
    """Fold everything ``bus`` retains, as the app's history would: the state, the numbering, the clock."""
    state = empty_state(plant)
    check = PlantCheck(plant, window=timedelta(days=3650))
    numbers: dict[str, int] = {}
    until: datetime | None = None
    after = None
    count = 0
    while entries := bus.read(after, limit=batch):
        after = entries[-1][0]
        for _, event in entries:
            count += 1
            if event.CONTROL or check.admit(event) is not None:
                continue
            apply(state, event)
            until = event.time if until is None or event.time > until else until
            if isinstance(event, ev.OrderPlaced):
                number = order_number(event.unit_code)
                if number is not None and number >= numbers.get(event.line_id, 0):
                    numbers[event.line_id] = number
    return StreamRecord(state, {line: n + 1 for line, n in numbers.items()}, until, count)
