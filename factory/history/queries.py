"""KPIs over the stored history: the same sums as the reference path, from the writer's tables.

Exact for any range, however long ago its state began: what is in force at the range's start
(a shift, a planned stop, a machine down since last week) is the latest calendar or breakdown
event before it, found in the whole ``timeline``; the events inside the range follow, and both
go through the same interval code as the reference path (factory.kpis.time_sums). Station work
comes from the hourly rollup for whole site-local hours and from the narrow facts for the
partial hours at the edges; unit figures come from the per-unit facts. The registry's formulas
finish the job (factory.kpi_documents), so the dashboard, the CLI, the REST API and the
reference path agree by construction (tests hold them equal to 1e-9).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from factory.history.rows import aware, naive
from factory.history.store import RANK_SQL, History
from factory.kpi_documents import document
from factory.kpi_sums import LineSums
from factory.kpis import collect, time_sums
from factory.layout import Line, Plant
from factory.local_time import day_bounds, hour_buckets, hour_start
from streams import codec
from streams import events as ev

_FAMILY = ("CASE WHEN kind IN ('shift_started', 'shift_ended') THEN 'shift' "
           "WHEN kind IN ('planned_stop_started', 'planned_stop_ended') THEN 'stop' ELSE 'machine' END")  # fmt: skip
_IN_FORCE_SQL = f"""
SELECT kind, station_id, machine, time, reason_code, reason, down_s FROM (
    SELECT kind, station_id, machine, time, reason_code, reason, down_s,
           ROW_NUMBER() OVER (PARTITION BY {_FAMILY}, station_id, machine ORDER BY time DESC, {RANK_SQL} DESC, seq DESC)
               AS latest
    FROM timeline WHERE line_id = ? AND time < ?
) t WHERE latest = 1
"""
_RANGE_SQL = f"""
SELECT kind, station_id, machine, time, reason_code, reason, down_s FROM timeline
WHERE line_id = ? AND time >= ? AND time < ? ORDER BY time, {RANK_SQL}, seq
"""


def _timeline_event(line_id: str, row: tuple) -> ev.Event:
    """Rebuild enough of a calendar or breakdown event for the interval code."""
    kind, station_id, machine, time, reason_code, reason, down_s = row
    envelope = {"id": "timeline", "source": "history", "time": aware(time), "line_id": line_id}
    if kind == "shift_started":
        return ev.ShiftStarted(**envelope, shift="", planned_end="")
    if kind == "shift_ended":
        return ev.ShiftEnded(**envelope, shift="")
    if kind == "planned_stop_started":
        return ev.PlannedStopStarted(**envelope, kind="", reason=reason or "", planned_s=0.0)
    if kind == "planned_stop_ended":
        return ev.PlannedStopEnded(**envelope, kind="")
    if kind == "machine_down":
        return ev.MachineDown(
            **envelope, station_id=station_id, machine=machine, reason_code=reason_code or "", reason=reason or ""
        )
    return ev.MachineUp(
        **envelope, station_id=station_id, machine=machine, reason_code=reason_code or "", down_s=down_s or 0.0
    )


_CLASSIFIED_SQL = "SELECT doc FROM events WHERE kind = 'downtime_classified' AND line_id = ? ORDER BY seq"


def classifications(history: History, line_id: str) -> list[ev.Event]:
    """Return the line's stop classifications in the order they were recorded (the latest of a stop counts).

    All of them, whatever their time: a person classifies a stop by the wall clock, which need not
    follow the line's (a replayed or paced plant), and they are few beside the line's events.
    """
    return [codec.from_json(doc) for (doc,) in history.query(_CLASSIFIED_SQL, [line_id])]


def calendar_sums(history: History, plant: Plant, line: Line, start: datetime, end: datetime) -> LineSums:
    """Return the time part of a line's sums over [start, end): open time, downtime, failures, plan."""
    rows = history.query(_IN_FORCE_SQL, [line.id, naive(start)]) + history.query(
        _RANGE_SQL, [line.id, naive(start), naive(end)]
    )
    events = classifications(history, line.id) + [_timeline_event(line.id, row) for row in rows]
    return time_sums(plant, line, collect(events, plant, end)[line.id], start, end)


def _full_hours(plant: Plant, line: Line, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Return [a, b): the span of whole site-local hours inside [start, end) (a == b when there is none)."""
    tz = plant.tz_of(line.id)
    whole = [(a, b) for a, b in hour_buckets(start, end, tz) if hour_start(a, tz) == a and hour_start(b, tz) == b]
    whole = [(a, b) for a, b in whole if b > a]
    if not whole:
        return start, start
    return whole[0][0], whole[-1][1]


_STATIONS_HOUR_SQL = """
SELECT station_id, sum(processed), sum(ideal_s), sum(work_s), sum(setup_s), sum(checks), sum(passed)
FROM station_hour WHERE line_id = ? AND bucket >= ? AND bucket < ? GROUP BY station_id
"""
_STATIONS_RAW_SQL = """
SELECT station_id,
       sum(CASE WHEN kind = 'work' THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'work' THEN ideal_s ELSE 0 END),
       sum(CASE WHEN kind = 'work' THEN work_s ELSE 0 END), sum(CASE WHEN kind = 'setup' THEN duration_s ELSE 0 END),
       sum(CASE WHEN kind = 'check' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'check' AND passed THEN 1 ELSE 0 END)
FROM station_facts WHERE line_id = ? AND time >= ? AND time < ? GROUP BY station_id
"""
_DEFECTS_HOUR_SQL = """
SELECT defect_code, sum(n) FROM defect_hour WHERE line_id = ? AND bucket >= ? AND bucket < ? GROUP BY defect_code
"""
_DEFECTS_RAW_SQL = """
SELECT defect_code, count(*) FROM station_facts
WHERE line_id = ? AND kind = 'check' AND defect_code IS NOT NULL AND time >= ? AND time < ? GROUP BY defect_code
"""


def _add_station_rows(sums: LineSums, rows: list[tuple]) -> None:
    for station_id, processed, ideal, work, setup, checks, passed in rows:
        st = sums.stations.get(station_id)
        if st is None:
            continue
        st.processed += int(processed or 0)
        st.ideal_s += float(ideal or 0.0)
        st.work_s += float(work or 0.0)
        st.setup_s += float(setup or 0.0)
        st.checks += int(checks or 0)
        st.passed += int(passed or 0)


def _unit_sums_sql(history: History) -> str:
    sec = history.seconds_between
    return f"""
SELECT count(*),
       sum(CASE WHEN finish_kind = 'completed' THEN 1 ELSE 0 END),
       sum(CASE WHEN finish_kind = 'completed' AND NOT failed THEN 1 ELSE 0 END),
       sum(CASE WHEN reworked THEN 1 ELSE 0 END),
       sum(bottleneck_s),
       sum(CASE WHEN finish_kind = 'completed' AND placed_at IS NOT NULL THEN {sec("placed_at", "finished_at")}
           ELSE 0 END),
       sum(CASE WHEN finish_kind = 'completed' AND placed_at IS NOT NULL THEN 1 ELSE 0 END),
       sum(CASE WHEN first_entered IS NOT NULL THEN {sec("first_entered", "finished_at")} ELSE 0 END),
       sum(CASE WHEN first_entered IS NOT NULL THEN 1 ELSE 0 END)
FROM units WHERE line_id = ? AND finished_at >= ? AND finished_at < ?
"""


def _ship_sql(history: History) -> str:
    return f"""
SELECT sum({history.seconds_between("placed_at", "shipped_at")}), count(*),
       sum(CASE WHEN promised_by IS NOT NULL THEN 1 ELSE 0 END),
       sum(CASE WHEN promised_by IS NOT NULL AND ship_local <= promised_by THEN 1 ELSE 0 END)
FROM units WHERE line_id = ? AND shipped_at >= ? AND shipped_at < ? AND placed_at IS NOT NULL
"""


def _wip_sql(history: History) -> str:
    """Unit-seconds on the line in [:start, :end); parameters: line, start, end (see _wip_params)."""
    seconds = history.seconds_between(
        "greatest(first_entered, CAST(? AS TIMESTAMP))",
        "least(coalesce(finished_at, CAST(? AS TIMESTAMP)), CAST(? AS TIMESTAMP))",
    )
    return f"""
SELECT sum({seconds}) FROM units
WHERE line_id = ? AND first_entered < ? AND (finished_at IS NULL OR finished_at > ?)
"""


def _wip_params(history: History, line_id: str, start: datetime, end: datetime) -> list:
    # seconds_between(a, b) writes b before a: the end's placeholders come first
    first, second = (
        ([end, end], [start])
        if history.seconds_between("a", "b").index("b") < history.seconds_between("a", "b").index("a")
        else ([start], [end, end])
    )
    return [*first, *second, line_id, end, start]


_HOURLY_SQL = """
SELECT finish_bucket, finished_at FROM units
WHERE line_id = ? AND finish_kind = 'completed' AND finished_at >= ? AND finished_at < ?
"""
_PLACED_SQL = "SELECT count(*) FROM units WHERE line_id = ? AND placed_at >= ? AND placed_at < ?"
_OPTIONS_SQL = """
SELECT option_id, choice_id, count(*) FROM unit_options WHERE line_id = ? AND placed_at >= ? AND placed_at < ?
GROUP BY option_id, choice_id
"""


def line_sums(history: History, plant: Plant, line: Line, start: datetime, end: datetime) -> LineSums:
    """Return a line's sums over [start, end) from the history."""
    sums = calendar_sums(history, plant, line, start, end)
    s, e = naive(start), naive(end)
    a, b = _full_hours(plant, line, start, end)
    edges = [(s, naive(a)), (naive(b), e)] if b > a else [(s, e)]
    if b > a:
        _add_station_rows(sums, history.query(_STATIONS_HOUR_SQL, [line.id, naive(a), naive(b)]))
        for code, n in history.query(_DEFECTS_HOUR_SQL, [line.id, naive(a), naive(b)]):
            sums.defects[code] += int(n)
    for lo, hi in edges:
        if hi > lo:
            _add_station_rows(sums, history.query(_STATIONS_RAW_SQL, [line.id, lo, hi]))
            for code, n in history.query(_DEFECTS_RAW_SQL, [line.id, lo, hi]):
                sums.defects[code] += int(n)
    ((produced, completed, good, reworked, fpt, lead_s, lead_n, flow_s, flow_n),) = history.query(
        _unit_sums_sql(history), [line.id, s, e]
    )
    sums.produced, sums.completed, sums.first_pass_good = int(produced or 0), int(completed or 0), int(good or 0)
    sums.reworked, sums.fully_productive_s = int(reworked or 0), float(fpt or 0.0)
    sums.lead_s, sums.lead_n = float(lead_s or 0.0), int(lead_n or 0)
    sums.flow_s, sums.flow_n = float(flow_s or 0.0), int(flow_n or 0)
    ((ship_s, ship_n, promised, on_time),) = history.query(_ship_sql(history), [line.id, s, e])
    sums.ship_lead_s, sums.ship_lead_n = float(ship_s or 0.0), int(ship_n or 0)
    sums.shipped_promised, sums.shipped_on_time = int(promised or 0), int(on_time or 0)
    ((wip,),) = history.query(_wip_sql(history), _wip_params(history, line.id, s, e))
    sums.wip_s = float(wip or 0.0)
    tz = plant.tz_of(line.id)
    for bucket, finished in history.query(_HOURLY_SQL, [line.id, s, e]):
        key = aware(bucket) if bucket is not None else hour_start(aware(finished), tz)
        sums.completed_by_hour[key] += 1
    sums.orders_placed = int(history.query(_PLACED_SQL, [line.id, s, e])[0][0] or 0)
    for option, choice, n in history.query(_OPTIONS_SQL, [line.id, s, e]):
        sums.option_mix.setdefault(option, Counter())[choice] += int(n)
    return sums


def kpis(
    history: History,
    plant: Plant,
    start: datetime,
    end: datetime,
    line_id: str | None = None,
    site_id: str | None = None,
) -> dict[str, Any]:
    """Return the same KPI document as factory.kpis.compute, from history."""
    if end <= start:
        raise ValueError(f"empty time range: {start.isoformat()} .. {end.isoformat()}")
    return document(plant, start, end, lambda line: line_sums(history, plant, line, start, end), line_id, site_id)


def line_history_start(history: History, line_id: str) -> datetime | None:
    """Return when the line's recorded history begins: its first unit's first event or its first
    calendar or breakdown event (None: nothing recorded for it). The small per-unit and timeline
    tables answer it; the events table would be scanned whole."""
    rows = history.query(
        "SELECT min(t) FROM (SELECT min(first_time) AS t FROM units WHERE line_id = ? "
        "UNION ALL SELECT min(time) AS t FROM timeline WHERE line_id = ?) first_times",
        [line_id, line_id],
    )
    return aware(rows[0][0])


def local_days(plant: Plant, line: Line, first: date, last: date, now: datetime) -> list[date]:
    """Return the line's site-local days in [first, last] that have begun by ``now``."""
    tz = plant.tz_of(line.id)
    days, day = [], first
    while day <= last and day_bounds(day, tz)[0] < now:
        days.append(day)
        day += timedelta(days=1)
    return days


def daily_sums(
    history: History, plant: Plant, line: Line, first: date, last: date, now: datetime
) -> dict[date, LineSums]:
    """Return a line's sums for each of its site-local days in [first, last] up to ``now``, in a few grouped queries.

    A local day is made of whole local hours, so the hourly rollups add up to it exactly.
    """
    tz = plant.tz_of(line.id)
    days = local_days(plant, line, first, last, now)
    if not days:
        return {}
    range_start = day_bounds(days[0], tz)[0]
    # The timeline is read through ``now``, not the range's end: a breakdown begun in the range and
    # repaired after it counts as repaired on its day whatever range is asked (kept days rely on it).
    rows = history.query(_IN_FORCE_SQL, [line.id, naive(range_start)]) + history.query(
        _RANGE_SQL, [line.id, naive(range_start), naive(now)]
    )
    events = classifications(history, line.id) + [_timeline_event(line.id, row) for row in rows]
    log = collect(events, plant, now)[line.id]
    out = {}
    for d in days:
        start, end = day_bounds(d, tz)
        out[d] = time_sums(plant, line, log, start, min(end, now))
    d0, d1 = days[0], days[-1]
    for d, *values in history.query(_DAY_STATIONS_SQL, [line.id, d0, d1]):
        if d in out:
            _add_station_rows(out[d], [tuple(values)])
    for d, code, n in history.query(_DAY_DEFECTS_SQL, [line.id, d0, d1]):
        if d in out:
            out[d].defects[code] += int(n)
    for d, produced, completed, good, reworked, fpt, lead_s, lead_n, flow_s, flow_n in history.query(
        _day_units_sql(history), [line.id, d0, d1, naive(now)]
    ):
        sums = out.get(d)
        if sums is not None:
            sums.produced, sums.completed, sums.first_pass_good = int(produced), int(completed or 0), int(good or 0)
            sums.reworked, sums.fully_productive_s = int(reworked or 0), float(fpt or 0.0)
            sums.lead_s, sums.lead_n = float(lead_s or 0.0), int(lead_n or 0)
            sums.flow_s, sums.flow_n = float(flow_s or 0.0), int(flow_n or 0)
    for d, ship_s, ship_n, promised, on_time in history.query(_day_ship_sql(history), [line.id, d0, d1, naive(now)]):
        if d in out:
            out[d].ship_lead_s, out[d].ship_lead_n = float(ship_s or 0.0), int(ship_n or 0)
            out[d].shipped_promised, out[d].shipped_on_time = int(promised or 0), int(on_time or 0)
    for bucket, d in history.query(_DAY_HOURLY_SQL, [line.id, d0, d1, naive(now)]):
        if d in out:
            out[d].completed_by_hour[aware(bucket)] += 1
    for d, n in history.query(_DAY_PLACED_SQL, [line.id, d0, d1, naive(now)]):
        if d in out:
            out[d].orders_placed = int(n)
    for d, option, choice, n in history.query(_DAY_OPTIONS_SQL, [line.id, d0, d1, naive(now)]):
        if d in out:
            out[d].option_mix.setdefault(option, Counter())[choice] += int(n)
    for d in days:  # WIP: one grouped query would need the days' bounds as a table; a day is one cheap query
        start, end = day_bounds(d, tz)
        s, e = naive(start), naive(min(end, now))
        ((wip,),) = history.query(_wip_sql(history), _wip_params(history, line.id, s, e))
        out[d].wip_s = float(wip or 0.0)
    return out


_DAY_STATIONS_SQL = """
SELECT day, station_id, sum(processed), sum(ideal_s), sum(work_s), sum(setup_s), sum(checks), sum(passed)
FROM station_hour WHERE line_id = ? AND day >= ? AND day <= ? GROUP BY day, station_id
"""
_DAY_DEFECTS_SQL = """
SELECT day, defect_code, sum(n) FROM defect_hour WHERE line_id = ? AND day >= ? AND day <= ? GROUP BY day, defect_code
"""
_DAY_HOURLY_SQL = """
SELECT finish_bucket, finish_day FROM units
WHERE line_id = ? AND finish_kind = 'completed' AND finish_day >= ? AND finish_day <= ? AND finished_at < ?
"""
_DAY_PLACED_SQL = """
SELECT place_day, count(*) FROM units WHERE line_id = ? AND place_day >= ? AND place_day <= ? AND placed_at < ?
GROUP BY place_day
"""
_DAY_OPTIONS_SQL = """
SELECT place_day, option_id, choice_id, count(*) FROM unit_options
WHERE line_id = ? AND place_day >= ? AND place_day <= ? AND placed_at < ? GROUP BY place_day, option_id, choice_id
"""


def _day_units_sql(history: History) -> str:
    sql = _unit_sums_sql(history).replace("SELECT count(*)", "SELECT finish_day, count(*)")
    return (
        sql.replace("finished_at >= ? AND finished_at < ?", "finish_day >= ? AND finish_day <= ? AND finished_at < ?")
        + " GROUP BY finish_day"
    )


def _day_ship_sql(history: History) -> str:
    sql = _ship_sql(history).replace("SELECT sum(", "SELECT ship_day, sum(", 1)
    return (
        sql.replace("shipped_at >= ? AND shipped_at < ?", "ship_day >= ? AND ship_day <= ? AND shipped_at < ?")
        + " GROUP BY ship_day"
    )


def now_of(history: History) -> datetime | None:
    """Return the clock the history stands at (its latest line event)."""
    latest = history.last_time(line_events_only=True)
    return latest.astimezone(UTC) if latest is not None else None
