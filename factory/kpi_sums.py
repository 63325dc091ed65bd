"""The additive quantities every KPI is a ratio of, per station and per line, and how they add up.

Sums over disjoint ranges add to the sums of their union; sums of several lines add to the
sums of the lines together (stations stay apart, keyed ``line/station``). Every KPI is then one
formula over one set of sums (:mod:`factory.kpi_registry`), so a month's, a plant's or an
enterprise's figure is never an average of percentages.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any


@dataclass
class StationSums:
    """Additive quantities of one station over a range."""

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
    """Additive quantities of one line (or of several lines together) over a range."""

    range_s: float = 0.0  # length of the range (per line: lines together add their ranges)
    pbt_s: float = 0.0  # planned busy time: open time of the line
    apt_s: float = 0.0  # the line's actual production time: PBT x (Σ station APT / Σ station PBT)
    stations: dict[str, StationSums] = field(default_factory=dict)
    produced: int = 0  # completed + scrapped
    completed: int = 0
    first_pass_good: int = 0
    reworked: int = 0  # produced units that went to the repair bay
    fully_productive_s: float = 0.0  # Σ over produced units of their ideal time at the bottleneck
    wip_s: float = 0.0  # unit-seconds on the line
    lead_s: float = 0.0
    lead_n: int = 0
    flow_s: float = 0.0
    flow_n: int = 0
    ship_lead_s: float = 0.0
    ship_lead_n: int = 0
    shipped_promised: int = 0  # shipped in the range, with a promised date
    shipped_on_time: int = 0  # ... on or before it (site-local dates)
    planned_units: float = 0.0  # Σ open time / planned cycle time: what the plan asked for
    open_s_by_hour: dict[datetime, float] = field(default_factory=dict)  # local hour start (UTC) -> open seconds
    plan_by_hour: dict[datetime, float] = field(default_factory=dict)  # local hour start (UTC) -> planned units
    completed_by_hour: Counter = field(default_factory=Counter)
    orders_placed: int = 0
    defects: Counter = field(default_factory=Counter)
    downtime_by_reason: dict[str, float] = field(default_factory=dict)  # reason of the tree -> seconds down
    downtime_classified_s: float = 0.0  # of those seconds, the ones of stops a person classified
    option_mix: dict[str, Counter] = field(default_factory=dict)


def machine_apt_s(sums: LineSums) -> float:
    """Return Σ station APT: machine-time not lost to breakdowns."""
    return sum(st.pbt_s - st.down_s for st in sums.stations.values())


@cache
def _field_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the fields of LineSums and StationSums (looked up once: ``add`` runs thousands of times a page)."""
    return tuple(f.name for f in fields(LineSums)), tuple(f.name for f in fields(StationSums))


def add(parts: list[LineSums] | Any, prefix_stations: bool = False, prefixes: list[str] | None = None) -> LineSums:
    """Return the sums of several parts (consecutive ranges of one line, or several lines).

    With ``prefixes`` (one per part, e.g. line ids), stations are kept apart as ``prefix/station``.
    """
    total = LineSums()
    line_fields, station_fields = _field_names()
    for n, part in enumerate(parts):
        prefix = f"{prefixes[n]}/" if prefixes else ""
        for name in line_fields:
            value = getattr(part, name)
            if name == "stations":
                for sid, st in value.items():
                    mine = total.stations.setdefault(prefix + sid, StationSums())
                    for g in station_fields:
                        setattr(mine, g, getattr(mine, g) + getattr(st, g))
            elif name == "option_mix":
                for opt, mix in value.items():
                    total.option_mix.setdefault(opt, Counter()).update(mix)
            elif name in ("defects", "completed_by_hour"):
                getattr(total, name).update(value)
            elif name in ("open_s_by_hour", "plan_by_hour", "downtime_by_reason"):
                mine = getattr(total, name)
                for hour, s in value.items():
                    mine[hour] = mine.get(hour, 0.0) + s
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


def to_json(sums: LineSums) -> str:
    """Serialise sums (hour keys as ISO strings)."""
    doc = {f.name: getattr(sums, f.name) for f in fields(LineSums)}
    doc["stations"] = {sid: vars(st) for sid, st in sums.stations.items()}
    for name in ("open_s_by_hour", "plan_by_hour", "completed_by_hour"):
        doc[name] = {k.isoformat(): v for k, v in getattr(sums, name).items()}
    return json.dumps(doc, separators=(",", ":"), allow_nan=False)


def from_json(text: str) -> LineSums:
    """Rebuild sums from to_json's output."""
    doc = json.loads(text)
    sums = LineSums(**{f.name: doc[f.name] for f in fields(LineSums)})
    sums.stations = {sid: StationSums(**st) for sid, st in doc["stations"].items()}
    sums.open_s_by_hour = {datetime.fromisoformat(k): v for k, v in doc["open_s_by_hour"].items()}
    sums.plan_by_hour = {datetime.fromisoformat(k): v for k, v in doc["plan_by_hour"].items()}
    sums.completed_by_hour = Counter({datetime.fromisoformat(k): v for k, v in doc["completed_by_hour"].items()})
    sums.defects, sums.downtime_by_reason = Counter(doc["defects"]), dict(doc["downtime_by_reason"])
    sums.option_mix = {opt: Counter(mix) for opt, mix in doc["option_mix"].items()}
    return sums
