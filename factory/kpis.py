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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

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
            log.finished.setdefault(e.unit_code, (e.time, "completed" if isinstance(e, ev.UnitCompleted) else "scrapped"))
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


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def line_kpis(line: Line, log: _LineLog, start: datetime, end: datetime) -> dict[str, Any]:
    """Return one line's KPIs over [start, end) from its log."""
    def in_range(t: datetime) -> bool:
        return start <= t < end

    window = [(start, end)]
    open_time = subtract(intersect(normalise(log.shifts), window), normalise(log.stops))
    pbt = seconds(open_time)  # planned busy time of the line

    stations: dict[str, dict[str, Any]] = {}
    totals = Counter()
    for station in line.stations:
        sid, m = station.id, station.machines
        down = sum(seconds(intersect(normalise(f.down for f in log.failures if f.station_id == sid and f.machine == k),
                                     open_time))
                   for k in range(1, m + 1))
        work = [w for w in log.work if w.station_id == sid and in_range(w.time)]
        checks = [c for c in log.checks if c.station_id == sid and in_range(c.time)]
        setup = sum(c.duration_s for c in log.changeovers if c.station_id == sid and in_range(c.time))
        failures = [f for f in log.failures if f.station_id == sid and in_range(f.down[0])]
        s_pbt, ideal = m * pbt, sum(w.ideal_s for w in work)
        apt = s_pbt - down
        produced = len(checks) if checks else len(work)
        good = sum(c.passed for c in checks) if checks else len(work)
        availability, performance, quality = _ratio(apt, s_pbt), _ratio(ideal, apt), _ratio(good, produced)
        stations[sid] = {
            "oee": _ratio(ideal * (good / produced if produced else 0), s_pbt),
            "availability": availability, "performance": performance, "quality": quality,
            "planned_busy_time_s": round(s_pbt, 3), "unplanned_downtime_s": round(down, 3),
            "units_processed": len(work), "utilisation": _ratio(sum(w.work_s for w in work) + setup, apt),
            "failures": len(failures),
            "mtbf_s": round(apt / len(failures), 3) if failures else None,
            "mttr_s": _mean([f.repair_s for f in failures if f.repair_s is not None]),
        }
        totals.update(pbt=s_pbt, apt=apt, down=down, failures=len(failures))

    finished = {u: kind for u, (t, kind) in log.finished.items() if in_range(t)}
    completed = [u for u, kind in finished.items() if kind == "completed"]
    produced = len(finished)
    first_pass_good = sum(1 for u in completed if u not in log.failed_units)
    availability = _ratio(totals["apt"], totals["pbt"])
    fully_productive = sum(log.ideal_bottleneck_s.get(u, 0.0) for u in finished)
    performance = _ratio(fully_productive, (availability or 0) * pbt)
    quality = _ratio(first_pass_good, produced)
    all_failures = [f for f in log.failures if in_range(f.down[0])]
    placed = [o for o in log.placed.values() if in_range(o.time)]
    # WIP: a unit counts from its first station entry until it is completed or scrapped.
    wip_seconds = sum(seconds(intersect([(t, log.finished.get(u, (end, ""))[0])], window))
                      for u, t in log.entered.items())
    return {
        "oee": _ratio(fully_productive * (first_pass_good / produced if produced else 0), pbt),
        "availability": availability, "performance": performance, "quality": quality,
        "planned_busy_time_s": round(pbt, 3), "unplanned_downtime_s": round(totals["down"], 3),
        "units_completed": len(completed), "units_scrapped": produced - len(completed),
        "throughput_per_hour": _ratio(len(completed) * 3600, pbt),
        "first_pass_yield": quality,
        "rework_ratio": _ratio(sum(1 for u in finished if u in log.reworked_units), produced),
        "scrap_ratio": _ratio(produced - len(completed), produced),
        "wip_avg": _ratio(wip_seconds, (end - start).total_seconds()),
        "lead_time_avg_s": _mean([(log.finished[u][0] - log.placed[u].time).total_seconds()
                                  for u in completed if u in log.placed]),
        "flow_time_avg_s": _mean([(log.finished[u][0] - log.entered[u]).total_seconds()
                                  for u in finished if u in log.entered]),
        "lead_time_to_ship_avg_s": _mean([(t - log.placed[u].time).total_seconds()
                                          for u, t in log.shipped.items() if in_range(t) and u in log.placed]),
        "orders_placed": len(placed),
        "takt_time_s": round(pbt / len(placed), 3) if placed else None,
        "actual_cycle_time_s": round(pbt / len(completed), 3) if completed else None,
        "failures": totals["failures"],
        "mtbf_s": round(totals["apt"] / totals["failures"], 3) if totals["failures"] else None,
        "mttr_s": _mean([f.repair_s for f in all_failures if f.repair_s is not None]),
        "bottleneck": max(stations, key=lambda s: stations[s]["utilisation"] or 0) if stations else None,
        "defect_pareto": _pareto(Counter(c.defect_code for c in log.checks if not c.passed and in_range(c.time))),
        "downtime_pareto_s": _pareto(Counter({r: sum(seconds(intersect([f.down], open_time))
                                                     for f in log.failures if f.reason_code == r)
                                              for r in {f.reason_code for f in log.failures}})),
        "option_mix": {opt: dict(sorted(Counter(o.options[opt] for o in placed if opt in o.options).items()))
                       for opt in sorted({k for o in placed for k in o.options})},
        "stations": stations,
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _pareto(counts: Counter) -> list[dict[str, Any]]:
    return [{"key": k, "value": round(v, 3)} for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def compute(events: list[ev.Event], plant: Plant, start: datetime | None = None, end: datetime | None = None,
            line_id: str | None = None) -> dict[str, Any]:
    """Return the KPI document for [start, end) (default: the events' own span) and one or every line."""
    if not events and (start is None or end is None):
        raise ValueError("no events, and no --from/--to to measure over")
    start = start or min(e.time for e in events)
    end = end or max(e.time for e in events)
    if end <= start:
        raise ValueError(f"empty time range: {start.isoformat()} .. {end.isoformat()}")
    logs = collect(events, plant, end)
    lines = [plant.line(line_id)] if line_id else list(plant.lines)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "lines": {line.id: line_kpis(line, logs[line.id], start, end) for line in lines}}


def main(argv: list[str] | None = None) -> int:
    from config import parse_timestamp
    from factory.layout import LayoutError, load_plant
    from streams.codec import DecodeError, from_json

    parser = argparse.ArgumentParser(prog="python -m factory.kpis", description="Print KPIs of an event file as JSON.")
    parser.add_argument("events", type=Path, help="JSON lines file of events (python -m line_emulator --out ...)")
    parser.add_argument("--from", dest="start", type=parse_timestamp, help="range start, ISO 8601 (default: first event)")
    parser.add_argument("--to", dest="end", type=parse_timestamp, help="range end, ISO 8601 (default: last event)")
    parser.add_argument("--line", help="only this line (default: every line)")
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parent.parent / "factory.yaml",
                        help="factory file the events come from (default factory.yaml)")
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
