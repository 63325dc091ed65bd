"""KPIs after ISO 22400-2, as pure functions of events over a time range. Formulas: docs/kpis.md.

Everything is aggregated by time and by quantity (sums of seconds and of units, then one
division), never by averaging percentages, so a line's figure and its stations' figures agree.
``python -m factory.kpis EVENTS.jsonl [--from T] [--to T] [--line L]`` prints them as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from factory.intervals import Interval, intersect, normalise, seconds, subtract
from factory.layout import Line, Plant
from streams import events as ev


@dataclass(frozen=True)
class _Failure:
    station_id: str
    machine: int
    reason_code: str
    down: Interval  # until repaired, or until the end of the range if still down
    repair_s: float | None  # None: not repaired within the data


@dataclass
class _LineLog:
    """What one pass over the events remembers about a line."""

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


def collect(events: Iterable[ev.Event], plant: Plant, end: datetime) -> dict[str, _LineLog]:
    """Scan events once (in time order) into per-line logs; open intervals close at ``end``."""
    logs = {line.id: _LineLog() for line in plant.lines}
    machines = {(line.id, s.id): s.machines for line in plant.lines for s in line.stations}
    for e in sorted(events, key=lambda e: e.time):
        log = logs.get(getattr(e, "line_id", None))
        if log is None:
            continue
        if isinstance(e, (ev.ShiftStarted, ev.PlannedStopStarted)):
            log.open_since[type(e)] = (e.time, None)
        elif isinstance(e, (ev.ShiftEnded, ev.PlannedStopEnded)):
            began = log.open_since.pop(ev.ShiftStarted if isinstance(e, ev.ShiftEnded) else ev.PlannedStopStarted, None)
            if began is not None:
                (log.shifts if isinstance(e, ev.ShiftEnded) else log.stops).append((began[0], e.time))
        elif isinstance(e, ev.MachineDown):
            log.open_since[(e.station_id, e.machine)] = (e.time, e.reason_code)
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
            log.placed[e.unit_code] = e
        elif isinstance(e, ev.StationEntered):
            log.entered.setdefault(e.unit_code, e.time)
        elif isinstance(e, (ev.UnitCompleted, ev.UnitScrapped)):
            log.finished.setdefault(
                e.unit_code, (e.time, "completed" if isinstance(e, ev.UnitCompleted) else "scrapped")
            )
        elif isinstance(e, ev.UnitShipped):
            log.shipped.setdefault(e.unit_code, e.time)
    for log in logs.values():  # whatever is still open runs to the end of the range
        for key, (began, reason) in list(log.open_since.items()):
            if key is ev.ShiftStarted:
                log.shifts.append((began, end))
            elif key is ev.PlannedStopStarted:
                log.stops.append((began, end))
            else:
                log.failures.append(_Failure(key[0], key[1], reason, (began, end), None))
    return logs


@dataclass
class StationSums:
    """Additive quantities of one station over a range: what every station KPI is a ratio of."""

    pbt_s: float = 0.0  # machines x the line's planned busy time
    down_s: float = 0.0  # unplanned machine downtime inside open time
    ideal_s: float = 0.0  # Σ ideal processing time of work done
    work_s: float = 0.0  # Σ actual processing time
    setup_s: float = 0.0  # Σ changeover time
    processed: int = 0  # work done (unit visits)
    checks: int = 0
    passed: int = 0
    failures: int = 0  # breakdowns starting in the range
    repair_s: float = 0.0  # Σ repair time of those repaired
    repaired: int = 0


@dataclass
class LineSums:
    """Additive quantities of one line over a range: what every line KPI is a ratio of."""

    range_s: float = 0.0
    pbt_s: float = 0.0
    stations: dict[str, StationSums] = field(default_factory=dict)
    produced: int = 0  # completed + scrapped
    completed: int = 0
    first_pass_good: int = 0
    reworked: int = 0  # produced units that went to the repair bay
    fully_productive_s: float = 0.0
    wip_s: float = 0.0  # unit-seconds on the line
    lead_s: float = 0.0
    lead_n: int = 0
    flow_s: float = 0.0
    flow_n: int = 0
    ship_lead_s: float = 0.0
    ship_lead_n: int = 0
    shipped_promised: int = 0  # shipped in the range, with a promised date
    shipped_on_time: int = 0  # ... on or before it (plant-local dates)
    planned_cycle_s: float = 0.0
    open_s_by_hour: dict[datetime, float] = field(default_factory=dict)  # hour start -> open seconds
    completed_by_hour: Counter = field(default_factory=Counter)
    orders_placed: int = 0
    defects: Counter = field(default_factory=Counter)
    downtime_by_reason: Counter = field(default_factory=Counter)
    option_mix: dict[str, Counter] = field(default_factory=dict)


def time_sums(plant: Plant, line: Line, log: _LineLog, start: datetime, end: datetime) -> LineSums:
    """Return the calendar and breakdown part of a line's sums (shared by live and history queries)."""
    window = [(start, end)]
    # A stream with no shift events at all comes from a plant without a calendar: always scheduled.
    scheduled = intersect(normalise(log.shifts), window) if log.shifts else window
    open_time = subtract(scheduled, normalise(log.stops))
    sums = LineSums(
        range_s=(end - start).total_seconds(), pbt_s=seconds(open_time), planned_cycle_s=plant.planned_cycle_s(line.id)
    )
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        sums.open_s_by_hour[hour] = seconds(intersect(open_time, [(hour, hour + timedelta(hours=1))]))
        hour += timedelta(hours=1)
    for station in line.stations:
        mine = [f for f in log.failures if f.station_id == station.id]
        started = [f for f in mine if start <= f.down[0] < end]
        sums.stations[station.id] = StationSums(
            pbt_s=station.machines * sums.pbt_s,
            down_s=sum(
                seconds(intersect(normalise(f.down for f in mine if f.machine == k), open_time))
                for k in range(1, station.machines + 1)
            ),
            failures=len(started),
            repair_s=sum(f.repair_s for f in started if f.repair_s is not None),
            repaired=sum(1 for f in started if f.repair_s is not None),
        )
    for f in log.failures:
        sums.downtime_by_reason[f.reason_code] += seconds(intersect([f.down], open_time))
    return sums


def line_sums(plant: Plant, line: Line, log: _LineLog, start: datetime, end: datetime) -> LineSums:
    """Return all of one line's sums over [start, end) from its log (the live path)."""

    def in_range(t: datetime) -> bool:
        return start <= t < end

    sums = time_sums(plant, line, log, start, end)
    for w in log.work:
        if in_range(w.time):
            st = sums.stations[w.station_id]
            st.ideal_s += w.ideal_s
            st.work_s += w.work_s
            st.processed += 1
    for c in log.changeovers:
        if in_range(c.time):
            sums.stations[c.station_id].setup_s += c.duration_s
    for c in log.checks:
        if in_range(c.time):
            st = sums.stations[c.station_id]
            st.checks += 1
            st.passed += c.passed
            if not c.passed:
                sums.defects[c.defect_code] += 1
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
        if kind == "completed":
            sums.completed_by_hour[log.finished[u][0].replace(minute=0, second=0, microsecond=0)] += 1
        if kind == "completed" and u in log.placed:
            sums.lead_s += (log.finished[u][0] - log.placed[u].time).total_seconds()
            sums.lead_n += 1
        if u in log.entered:
            sums.flow_s += (log.finished[u][0] - log.entered[u]).total_seconds()
            sums.flow_n += 1
    for u, t in log.shipped.items():
        if in_range(t) and u in log.placed:
            sums.ship_lead_s += (t - log.placed[u].time).total_seconds()
            sums.ship_lead_n += 1
            promised = log.placed[u].promised_by
            if promised is not None:
                sums.shipped_promised += 1
                sums.shipped_on_time += t.astimezone(plant.tz).date().isoformat() <= promised
    for order in log.placed.values():
        if in_range(order.time):
            sums.orders_placed += 1
            for option, choice in order.options.items():
                sums.option_mix.setdefault(option, Counter())[choice] += 1
    return sums


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def _per(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


def kpis_from_sums(sums: LineSums) -> dict[str, Any]:
    """Apply the formulas of docs/kpis.md to a line's sums."""
    stations = {}
    for sid, st in sums.stations.items():
        apt = st.pbt_s - st.down_s
        quality = st.passed / st.checks if st.checks else (1.0 if st.processed else 0.0)
        stations[sid] = {
            "oee": _ratio(st.ideal_s * quality, st.pbt_s),
            "availability": _ratio(apt, st.pbt_s),
            "performance": _ratio(st.ideal_s, apt),
            "quality": _ratio(st.passed, st.checks) if st.checks else (1.0 if st.processed else None),
            "planned_busy_time_s": round(st.pbt_s, 3),
            "unplanned_downtime_s": round(st.down_s, 3),
            "units_processed": st.processed,
            "utilisation": _ratio(st.work_s + st.setup_s, apt),
            "failures": st.failures,
            "mtbf_s": _per(apt, st.failures),
            "mttr_s": _per(st.repair_s, st.repaired),
        }
    pbt_total = sum(st.pbt_s for st in sums.stations.values())
    apt_total = sum(st.pbt_s - st.down_s for st in sums.stations.values())
    failures = sum(st.failures for st in sums.stations.values())
    availability = _ratio(apt_total, pbt_total)
    quality = _ratio(sums.first_pass_good, sums.produced)
    return {
        "oee": _ratio(
            sums.fully_productive_s * (sums.first_pass_good / sums.produced if sums.produced else 0), sums.pbt_s
        ),
        "availability": availability,
        "performance": _ratio(sums.fully_productive_s, (availability or 0) * sums.pbt_s),
        "quality": quality,
        "planned_busy_time_s": round(sums.pbt_s, 3),
        "unplanned_downtime_s": round(sum(st.down_s for st in sums.stations.values()), 3),
        "units_completed": sums.completed,
        "units_scrapped": sums.produced - sums.completed,
        "throughput_per_hour": _ratio(sums.completed * 3600, sums.pbt_s),
        "first_pass_yield": quality,
        "rework_ratio": _ratio(sums.reworked, sums.produced),
        "scrap_ratio": _ratio(sums.produced - sums.completed, sums.produced),
        "wip_avg": _ratio(sums.wip_s, sums.range_s),
        "lead_time_avg_s": _per(sums.lead_s, sums.lead_n),
        "flow_time_avg_s": _per(sums.flow_s, sums.flow_n),
        "lead_time_to_ship_avg_s": _per(sums.ship_lead_s, sums.ship_lead_n),
        "on_time_delivery": _ratio(sums.shipped_on_time, sums.shipped_promised),
        "planned_cycle_s": round(sums.planned_cycle_s, 3),
        "hourly": [
            {
                "hour": hour.isoformat(),
                "plan": round(open_s / sums.planned_cycle_s, 2),
                "actual": sums.completed_by_hour.get(hour, 0),
            }
            for hour, open_s in sorted(sums.open_s_by_hour.items())
        ],
        "orders_placed": sums.orders_placed,
        "takt_time_s": _per(sums.pbt_s, sums.orders_placed),
        "actual_cycle_time_s": _per(sums.pbt_s, sums.completed),
        "failures": failures,
        "mtbf_s": _per(apt_total, failures),
        "mttr_s": _per(
            sum(st.repair_s for st in sums.stations.values()), sum(st.repaired for st in sums.stations.values())
        ),
        "bottleneck": max(stations, key=lambda s: stations[s]["utilisation"] or 0) if stations else None,
        "defect_pareto": _pareto(sums.defects),
        "downtime_pareto_s": _pareto(+sums.downtime_by_reason),
        "option_mix": {opt: dict(sorted(mix.items())) for opt, mix in sorted(sums.option_mix.items())},
        "stations": stations,
    }


def _pareto(counts: Counter) -> list[dict[str, Any]]:
    return [{"key": k, "value": round(v, 3)} for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def compute(
    events: list[ev.Event],
    plant: Plant,
    start: datetime | None = None,
    end: datetime | None = None,
    line_id: str | None = None,
) -> dict[str, Any]:
    """Return the KPI document for [start, end) (default: the events' own span) and one or every line."""
    if not events and (start is None or end is None):
        raise ValueError("no events, and no --from/--to to measure over")
    start = start or min(e.time for e in events)
    end = end or max(e.time for e in events)
    if end <= start:
        raise ValueError(f"empty time range: {start.isoformat()} .. {end.isoformat()}")
    # As known at ``end``: a repair or a completion after the range does not reach back into it.
    logs = collect((e for e in events if e.time < end), plant, end)
    lines = [plant.line(line_id)] if line_id else list(plant.lines)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "lines": {line.id: kpis_from_sums(line_sums(plant, line, logs[line.id], start, end)) for line in lines},
    }


def main(argv: list[str] | None = None) -> int:
    from config import parse_timestamp
    from factory.layout import LayoutError, load_plant
    from streams.codec import DecodeError, from_json

    parser = argparse.ArgumentParser(prog="python -m factory.kpis", description="Print KPIs of an event file as JSON.")
    parser.add_argument("events", type=Path, help="JSON lines file of events (python -m line_emulator --out ...)")
    parser.add_argument(
        "--from", dest="start", type=parse_timestamp, help="range start, ISO 8601 (default: first event)"
    )
    parser.add_argument("--to", dest="end", type=parse_timestamp, help="range end, ISO 8601 (default: last event)")
    parser.add_argument("--line", help="only this line (default: every line)")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "factory.yaml",
        help="factory file the events come from (default factory.yaml)",
    )
    args = parser.parse_args(argv)
    try:
        plant = load_plant(args.config)
        if args.line is not None and not plant.has_line(args.line):
            parser.error(f"no line '{args.line}' in {args.config}")
        events = []
        with open(args.events, encoding="utf-8") as f:
            for number, text in enumerate(f, 1):
                if text.strip():
                    try:
                        events.append(from_json(text))
                    except DecodeError as exc:
                        parser.error(f"{args.events}:{number}: {exc}")
        document = compute(events, plant, args.start, args.end, args.line)
    except (OSError, LayoutError, ValueError) as exc:
        parser.error(str(exc))
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
