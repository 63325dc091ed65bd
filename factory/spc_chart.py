"""One SPC chart's document: which measurements there are, the baseline, limits, rules, capability.

Pure functions over points already read (factory/history/measurements.py reads them, the live
andon watch factory/spc_alarms.py keeps its own). A chart is one measurement of one product at
one station of one line, first tests only: a unit measured again after repair belongs to the
repair, not to the process that built it.

The product of a point is the unit's choice of the option the measurement depends on (the
check's ``by`` in the factory file, e.g. the model AS12 for the refrigerant charge; for a ratio,
the option of its operands), else the line's product: mixing a 600 g and an 1150 g charge on
one chart would show two processes as one wide one.

Control limits come from a baseline, never from the points they judge, so drift within a
shift shows against them: the ``BASELINE_POINTS`` points before the range's start, when at least
``MIN_BASELINE`` exist (docs/kpis.md, "SPC"), else the first ``BASELINE_POINTS`` of the range.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from factory import spc
from factory.layout import Plant
from factory.local_time import local_day
from factory.work_calendar import Calendar, boundaries
from streams.codec import format_time

BASELINE_POINTS = 50
MIN_BASELINE = 20  # Montgomery: trial limits from 20 to 25 subgroups at least


@dataclass(frozen=True)
class Point:
    time: datetime  # aware UTC
    unit_code: str
    value: float
    lower: float | None  # the specification limits the test judged this unit against
    upper: float | None


@dataclass(frozen=True)
class Measured:
    """What can be charted at one station: a measurement and the products it is kept apart for."""

    name: str
    label: str
    unit: str
    option: str | None  # the option whose choice is the product (None: the line's product)
    products: tuple[str, ...]


def option_of(plant: Plant, product_id: str, measurement: str) -> str | None:
    """Return the option a measurement's value depends on (its ``by``, or its ratio operands'), or None."""
    checks = plant.spec.products[product_id].checks
    check = checks.get(measurement)
    if check is None:
        return None
    if check.by is not None:
        return check.by
    for operand in check.ratio or ():
        if operand in checks and checks[operand].by is not None:
            return checks[operand].by
    return None


def catalogue(plant: Plant) -> dict[str, dict[str, dict[str, Measured]]]:
    """Return line -> station -> measurement name -> what can be charted, from the factory file's gates."""
    out: dict[str, dict[str, dict[str, Measured]]] = {}
    for site in plant.spec.sites:
        for line in site.lines:
            product = plant.spec.products[line.product]
            stations: dict[str, dict[str, Measured]] = {}
            for station in line.stations:
                if station.gate is None:
                    continue
                found = {}
                for name in station.gate.checks:
                    check = product.checks[name]
                    option = option_of(plant, line.product, name)
                    choices = tuple(product.options[option].choices) if option else (line.product,)
                    found[name] = Measured(name, check.label["en"], check.unit["en"], option, choices)
                stations[station.id] = found
            out[line.id] = stations
    return out


def choose_baseline(before: Sequence[Point], within: Sequence[Point]) -> tuple[str, list[Point]] | None:
    """Return ("before" | "first", the baseline points), or None when neither has ``MIN_BASELINE`` points."""
    if len(before) >= MIN_BASELINE:
        return "before", list(before[-BASELINE_POINTS:])
    if len(within) >= MIN_BASELINE:
        return "first", list(within[:BASELINE_POINTS])
    return None


def shift_spans(calendar: Calendar | None, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Return the shifts (begin, end, name) that overlap [start, end), in time order."""
    if calendar is None or not calendar.shifts or not calendar.weekdays:
        return []  # boundaries() would look for a first shift forever
    spans: list[tuple[datetime, datetime, str]] = []
    open_at: dict[str, datetime] = {}
    for b in boundaries(calendar, start):
        if b.at >= end and not open_at:
            break
        if b.kind == "shift_start":
            open_at[b.name] = b.at
        elif b.kind == "shift_end" and b.name in open_at:
            begin = open_at.pop(b.name)
            if b.at > start:
                spans.append((begin, b.at, b.name))
            if b.at >= end and not open_at:
                break
    return spans


def _groups(points: Sequence[Point], tz, spans) -> tuple[dict[date, list[int]], dict[tuple[date, str], list[int]]]:
    days: dict[date, list[int]] = {}
    shifts: dict[tuple[date, str], list[int]] = {}
    begins = [s[0] for s in spans]
    for i, p in enumerate(points):
        days.setdefault(local_day(p.time, tz), []).append(i)
        k = bisect.bisect_right(begins, p.time) - 1
        if k >= 0 and p.time < spans[k][1]:
            shifts.setdefault((local_day(spans[k][0], tz), spans[k][2]), []).append(i)
    return days, shifts


def _capability(points: Sequence[Point], indices: list[int]) -> dict[str, Any]:
    last = points[indices[-1]]  # the specification in force at the end of the group
    cap = spc.capability([points[i].value for i in indices], last.lower, last.upper)
    return {k: spc.finite(v) if isinstance(v, float) else v for k, v in cap.items()}


def chart(
    points: Sequence[Point],
    before: Sequence[Point],
    tz,
    calendar: Calendar | None,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Return the chart of ``points`` (time order) with limits from the baseline (see module doc).

    ``before`` are the points preceding ``start`` (time order, at least the last BASELINE_POINTS).
    """
    chosen = choose_baseline(before, points)
    limits = spc.imr_limits([p.value for p in chosen[1]]) if chosen else None
    values = [p.value for p in points]
    rules = spc.violations(values, limits) if limits is not None else {rule: [] for rule in spc.RULES}
    broken: dict[int, list[str]] = {}
    for rule, indices in rules.items():
        for i in indices:
            broken.setdefault(i, []).append(rule)
    ranges = spc.moving_ranges(values)
    days, shifts = _groups(points, tz, shift_spans(calendar, start, end))
    last = points[-1] if points else (before[-1] if before else None)
    return {
        "baseline": None
        if chosen is None
        else {
            "kind": chosen[0],
            "n": len(chosen[1]),
            "from": format_time(chosen[1][0].time),
            "to": format_time(chosen[1][-1].time),
        },
        "limits": None if limits is None else {k: spc.finite(v) for k, v in limits.to_json().items()},
        "note": None if limits is not None else "too_few_points",
        "spec": {"lower": last.lower if last else None, "upper": last.upper if last else None},
        "points": [
            {
                "time": format_time(p.time),
                "unit_code": p.unit_code,
                "value": spc.finite(p.value),
                "mr": spc.finite(ranges[i - 1]) if i > 0 else None,
                "rules": broken.get(i, []),
            }
            for i, p in enumerate(points)
        ],
        "violations": rules,
        "capability": {
            "days": [{"day": d.isoformat(), **_capability(points, ix)} for d, ix in sorted(days.items())],
            "shifts": [
                {"day": d.isoformat(), "shift": s, **_capability(points, ix)}
                for (d, s), ix in sorted(shifts.items(), key=lambda kv: points[kv[1][0]].time)
            ],
        },
    }
