"""The executive view: KPIs of a scope (plant, line or station) over whole plant-local days.

Built from day rollups (factory/rollups.py), so 30 days cost 30 stored rows per line plus the
day under way; ratios are always taken of summed quantities (docs/kpis.md), never averaged.
Lead times come straight from history, as a distribution rather than one mean.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from factory.history import History, _utc_naive
from factory.kpis import kpis_from_sums
from factory.layout import Plant
from factory.rollups import add, daily_sums, day_bounds

MAX_DAYS = 366
HEADLINE = (
    "oee",
    "availability",
    "performance",
    "quality",
    "units_completed",
    "first_pass_yield",
    "throughput_per_hour",
    "on_time_delivery",
    "lead_time_avg_s",
    "mtbf_s",
    "mttr_s",
)
LINE_COMPARED = (
    "oee",
    "availability",
    "performance",
    "quality",
    "first_pass_yield",
    "throughput_per_hour",
    "units_completed",
    "on_time_delivery",
)
STATION_COMPARED = (
    "oee",
    "availability",
    "performance",
    "quality",
    "utilisation",
    "units_processed",
    "failures",
    "mtbf_s",
    "mttr_s",
)

_LEAD_SQL = """
WITH finished AS (
    SELECT unit_code, min(time) AS t FROM events
    WHERE type = 'completed' AND time >= $start AND time < $end AND line_id IN (SELECT id FROM scope)
    GROUP BY unit_code
)
SELECT date_diff('second', min(p.time), any_value(f.t)) / 3600.0 AS lead_h
FROM events p JOIN finished f USING (unit_code)
WHERE p.type = 'placed' AND p.time >= $earliest
GROUP BY p.unit_code
"""
LEAD_LOOKBACK = timedelta(days=60)  # an order placed longer before it was finished is not looked for


class ScopeError(ValueError):
    """A range, line or station the plant does not have."""


def check_scope(plant: Plant, first: date, last: date, line_id: str | None, station_id: str | None) -> None:
    """Raise ScopeError unless the range and the drill-down path exist."""
    if last < first:
        raise ScopeError("the range ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise ScopeError(f"a range is at most {MAX_DAYS} days")
    if line_id is not None and not plant.has_line(line_id):
        raise ScopeError(f"no line {line_id!r}")
    if station_id is not None and (line_id is None or station_id not in {s.id for s in plant.line(line_id).stations}):
        raise ScopeError(f"no station {station_id!r} on that line")


def exec_view(
    history: History,
    plant: Plant,
    first: date,
    last: date,
    now: datetime,
    line_id: str | None = None,
    station_id: str | None = None,
) -> dict[str, Any]:
    """Return what the executive page shows for days [first, last] (plant-local) as known at ``now``."""
    check_scope(plant, first, last, line_id, station_id)
    per_line = {
        line.id: {d: sums for d, sums in daily_sums(history, plant, line, first, last, now).items() if worked(sums)}
        for line in plant.lines
    }
    scope = [line_id] if line_id else [line.id for line in plant.lines]
    days = sorted({d for line in scope for d in per_line[line]})
    day_docs = [kpis_from_sums(add(per_line[line][d] for line in scope if d in per_line[line])) for d in days]
    total = kpis_from_sums(add(s for line in scope for s in per_line[line].values()))
    line_totals = {line.id: kpis_from_sums(add(per_line[line.id].values())) for line in plant.lines}

    def trend_of(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["stations"].get(station_id, {}) if station_id else doc

    by_hour: dict[str, int] = {}
    for doc in day_docs:
        for h in doc["hourly"]:
            local = datetime.fromisoformat(h["hour"]).astimezone(plant.tz).strftime("%Y-%m-%d %H:00")
            by_hour[local] = by_hour.get(local, 0) + h["actual"]
    return {
        "scope": {"first": first.isoformat(), "last": last.isoformat(), "line": line_id, "station": station_id},
        "headline": {k: trend_of(total).get(k) for k in HEADLINE},
        "days": [d.isoformat() for d in days],
        "trend": {
            k: [trend_of(doc).get(k) for doc in day_docs] for k in ("oee", "availability", "performance", "quality")
        },
        "completed_per_day": [doc["units_completed"] for doc in day_docs],
        "on_time_per_day": [doc["on_time_delivery"] for doc in day_docs],
        "completed_per_hour": by_hour,
        "lead_time_h": lead_times(history, plant, first, last, now, scope),
        "defect_pareto": total["defect_pareto"],
        "downtime_pareto_s": total["downtime_pareto_s"],
        "option_mix": total["option_mix"],
        "lines": {lid: {k: doc[k] for k in LINE_COMPARED} for lid, doc in line_totals.items()},
        "stations": {}
        if line_id is None
        else {s.id: {k: total["stations"][s.id][k] for k in STATION_COMPARED} for s in plant.line(line_id).stations},
    }


def worked(sums) -> bool:
    """Tell whether a line did anything that day: a day before its history began has no KPIs, not zeros."""
    return sums.orders_placed > 0 or sums.produced > 0 or any(st.processed for st in sums.stations.values())


def lead_times(history: History, plant: Plant, first: date, last: date, now: datetime, scope: list[str]) -> list[float]:
    """Return the order-to-completion time (hours) of every unit completed in the range."""
    start, end = day_bounds(plant, first)[0], min(day_bounds(plant, last)[1], now)
    frame = history.frame(
        _LEAD_SQL,
        {"start": _utc_naive(start), "end": _utc_naive(end), "earliest": _utc_naive(start - LEAD_LOOKBACK)},
        scope=pd.DataFrame({"id": scope}),
    )
    return [round(v, 3) for v in frame["lead_h"].tolist()]


def default_range(plant: Plant, now: datetime, days: int = 30) -> tuple[date, date]:
    """Return the last ``days`` plant-local days up to and including today."""
    today = now.astimezone(plant.tz).date()
    return today - timedelta(days=days - 1), today
