"""When will my unit be finished and shipped? A range from what recent units of the line took.

The estimate is empirical: the last ``SAMPLES`` units completed on the same line are measured
from the same point of the route this unit is at now (entering its current station, or leaving
the previous one) to completion, in the *open time* of the site's calendar (factory.work_calendar:
shifts less breaks, working days), and their 10th, 50th and 90th percentiles are added, in open
time, to the moment this unit reached that point; samples faster than what the unit has already
spent there are left out. A unit still in the order backlog waits its turn: one cycle of the
line's bottleneck for itself and each unit ahead, then a span, with the spread of both. Every
range is widened by how the same method would have done on the line's recent units
(docs/kpis.md, "ETA"). With too few samples the factory file's standard times are used instead,
without a range. When the estimate may slip, the reason says why (a station down on the unit's
way, a planned stop, no shift).
"""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import datetime, timedelta
from typing import Any

from factory.derive import breakdown, in_shift, planned_stop, position
from factory.layout import Line
from factory.state import FactoryState, UnitState, Visit
from factory.work_calendar import OpenClock
from streams.codec import format_time

SAMPLES = 40
MIN_SAMPLES = 5
Z90 = 1.2816  # the standard normal's 90th percentile
ALWAYS_OPEN = OpenClock(None)
MIN_WIDENING, MAX_WIDENING = 0.5, 20.0
_SAMPLES: dict[tuple, tuple[list[float], list[float], float, float | None]] = {}  # see _samples


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


def _samples(
    recent: list[UnitState], line: Line, clock: OpenClock, station_id: str, point: str
) -> tuple[list[float], list[float], float, float | None]:
    """Return (spans, gaps, widening, pace) of the recent units from a point of the route.

    They change only when a unit completes, while every tracker frame asks: kept per line,
    clock, point and set of recent units.
    """
    key = (line.id, id(clock), station_id, point, *((u.unit_code, u.completed_at) for u in recent))
    if key in _SAMPLES:
        return _SAMPLES[key]
    spans = []
    for sample in recent:
        visit = _latest_visit(sample, station_id)
        reference = getattr(visit, point) if visit else None
        if reference is not None and sample.completed_at is not None:
            spans.append(clock.open_seconds(reference, sample.completed_at))
    gaps = _gaps_s(recent, clock)
    k = 1.0
    if len(spans) >= MIN_SAMPLES:
        # A unit's outcome is known only after those completing while it travels: the range
        # it was given came from units that far back, so the check looks that far back too.
        mean_gap = statistics.fmean(gaps) if gaps else 0.0
        k = _widening(spans, round(statistics.median(spans) / mean_gap) if mean_gap > 0 else 0)
    found = (spans, gaps, k, _busy_gap_s(recent, line, clock))
    if len(_SAMPLES) > 4096:
        _SAMPLES.clear()
    _SAMPLES[key] = found
    return found


def _widening(spans: list[float], lag: int) -> float:
    """How far the range must widen to have held each recent unit's time 80 % of the time.

    Sequential calibration on the line's own recent misses: each recent span is compared with
    the P10-P90 range the spans before it gave; the factor by which that range's half-width
    would have had to grow to contain it is noted, and the 80th percentile of those factors
    scales the range stated now. Units of a line are not independent draws (queues and
    breakdowns carry over from one to the next), so their plain spread is too narrow.
    """
    lag = max(0, min(lag, len(spans) - 2 * MIN_SAMPLES))
    needs = []
    for j in range(MIN_SAMPLES + lag, len(spans)):
        low, mid, high = _percentiles(spans[: j - lag])
        half = (high - mid) if spans[j] >= mid else (mid - low)
        needs.append(
            min(abs(spans[j] - mid) / half, MAX_WIDENING) if half > 0 else (MAX_WIDENING if spans[j] != mid else 0.0)
        )
    k = 1.0
    if len(needs) >= MIN_SAMPLES:
        k = min(max(statistics.quantiles(needs, n=10, method="inclusive")[7], MIN_WIDENING), MAX_WIDENING)
    return k


def _widen(low: float, mid: float, high: float, k: float) -> tuple[float, float, float]:
    return max(mid - k * (mid - low), 0.0), mid, mid + k * (high - mid)


def _gaps_s(recent: list[UnitState], clock: OpenClock) -> list[float]:
    """Open seconds between consecutive completions of the recent units."""
    times = sorted(u.completed_at for u in recent if u.completed_at is not None)
    return [clock.open_seconds(a, b) for a, b in itertools.pairwise(times)]


def _busy_gap_s(recent: list[UnitState], line: Line, clock: OpenClock) -> float | None:
    """Open seconds between completions of the line when it has work: its bottleneck's pace.

    A unit with units ahead of it in the backlog is taken in by a busy line, which completes a
    unit per bottleneck cycle. The recent gaps between completions are no measure of that when
    the line had sat waiting for orders (they are the orders' spacing then), so the pace comes
    from the recent units' own work: at each station, the open time from entering to work done
    (setups, repairs under way and rework visits included) over its machines; the slowest rules.
    """
    slowest = None
    for station in line.stations:
        work = [
            sum(
                clock.open_seconds(v.entered, v.work_done)
                for v in u.visits.values()
                if v.station_id == station.id and v.entered is not None and v.work_done is not None
            )
            for u in recent
        ]
        work = [w for w in work if w > 0]
        if len(work) >= MIN_SAMPLES:
            pace = statistics.fmean(work) / max(station.machines, 1)
            slowest = pace if slowest is None else max(slowest, pace)
    return slowest


def _backlog_range(
    spans: list[float], gaps: list[float], ahead: int, k: float, pace_s: float | None = None
) -> tuple[float, float, float]:
    """Open seconds from now to completion for a unit with ``ahead`` units before it in the backlog.

    It enters the line after ahead + 1 more units have, one bottleneck cycle each (``pace_s``,
    see _busy_gap_s; the recent mean gap when unknown), then takes a span. The spread adds
    both: the sum of n gaps spreads as sqrt(n) times one gap's (the central limit), a span as
    the recent spans do; P10 and P90 are mean -/+ 1.2816 sd, scaled by ``k``. The pace is the
    line's best (flow losses between stations are not in it), so the range reaches at least to
    the pace it kept lately: n recent mean gaps and the median span.
    """
    n = ahead + 1
    observed_gap = statistics.fmean(gaps)
    mean_gap = pace_s if pace_s is not None else observed_gap
    gap_var = statistics.variance(gaps) if len(gaps) > 1 else 0.0
    span_var = statistics.variance(spans) if len(spans) > 1 else 0.0
    mid = n * mean_gap + statistics.median(spans)
    sd = math.sqrt(n * gap_var + span_var)
    high = max(mid + k * Z90 * sd, n * observed_gap + statistics.median(spans))
    return max(mid - k * Z90 * sd, 0.0), mid, high


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


def estimate(
    state: FactoryState, line: Line, unit: UnitState, units_ahead: int, clock: OpenClock = ALWAYS_OPEN
) -> dict[str, Any] | None:
    """Return {finish, ship, reason, basis} for an unfinished unit, or None once it shipped or was scrapped.

    Durations are measured and added in the open time of the line's calendar (``clock``), so a
    sample that waited over a weekend is not a slow one, and a range that runs past the shift
    ends when the next shift has done the rest.
    """
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
        anchor = anchor or now
        in_backlog = where.kind == "queued" and index.get(where.station_id or "", 0) == 0 and not unit.visits
        spans, gaps, k, pace = _samples(recent, line, clock, station_id, point)
        if len(spans) >= MIN_SAMPLES and (not in_backlog or len(gaps) >= MIN_SAMPLES):
            if in_backlog:
                low, mid, high = _backlog_range(spans, gaps, units_ahead, k, pace)
            else:
                # What the unit has already spent since the anchor rules out the samples that
                # were faster: what is left is what the samples at least as slow had left. A
                # unit slower than nearly all of them is held up: it may need a whole span more.
                elapsed = clock.open_seconds(anchor, now)
                left = [x - elapsed for x in spans if x >= elapsed]
                low, mid, high = _widen(*_percentiles(left if len(left) >= MIN_SAMPLES else spans), k)
                anchor = now
            basis = f"last {len(spans)} units of this line"
        else:
            start = index[station_id] + (1 if point == "exited" else 0)
            low = mid = high = sum(s.cycle_s for s in line.stations[start:])
            basis = "standard times"
        finish = tuple(max(clock.after(anchor, x), now) for x in (low, mid, high))
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
