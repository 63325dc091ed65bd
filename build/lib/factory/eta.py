"""When will my unit be finished and shipped? A range from what recent units of the line took.

The estimate is empirical: the last ``SAMPLES`` units completed on the same line are measured
from the same point of the route this unit is at now (entering its current station, or leaving
the previous one) to completion, and their 10th, 50th and 90th percentiles are added to the
moment this unit reached that point. A unit still in the order backlog waits its turn: the units
ahead of it times the line's recent spacing between completions. With too few samples the
factory file's standard times are used instead, without a range. When the estimate may slip,
the reason says why (a station down on the unit's way, a planned stop, no shift).
"""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime, timedelta
from typing import Any

from factory.derive import breakdown, in_shift, planned_stop, position
from factory.layout import Line
from factory.state import FactoryState, UnitState, Visit
from streams.codec import format_time

SAMPLES = 40
MIN_SAMPLES = 5


def _latest_visit(unit: UnitState, station_id: str) -> Visit | None:
    visits = [v for v in unit.visits.values() if v.station_id == station_id]
    return max(visits, key=lambda v: v.visit) if visits else None


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 3:
        mid = statistics.median(values)
        return mid, mid, mid
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return deciles[0], statistics.median(values), deciles[-1]


def _recent(state: FactoryState, line: Line) -> list[UnitState]:
    line_state = state.lines[line.id]
    return [line_state.recent[code] for _, code in line_state.completed_log[-SAMPLES:] if code in line_state.recent]


def _spacing_s(recent: list[UnitState]) -> float | None:
    """Median time between consecutive completions of the recent units."""
    times = sorted(u.completed_at for u in recent if u.completed_at is not None)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else None


def _reason(state: FactoryState, line: Line, from_index: int) -> dict[str, Any] | None:
    """Say what holds the unit up, as data the page words in its language and zone (None: nothing)."""
    line_state = state.lines[line.id]
    for station in line.stations[from_index:]:
        st = line_state.stations[station.id]
        down = breakdown(st)
        if down is not None:
            since, _text = down
            codes = [m.reason_code for m in st.machines.values() if m.last_down == since and m.reason_code]
            return {
                "code": "station_down",
                "station": station.id,
                "since": format_time(since),
                "reason_code": codes[0] if codes else None,
            }
    stop = planned_stop(line_state)
    if stop is not None:
        return {"code": "planned_stop", "stop": stop}
    if not in_shift(line_state):
        return {"code": "no_shift"}
    return None


def estimate(state: FactoryState, line: Line, unit: UnitState, units_ahead: int) -> dict[str, Any] | None:
    """Return {finish, ship, reason, basis} for an unfinished unit, or None once it shipped or was scrapped."""
    if unit.scrapped_at is not None or unit.shipped_at is not None:
        return None
    now = state.last_event_time
    assert now is not None  # the unit is known, so an event was applied
    recent = _recent(state, line)
    where = unit.position or position(unit, tuple(s.id for s in line.stations))
    index = {s.id: i for i, s in enumerate(line.stations)}
    reason = None
    finish: tuple[datetime, ...]
    station_id: str
    anchor: datetime | None
    if unit.completed_at is not None:
        finish = (unit.completed_at, unit.completed_at, unit.completed_at)
    else:
        # The point of the route this unit reached, and how to find the same point in a sample.
        if where.kind in ("at", "rework") and where.station_id is not None:
            anchor = where.since if where.kind == "at" else now
            station_id, point = where.station_id, "entered"
        elif where.station_id is not None and index[where.station_id] > 0:
            anchor, station_id, point = where.since, line.stations[index[where.station_id] - 1].id, "exited"
        else:  # in the order backlog
            anchor, station_id, point = now, line.stations[0].id, "entered"
        spans = []
        for sample in recent:
            visit = _latest_visit(sample, station_id)
            reference = getattr(visit, point) if visit else None
            if reference is not None and sample.completed_at is not None:
                spans.append((sample.completed_at - reference).total_seconds())
        wait = 0.0
        if where.kind == "queued" and index.get(where.station_id or "", 0) == 0 and not unit.visits:
            wait = (units_ahead + 1) * (_spacing_s(recent) or 0.0)
        if len(spans) >= MIN_SAMPLES:
            low, mid, high = _percentiles(spans)
            basis = f"last {len(spans)} units of this line"
        else:
            start = index[station_id] + (1 if point == "exited" else 0)
            low = mid = high = sum(s.cycle_s for s in line.stations[start:])
            basis = "standard times"
        anchor = anchor or now
        finish = tuple(max(anchor + timedelta(seconds=wait + x), now) for x in (low, mid, high))
        reason = _reason(state, line, index.get(where.station_id, 0) if where.station_id else 0)
        if unit.reworks and where.kind == "rework":
            reason = reason or {"code": "rework"}
    ship_delays = [(u.shipped_at - u.completed_at).total_seconds() for u in recent if u.shipped_at and u.completed_at]
    if len(ship_delays) >= MIN_SAMPLES:
        s_low, s_mid, s_high = _percentiles(ship_delays)
        delays = (s_low, s_mid, s_high)
        ship: tuple[datetime, ...] | None = tuple(max(t + timedelta(seconds=d), now) for t, d in zip(finish, delays))
    else:
        ship = None
    return {
        "finish": finish,
        "ship": ship,
        "reason": reason,
        "basis": basis if unit.completed_at is None else "finished",
    }
