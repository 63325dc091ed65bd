"""Day rollups: a line's KPI sums per plant-local day, computed once a day is over and kept in history.

KPIs are ratios of additive sums (factory.kpis.LineSums), so a month is the sum of its days and
its KPIs follow with the same formulas. A finished day is summed once (``SETTLE`` after its
end, so late repairs and stragglers are in) and stored; the day under way is summed on every
request. History drops a stored day when an event for it arrives late.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from factory.history import History
from factory.history_kpis import line_sums_from_history
from factory.kpis import LineSums, StationSums
from factory.layout import Line, Plant

SETTLE = timedelta(hours=2)


def day_bounds(plant: Plant, day: date) -> tuple[datetime, datetime]:
    """Return [start, end) of a plant-local day as aware UTC datetimes."""
    start = datetime.combine(day, time(), plant.tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def plant_day(plant: Plant, t: datetime) -> date:
    """Return the plant-local date of an instant."""
    return t.astimezone(plant.tz).date()


def to_json(sums: LineSums) -> str:
    """Serialise a line's sums (hour keys as ISO strings)."""
    # (dataclasses.asdict would turn each Counter into a Counter of (key, count) pairs)
    doc = {f.name: getattr(sums, f.name) for f in fields(LineSums)}
    doc["stations"] = {sid: vars(st) for sid, st in sums.stations.items()}
    doc["open_s_by_hour"] = {k.isoformat(): v for k, v in sums.open_s_by_hour.items()}
    doc["completed_by_hour"] = {k.isoformat(): v for k, v in sums.completed_by_hour.items()}
    return json.dumps(doc, separators=(",", ":"))


def from_json(text: str) -> LineSums:
    """Rebuild a line's sums from to_json's output."""
    doc = json.loads(text)
    sums = LineSums(**{f.name: doc[f.name] for f in fields(LineSums)})
    sums.stations = {sid: StationSums(**st) for sid, st in doc["stations"].items()}
    sums.open_s_by_hour = {datetime.fromisoformat(k): v for k, v in doc["open_s_by_hour"].items()}
    sums.completed_by_hour = Counter({datetime.fromisoformat(k): v for k, v in doc["completed_by_hour"].items()})
    sums.defects, sums.downtime_by_reason = Counter(doc["defects"]), Counter(doc["downtime_by_reason"])
    sums.option_mix = {opt: Counter(mix) for opt, mix in doc["option_mix"].items()}
    return sums


def add(parts: Iterable[LineSums]) -> LineSums:
    """Return the sums of consecutive, disjoint ranges as the sums of their union."""
    total = LineSums()
    for part in parts:
        for f in fields(LineSums):
            name = f.name
            if name == "stations":
                for sid, st in part.stations.items():
                    mine = total.stations.setdefault(sid, StationSums())
                    for g in fields(StationSums):
                        setattr(mine, g.name, getattr(mine, g.name) + getattr(st, g.name))
            elif name == "planned_cycle_s":
                total.planned_cycle_s = part.planned_cycle_s  # a property of the line, not a quantity
            elif name == "option_mix":
                for opt, mix in part.option_mix.items():
                    total.option_mix.setdefault(opt, Counter()).update(mix)
            elif name in ("defects", "downtime_by_reason", "completed_by_hour"):
                getattr(total, name).update(getattr(part, name))
            elif name == "open_s_by_hour":
                for hour, s in part.open_s_by_hour.items():
                    total.open_s_by_hour[hour] = total.open_s_by_hour.get(hour, 0.0) + s
            else:
                setattr(total, name, getattr(total, name) + getattr(part, name))
    return total


def daily_sums(
    history: History, plant: Plant, line: Line, first: date, last: date, now: datetime
) -> dict[date, LineSums]:
    """Return a line's sums for each day in [first, last] up to ``now`` (stored days reused, finished ones stored)."""
    stored = history.day_sums(line.id, first, last)
    out: dict[date, LineSums] = {}
    day = first
    while day <= last:
        start, end = day_bounds(plant, day)
        if start >= now:
            break
        if day in stored:
            out[day] = from_json(stored[day])
        else:
            sums = line_sums_from_history(history, plant, line, start, min(end, now))
            if end + SETTLE <= now:
                history.put_day_sums(line.id, day, start, end, to_json(sums))
            out[day] = sums
        day += timedelta(days=1)
    return out


def warm(history: History, plant: Plant, days: int, now: datetime, progress=None) -> int:
    """Sum and store the finished days of the last ``days`` days for every line; return how many were missing."""
    last, first = plant_day(plant, now), plant_day(plant, now) - timedelta(days=days)
    missing = 0
    for line in plant.lines:
        have = history.day_sums(line.id, first, last)
        todo = [
            first + timedelta(days=i)
            for i in range(days + 1)
            if first + timedelta(days=i) not in have and day_bounds(plant, first + timedelta(days=i))[1] + SETTLE <= now
        ]
        for day in todo:
            daily_sums(history, plant, line, day, day, now)
            missing += 1
            if progress is not None:
                progress(line.id, day)
    return missing


def as_doc(sums: LineSums) -> dict[str, Any]:
    """Return the sums as plain data (for tests and debugging)."""
    return json.loads(to_json(sums))
