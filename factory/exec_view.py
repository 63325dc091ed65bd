"""The executive view: KPIs of a scope (enterprise, site, line or station) over whole site-local days.

Each line's days come from the history's rollups in a few grouped queries
(factory.history.queries.daily_sums), settled days from those kept (factory.history.day_sums);
ratios are always taken of summed quantities (factory.kpi_sums.add, then the registry), never
averaged. Sites and lines are compared on the
same KPIs; a day is each site's own local day. Lead times come from history as a distribution.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from factory.history import History, day_sums
from factory.history import queries as hq
from factory.history.rows import naive
from factory.kpi_registry import evaluate
from factory.kpi_sums import LineSums, add
from factory.layout import Line, Plant
from factory.local_time import day_bounds

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
    "plan_attainment",
)
COMPARED = (
    "oee",
    "availability",
    "performance",
    "quality",
    "first_pass_yield",
    "throughput_per_hour",
    "units_completed",
    "on_time_delivery",
    "plan_attainment",
)
STATION_COMPARED = ("oee", "availability", "performance", "quality", "utilisation", "units_processed",
                    "failures", "mtbf_s", "mttr_s")  # fmt: skip


class ScopeError(ValueError):
    """A range, site, line or station the enterprise does not have."""


def check_scope(
    plant: Plant, first: date, last: date, site_id: str | None, line_id: str | None, station_id: str | None
) -> None:
    """Raise ScopeError unless the range and the drill-down path exist."""
    if last < first:
        raise ScopeError("the range ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise ScopeError(f"a range is at most {MAX_DAYS} days")
    if site_id is not None and not plant.has_site(site_id):
        raise ScopeError(f"no site {site_id!r}")
    if line_id is not None and (not plant.has_line(line_id) or (site_id and plant.line(line_id).site_id != site_id)):
        raise ScopeError(f"no line {line_id!r}" + (f" at {site_id}" if site_id else ""))
    if station_id is not None and (line_id is None or not plant.line(line_id).has_station(station_id)):
        raise ScopeError(f"no station {station_id!r} on that line")


def _scope(plant: Plant, site_id: str | None, line_id: str | None) -> list[Line]:
    if line_id:
        return [plant.line(line_id)]
    if site_id:
        return list(plant.site(site_id).lines)
    return list(plant.lines)


def exec_view(
    history: History,
    plant: Plant,
    first: date,
    last: date,
    now: datetime,
    line_id: str | None = None,
    station_id: str | None = None,
    site_id: str | None = None,
    allowed_sites: set[str] | None = None,
) -> dict[str, Any]:
    """Return what the executive page shows for days [first, last] (site-local) as known at ``now``.

    ``allowed_sites`` (an executive bound to a site) limits every figure, comparison included.
    """
    check_scope(plant, first, last, site_id, line_id, station_id)
    if site_id is None and line_id is not None:
        site_id = plant.line(line_id).site_id
    lines_all = [ln for ln in plant.lines if allowed_sites is None or ln.site_id in allowed_sites]
    if site_id is not None and allowed_sites is not None and site_id not in allowed_sites:
        raise ScopeError("that site is not yours")
    per_line = {}
    day_sums.refresh(history)
    for line in lines_all:
        began, tz = hq.line_history_start(history, line.id), plant.tz_of(line.id)
        per_line[line.id] = {
            d: sums
            for d, sums in day_sums.line_days(history, plant, line, first, last, now).items()
            if worked(sums) or recorded(sums, day_bounds(d, tz)[1], began)
        }
    scope = [ln for ln in _scope(plant, site_id, line_id) if ln.id in per_line]
    days = sorted({d for line in scope for d in per_line[line.id]})

    line_totals = {ln: add(list(days_of.values())) for ln, days_of in per_line.items()}  # each line's range, once

    def combined(lines: list[Line], day: date | None = None) -> LineSums:
        if day is None:
            parts, names = [line_totals[ln.id] for ln in lines], [ln.id for ln in lines]
        else:
            picked = [ln for ln in lines if day in per_line[ln.id]]
            parts, names = [per_line[ln.id][day] for ln in picked], [ln.id for ln in picked]
        return add(parts, prefixes=names if len(lines) > 1 or line_id is None else None)

    station_key = station_id if line_id is not None and len(scope) == 1 else None
    day_docs = [evaluate(combined(scope, d), hourly=False) for d in days]
    total = evaluate(combined(scope), hourly=False)

    def trend_of(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["stations"].get(station_key, {}) if station_id else doc

    by_hour: dict[str, int] = {}
    for line in scope:
        tz = plant.tz_of(line.id)
        for sums in per_line[line.id].values():
            for hour, n in sums.completed_by_hour.items():
                local = hour.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                by_hour[local] = by_hour.get(local, 0) + n
    sites = [s for s in plant.sites if allowed_sites is None or s.id in allowed_sites]
    return {
        "scope": {"first": first.isoformat(), "last": last.isoformat(), "site": site_id, "line": line_id,
                  "station": station_id},
        "headline": {k: trend_of(total).get(k) for k in HEADLINE},
        "days": [d.isoformat() for d in days],
        "trend": {k: [trend_of(doc).get(k) for doc in day_docs] for k in ("oee", "availability", "performance",
                                                                          "quality")},
        "completed_per_day": [doc["units_completed"] for doc in day_docs],
        "on_time_per_day": [doc["on_time_delivery"] for doc in day_docs],
        "completed_per_hour": dict(sorted(by_hour.items())),
        "lead_time_h": lead_times(history, plant, first, last, now, [ln.id for ln in scope]),
        "defect_pareto": total["defect_pareto"],
        "downtime_pareto_s": total["downtime_pareto_s"],
        "downtime_classified_share": total["downtime_classified_share"],
        "option_mix": _mix_by_product(plant, scope, per_line),
        "sites": {s.id: compared(combined([ln for ln in s.lines if ln.id in per_line])) for s in sites},
        "lines": {ln.id: compared(combined([ln])) for ln in (scope if site_id or line_id else lines_all)},
        "stations": {} if line_id is None else {
            s.id: {k: total["stations"][s.id][k] for k in STATION_COMPARED}
            for s in plant.line(line_id).stations if s.id in total["stations"]},
    }  # fmt: skip


def compared(sums: LineSums) -> dict[str, Any]:
    """Return the KPIs sites and lines are compared on (one evaluation of their sums)."""
    doc = evaluate(sums, hourly=False)
    return {k: doc.get(k) for k in COMPARED}


def _mix_by_product(
    plant: Plant, scope: list[Line], per_line: dict[str, dict[date, LineSums]]
) -> dict[str, dict[str, dict[str, int]]]:
    """Return orders placed per product, option and choice (options of different products never mix)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for line in scope:
        product = out.setdefault(line.product, {})
        for sums in per_line[line.id].values():
            for option, choices in sums.option_mix.items():
                mine = product.setdefault(option, {})
                for choice, n in choices.items():
                    mine[choice] = mine.get(choice, 0) + n
    return {p: {o: dict(sorted(c.items())) for o, c in sorted(mix.items())} for p, mix in out.items() if mix}


def worked(sums: LineSums) -> bool:
    """Tell whether a line did anything that day: a day before its history began has no KPIs, not zeros."""
    return sums.orders_placed > 0 or sums.produced > 0 or any(st.processed for st in sums.stations.values())


def recorded(sums: LineSums, day_end: datetime, began: datetime | None) -> bool:
    """Tell whether an idle day still counts: the line's history had begun and it was open.

    A day open but down from start to end, or open with no orders, is lost time the month's
    figures must carry (its planned busy time, its breakdowns); only days before the line's
    first recorded event are left out.
    """
    return began is not None and began < day_end and sums.pbt_s > 0


def lead_times(history: History, plant: Plant, first: date, last: date, now: datetime, lines: list[str]) -> list[float]:
    """Return the order-to-completion time (hours) of every unit completed in the range."""
    if not lines:
        return []
    out: list[float] = []
    seconds = history.seconds_between("placed_at", "finished_at")
    for line_id in lines:
        tz = plant.tz_of(line_id)
        start, end = day_bounds(first, tz)[0], min(day_bounds(last, tz)[1], now)
        rows = history.query(
            f"SELECT {seconds} / 3600.0 FROM units WHERE line_id = ? AND finish_kind = 'completed' "
            "AND placed_at IS NOT NULL AND finished_at >= ? AND finished_at < ? ORDER BY finished_at, unit_code",
            [line_id, naive(start), naive(end)],
        )
        out += [round(float(v), 3) for (v,) in rows]
    return out


def warm(history: History, plant: Plant, days: int = 30) -> int:
    """Keep every line's settled days of the default range; return how many line-days that took.

    The app runs it once at start, in the background, so the first executive page after a
    restart (or after ``tf backfill``) reads kept days instead of summing a month of hours.
    """
    now = history.last_time(line_events_only=True)
    if now is None:
        return 0
    first, last = default_range(plant, now, days)
    day_sums.refresh(history)
    return sum(len(day_sums.line_days(history, plant, line, first, last, now)) for line in plant.lines)


def default_range(plant: Plant, now: datetime, days: int = 30) -> tuple[date, date]:
    """Return the last ``days`` local days up to and including today (the first site's days)."""
    today = now.astimezone(plant.sites[0].tz).date()
    return today - timedelta(days=days - 1), today
