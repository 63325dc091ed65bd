"""What the history writer stores for each event: pure functions from events to table rows.

Besides the event itself (``events``), the writer keeps facts per unit (``units``: merged so that
any delivery order gives the same row), a token's first unit (``tokens``), an order's options
(``unit_options``), station work as narrow facts (``station_facts``) and summed per site-local
hour (``station_hour``, ``defect_hour``), and the calendar and breakdown events (``timeline``).
KPI queries read these, never the JSON documents (factory.history.queries).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, overload

from factory.layout import Plant
from factory.local_time import hour_start, local_day
from streams import events as ev

TIMELINE_KINDS = tuple(c.KIND for c in (ev.ShiftStarted, ev.ShiftEnded, ev.PlannedStopStarted, ev.PlannedStopEnded,
                                        ev.MachineDown, ev.MachineUp))  # fmt: skip
_NUMBER = re.compile(r"(\d+)$")


def order_number(unit_code: str) -> int | None:
    """Return the running number a unit code ends with (how a restarted plant continues them)."""
    number = _NUMBER.search(unit_code)
    return int(number.group(1)) if number else None


@overload
def naive(t: datetime) -> datetime: ...
@overload
def naive(t: None) -> None: ...
def naive(t: datetime | None) -> datetime | None:
    """Return an aware time as a naive UTC timestamp (how every store keeps times)."""
    return t.astimezone(UTC).replace(tzinfo=None) if t is not None else None


@overload
def aware(t: datetime) -> datetime: ...
@overload
def aware(t: None) -> None: ...
def aware(t: datetime | None) -> datetime | None:
    """Return a stored naive UTC timestamp as an aware datetime."""
    return t.replace(tzinfo=UTC) if t is not None else None


@dataclass
class UnitRow:
    """One unit's facts as the ``units`` table keeps them (times naive UTC)."""

    unit_code: str
    line_id: str
    order_id: str | None = None
    order_number: int | None = None
    token: str | None = None
    product: str | None = None
    placed_at: datetime | None = None
    place_bucket: datetime | None = None
    place_day: date | None = None
    promised_by: str | None = None
    first_entered: datetime | None = None
    finished_at: datetime | None = None
    finish_kind: str | None = None
    finish_bucket: datetime | None = None
    finish_day: date | None = None
    failed: bool = False
    reworked: bool = False
    bottleneck_s: float = 0.0
    shipped_at: datetime | None = None
    ship_day: date | None = None
    ship_local: str | None = None  # the shipping day as YYYY-MM-DD (site-local), compared with promised_by
    first_time: datetime | None = None  # earliest and latest time of any of the unit's events
    last_time: datetime | None = None

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def values(self) -> list[Any]:
        return [getattr(self, name) for name in self.columns()]


def _min(a, b):
    return b if a is None or (b is not None and b < a) else a


def _max(a, b):
    return b if a is None or (b is not None and b > a) else a


def merge_unit(row: UnitRow | None, e: ev.Event, plant: Plant) -> UnitRow | None:
    """Return ``row`` with what ``e`` says about its unit (None if ``e`` is not about a unit here)."""
    unit_code, line_id = getattr(e, "unit_code", None), getattr(e, "line_id", None)
    if unit_code is None or line_id is None or e.CONTROL or not plant.has_line(line_id):
        return row
    if row is None:
        row = UnitRow(unit_code, line_id)
    elif row.line_id != line_id:
        return row  # a unit belongs to one line (the plant check refuses such events)
    tz = plant.tz_of(line_id)
    t = naive(e.time)
    row.first_time, row.last_time = _min(row.first_time, t), _max(row.last_time, t)
    if isinstance(e, ev.OrderPlaced):
        if row.order_id is None:
            row.order_id, row.token, row.product = e.order_id, e.tracking_token, e.product
            row.order_number = order_number(e.unit_code)
            row.placed_at, row.promised_by = t, e.promised_by
            row.place_bucket, row.place_day = naive(hour_start(e.time, tz)), local_day(e.time, tz)
    elif isinstance(e, ev.StationEntered):
        row.first_entered = _min(row.first_entered, t)
    elif isinstance(e, ev.StationWorkDone):
        if e.visit == 1:
            machines = plant.line(line_id).stations[plant.line(line_id).station_index(e.station_id)].machines
            row.bottleneck_s = max(row.bottleneck_s, e.ideal_s / machines)
    elif isinstance(e, ev.QualityChecked):
        row.failed = row.failed or not e.passed
    elif isinstance(e, ev.ReworkRouted):
        row.reworked = True
    elif isinstance(e, (ev.UnitCompleted, ev.UnitScrapped)):
        if row.finished_at is None or t < row.finished_at:
            row.finished_at = t
            row.finish_kind = "completed" if isinstance(e, ev.UnitCompleted) else "scrapped"
            row.finish_bucket, row.finish_day = naive(hour_start(e.time, tz)), local_day(e.time, tz)
    elif isinstance(e, ev.UnitShipped) and (row.shipped_at is None or t < row.shipped_at):
        row.shipped_at, row.ship_day = t, local_day(e.time, tz)
        row.ship_local = row.ship_day.isoformat()
    return row


@dataclass
class StationDelta:
    """What new events add to one station's hour (the ``station_hour`` rollup)."""

    processed: int = 0
    ideal_s: float = 0.0
    work_s: float = 0.0
    setup_s: float = 0.0
    checks: int = 0
    passed: int = 0


def station_rows(events: list[ev.Event], plant: Plant) -> tuple[list[list[Any]], dict[tuple, StationDelta], Counter]:
    """Return (station_facts rows, station_hour deltas, defect_hour deltas) of new events."""
    facts: list[list[Any]] = []
    hours: dict[tuple, StationDelta] = {}
    defects: Counter = Counter()
    for e in events:
        if not isinstance(e, (ev.StationWorkDone, ev.ChangeoverFinished, ev.QualityChecked)):
            continue
        if not plant.has_line(e.line_id):
            continue
        tz = plant.tz_of(e.line_id)
        bucket, day = naive(hour_start(e.time, tz)), local_day(e.time, tz)
        delta = hours.setdefault((e.line_id, e.station_id, bucket, day), StationDelta())
        t = naive(e.time)
        if isinstance(e, ev.StationWorkDone):
            facts.append([e.line_id, e.station_id, t, "work", e.ideal_s, e.work_s, 0.0, None, None])
            delta.processed += 1
            delta.ideal_s += e.ideal_s
            delta.work_s += e.work_s
        elif isinstance(e, ev.ChangeoverFinished):
            facts.append([e.line_id, e.station_id, t, "setup", 0.0, 0.0, e.duration_s, None, None])
            delta.setup_s += e.duration_s
        else:
            code = None if e.passed else (e.defect_code or "unknown")
            facts.append([e.line_id, e.station_id, t, "check", 0.0, 0.0, 0.0, e.passed, code])
            delta.checks += 1
            delta.passed += e.passed
            if code is not None:
                defects[(e.line_id, bucket, day, code)] += 1
    return facts, hours, defects


def timeline_row(e: ev.Event, seq: int) -> list[Any] | None:
    """Return the ``timeline`` row of a calendar or breakdown event (None for other events)."""
    if e.KIND not in TIMELINE_KINDS:
        return None
    reason = getattr(e, "reason_code", None)
    return [
        getattr(e, "line_id", None),
        getattr(e, "station_id", None),
        getattr(e, "machine", None),
        e.KIND,
        naive(e.time),
        reason,
        getattr(e, "reason", None),
        getattr(e, "down_s", None),
        seq,
    ]


def option_rows(e: ev.OrderPlaced, plant: Plant) -> list[list[Any]]:
    """Return the ``unit_options`` rows of an order."""
    day = local_day(e.time, plant.tz_of(e.line_id))
    return [
        [e.unit_code, e.line_id, naive(e.time), day, option, choice] for option, choice in sorted(e.options.items())
    ]
