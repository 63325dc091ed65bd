"""KPIs after ISO 22400-2, as pure functions of events over a time range. Formulas: docs/kpis.md.

Everything is aggregated by time and by quantity (sums of seconds and of units, then one
division, :mod:`factory.kpi_registry`), never by averaging percentages, so a line's figure and
its stations' figures agree. This is the reference path: the history computes the same sums
from its tables (factory.history.queries) and tests hold the two equal.

Events are taken in time order; events at one instant in order of meaning (:func:`meaning_rank`):
what ends before what begins, so a shift that ends as the next starts leaves no gap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from factory.downtime import StopId, classified_stops, counted_reason, stop_id
from factory.intervals import Interval, intersect, normalise, seconds, subtract
from factory.kpi_registry import evaluate
from factory.kpi_sums import LineSums, StationSums
from factory.layout import Line, Plant
from factory.local_time import hour_buckets, hour_start, local_day
from streams import events as ev

_ENDS = (ev.ShiftEnded, ev.PlannedStopEnded, ev.MachineUp, ev.ChangeoverFinished)
_STARTS = (ev.ShiftStarted, ev.PlannedStopStarted, ev.MachineDown, ev.ChangeoverStarted)
RANK_BY_KIND = {**{c.KIND: 0 for c in _ENDS}, **{c.KIND: 2 for c in _STARTS}}


def meaning_rank(kind: str) -> int:
    """Return the order of an event kind among events at the same instant: ends 0, facts 1, starts 2."""
    return RANK_BY_KIND.get(kind, 1)


def event_order(e: ev.Event) -> tuple[datetime, int]:
    """Sort key of events: time, then meaning."""
    return e.time, RANK_BY_KIND.get(e.KIND, 1)


@dataclass(frozen=True)
class _Failure:
    station_id: str
    machine: int
    reason_code: str
    down: Interval  # until repaired, or until the end of the range if still down
    repair_s: float | None  # None: not repaired within the data


@dataclass
class LineLog:
    """What one pass over a line's events remembers."""

    has_calendar: bool = False  # a stream without any shift event comes from a plant without a calendar
    shifts: list[Interval] = field(default_factory=list)
    stops: list[Interval] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    open_since: dict[Any, tuple[datetime, Any]] = field(default_factory=dict)
    work: list[ev.StationWorkDone] = field(default_factory=list)
    changeovers: list[ev.ChangeoverFinished] = field(default_factory=list)
    checks: list[ev.QualityChecked] = field(default_factory=list)
    placed: dict[str, ev.OrderPlaced] = field(default_factory=dict)
    entered: dict[str, datetime] = field(default_factory=dict)  # first entry on the line
    finished: dict[str, tuple[datetime, str]] = field(default_factory=dict)  # time, "completed" | "scrapped"
    shipped: dict[str, datetime] = field(default_factory=dict)
    failed_units: set[str] = field(default_factory=set)
    reworked_units: set[str] = field(default_factory=set)
    ideal_bottleneck_s: dict[str, float] = field(default_factory=dict)  # unit -> max(ideal / machines)
    classified: dict[StopId, str] = field(default_factory=dict)  # stop -> the reason a person gave it


def collect(events: Iterable[ev.Event], plant: Plant, end: datetime) -> dict[str, LineLog]:
    """Scan events once (in time and meaning order) into per-line logs; open intervals close at ``end``.

    A shift, stop or breakdown already open when another start of the same kind arrives keeps
    its first start. Classifications of stops count in the order given (the control log's), so
    the latest one a person made wins whatever the clocks of the workers that took them said.
    """
    logs = {line.id: LineLog() for line in plant.lines}
    events = list(events)
    for line_id, stops in classified_stops(events).items():
        if line_id in logs:
            logs[line_id].classified.update({stop: e.reason_code for stop, e in stops.items()})
    machines = {(line.id, s.id): s.machines for line in plant.lines for s in line.stations}
    for e in sorted(events, key=event_order):
        log = logs.get(getattr(e, "line_id", None))  # type: ignore[arg-type]
        if log is None:
            continue
        if isinstance(e, (ev.ShiftStarted, ev.PlannedStopStarted)):
            log.has_calendar |= isinstance(e, ev.ShiftStarted)
            log.open_since.setdefault(type(e), (e.time, None))
        elif isinstance(e, (ev.ShiftEnded, ev.PlannedStopEnded)):
            log.has_calendar |= isinstance(e, ev.ShiftEnded)
            began = log.open_since.pop(ev.ShiftStarted if isinstance(e, ev.ShiftEnded) else ev.PlannedStopStarted, None)
            if began is not None:
                (log.shifts if isinstance(e, ev.ShiftEnded) else log.stops).append((began[0], e.time))
        elif isinstance(e, ev.MachineDown):
            log.open_since.setdefault((e.station_id, e.machine), (e.time, e.reason_code))
        elif isinstance(e, ev.MachineUp):
            began = log.open_since.pop((e.station_id, e.machine), None)
            if began is not None:
                log.failures.append(_Failure(e.station_id, e.machine, began[1], (began[0], e.time), e.down_s))
        elif isinstance(e, ev.StationWorkDone):
            log.work.append(e)
            if e.visit == 1:
                share = e.ideal_s / machines[(e.line_id, e.station_id)]
                log.ideal_bottleneck_s[e.unit_code] = max(share, log.ideal_bottleneck_s.get(e.unit_code, 0.0))
        elif isinstance(e, ev.ChangeoverFinished):
            log.changeovers.append(e)
        elif isinstance(e, ev.QualityChecked):
            log.checks.append(e)
            if not e.passed:
                log.failed_units.add(e.unit_code)
        elif isinstance(e, ev.ReworkRouted):
            log.reworked_units.add(e.unit_code)
        elif isinstance(e, ev.OrderPlaced):
            log.placed.setdefault(e.unit_code, e)
        elif isinstance(e, ev.StationEntered):
            log.entered.setdefault(e.unit_code, e.time)
        elif isinstance(e, (ev.UnitCompleted, ev.UnitScrapped)):
            kind = "completed" if isinstance(e, ev.UnitCompleted) else "scrapped"
            log.finished.setdefault(e.unit_code, (e.time, kind))
        elif isinstance(e, ev.UnitShipped):
            log.shipped.setdefault(e.unit_code, e.time)
    for log in logs.values():  # whatever is still open runs to the end of the range
        for key, (since, reason) in list(log.open_since.items()):
            if key is ev.ShiftStarted:
                log.shifts.append((since, end))
            elif key is ev.PlannedStopStarted:
                log.stops.append((since, end))
            else:
                log.failures.append(_Failure(key[0], key[1], reason, (since, end), None))
    return logs


def open_time(log: LineLog, start: datetime, end: datetime) -> list[Interval]:
    """Return the line's open intervals in [start, end): scheduled (shifts) minus planned stops."""
    window = [(start, end)]
    scheduled = intersect(normalise(log.shifts), window) if log.has_calendar else window
    return subtract(scheduled, normalise(log.stops))


def time_sums(plant: Plant, line: Line, log: LineLog, start: datetime, end: datetime) -> LineSums:
    """Return the calendar and breakdown part of a line's sums (shared by the live and the history path)."""
    tz = plant.tz_of(line.id)
    opened = open_time(log, start, end)
    planned_cycle = plant.planned_cycle_s(line.id)
    sums = LineSums(range_s=(end - start).total_seconds(), pbt_s=seconds(opened))
    for bucket_start, bucket_end in hour_buckets(start, end, tz):
        key = hour_start(bucket_start, tz)
        open_s = seconds(intersect(opened, [(bucket_start, bucket_end)]))
        sums.open_s_by_hour[key] = sums.open_s_by_hour.get(key, 0.0) + open_s
        sums.plan_by_hour[key] = sums.plan_by_hour.get(key, 0.0) + open_s / planned_cycle
    sums.planned_units = sums.pbt_s / planned_cycle
    for station in line.stations:
        mine = [f for f in log.failures if f.station_id == station.id]
        started = [f for f in mine if start <= f.down[0] < end]
        down_s = sum(
            seconds(intersect(normalise(f.down for f in mine if f.machine == k), opened))
            for k in range(1, station.machines + 1)
        )
        sums.stations[station.id] = StationSums(
            pbt_s=station.machines * sums.pbt_s,
            down_s=down_s,
            failures=len(started),
            repair_s=sum(f.repair_s for f in started if f.repair_s is not None),
            repaired=sum(1 for f in started if f.repair_s is not None),
        )
    for f in log.failures:
        overlap = seconds(intersect([f.down], opened))
        if overlap:
            chosen = log.classified.get(stop_id(f.station_id, f.machine, f.down[0]))
            reason, by_person = counted_reason(plant.downtime, f.reason_code, chosen)
            reasons = sums.downtime_by_reason
            reasons[reason] = reasons.get(reason, 0.0) + overlap
            if by_person:
                sums.downtime_classified_s += overlap
    machine_pbt = sum(st.pbt_s for st in sums.stations.values())
    sums.apt_s = (
        sums.pbt_s * sum(st.pbt_s - st.down_s for st in sums.stations.values()) / machine_pbt if machine_pbt else 0.0
    )
    return sums


def on_time(shipped: datetime, promised: str, tz) -> bool:
    """Tell whether a unit shipped at ``shipped`` met its promised site-local date."""
    return local_day(shipped, tz).isoformat() <= promised


def line_sums(plant: Plant, line: Line, log: LineLog, start: datetime, end: datetime) -> LineSums:
    """Return all of one line's sums over [start, end) from its log (the reference path)."""

    def in_range(t: datetime) -> bool:
        return start <= t < end

    tz = plant.tz_of(line.id)
    sums = time_sums(plant, line, log, start, end)
    for w in log.work:
        if in_range(w.time):
            st = sums.stations[w.station_id]
            st.ideal_s += w.ideal_s
            st.work_s += w.work_s
            st.processed += 1
    for setup in log.changeovers:
        if in_range(setup.time):
            sums.stations[setup.station_id].setup_s += setup.duration_s
    for check in log.checks:
        if in_range(check.time):
            st = sums.stations[check.station_id]
            st.checks += 1
            st.passed += check.passed
            if not check.passed:
                sums.defects[check.defect_code or "unknown"] += 1
    finished = {u: kind for u, (t, kind) in log.finished.items() if in_range(t)}
    sums.produced = len(finished)
    sums.completed = sum(1 for kind in finished.values() if kind == "completed")
    sums.first_pass_good = sum(1 for u, kind in finished.items() if kind == "completed" and u not in log.failed_units)
    sums.reworked = sum(1 for u in finished if u in log.reworked_units)
    sums.fully_productive_s = sum(log.ideal_bottleneck_s.get(u, 0.0) for u in finished)
    # WIP: a unit counts from its first station entry until it is completed or scrapped.
    sums.wip_s = sum(
        seconds(intersect([(t, log.finished.get(u, (end, ""))[0])], [(start, end)])) for u, t in log.entered.items()
    )
    for u, kind in finished.items():
        done = log.finished[u][0]
        if kind == "completed":
            sums.completed_by_hour[hour_start(done, tz)] += 1
        if kind == "completed" and u in log.placed:
            sums.lead_s += (done - log.placed[u].time).total_seconds()
            sums.lead_n += 1
        if u in log.entered:
            sums.flow_s += (done - log.entered[u]).total_seconds()
            sums.flow_n += 1
    for u, t in log.shipped.items():
        if in_range(t) and u in log.placed:
            sums.ship_lead_s += (t - log.placed[u].time).total_seconds()
            sums.ship_lead_n += 1
            promised = log.placed[u].promised_by
            if promised is not None:
                sums.shipped_promised += 1
                sums.shipped_on_time += on_time(t, promised, tz)
    for order in log.placed.values():
        if in_range(order.time):
            sums.orders_placed += 1
            for option, choice in order.options.items():
                sums.option_mix.setdefault(option, Counter())[choice] += 1
    return sums


def compute(
    events: list[ev.Event],
    plant: Plant,
    start: datetime | None = None,
    end: datetime | None = None,
    line_id: str | None = None,
    site_id: str | None = None,
) -> dict[str, Any]:
    """Return the KPI document for [start, end) (default: the events' own span) of one line, a site or all.

    The document has each line's KPIs under ``lines`` and, for a site or the whole enterprise,
    the KPIs of their summed quantities under ``sites`` and ``enterprise``.
    """
    from factory.kpi_documents import document

    if not events and (start is None or end is None):
        raise ValueError("no events, and no --from/--to to measure over")
    start = start or min(e.time for e in events)
    end = end or max(e.time for e in events)
    if end <= start:
        raise ValueError(f"empty time range: {start.isoformat()} .. {end.isoformat()}")
    # As known at ``end``: a repair or a completion after the range does not reach back into it.
    logs = collect((e for e in events if e.time < end), plant, end)

    def sums_of(line: Line) -> LineSums:
        return line_sums(plant, line, logs[line.id], start, end)

    return document(plant, start, end, sums_of, line_id, site_id)


__all__ = ["LineLog", "collect", "compute", "evaluate", "event_order", "line_sums", "meaning_rank", "time_sums"]


if __name__ == "__main__":  # python -m factory.kpis: the same as tf kpis
    from factory.kpis_cli import main

    main()
