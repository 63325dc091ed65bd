"""KPI queries over millions of stored events: DuckDB against plain pandas on the same rows.

    python bench/history_queries.py [--days 91] [--repeat 5]

Builds a history file in a temporary folder: one simulated day of the default plant (about
205,000 events) recorded by the history writer's own path (History.record: facts, hourly sums,
timeline), then repeated day after day up to ``--days`` days (91 days: about 19 million events)
by copying every table in SQL, each copy shifted by whole days, with fresh ids, unit codes and
tokens, and its site-local days worked out again (the stored JSON documents keep the first
day's text; no KPI query reads them). Then times, median of ``--repeat`` runs, through the
history's own query():
- station level: work, ideal time and checks per station of one line over 30 days, from the
  narrow station facts (and from the hourly sums the KPI queries read);
- per order: lead time and flow time of every order (one group per unit, over the events);
- the whole KPI document of one line over 30 days (factory.history.queries.kpis);
and the same station-level and per-order aggregations in pandas on a frame of the same rows.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factory.history import open_history
from factory.history import queries as hq
from factory.layout import Plant, load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

T0 = datetime(2026, 1, 5, tzinfo=UTC)
T = TypeVar("T")

STATION_SQL = """
SELECT station_id, count(*) FILTER (WHERE kind = 'work') AS processed,
       sum(ideal_s) AS ideal_s, sum(work_s) AS work_s,
       count(*) FILTER (WHERE kind = 'check') AS checks,
       count(*) FILTER (WHERE kind = 'check' AND passed) AS passed
FROM station_facts WHERE line_id = 'ac1' AND time >= ? AND time < ? AND kind IN ('work', 'check')
GROUP BY station_id
"""
STATION_HOUR_SQL = """
SELECT station_id, sum(processed), sum(ideal_s), sum(work_s), sum(checks), sum(passed)
FROM station_hour WHERE line_id = 'ac1' AND bucket >= ? AND bucket < ? GROUP BY station_id
"""
ORDER_SQL = """
SELECT unit_code,
       date_diff('millisecond', min(time) FILTER (WHERE kind = 'placed'),
                 min(time) FILTER (WHERE kind = 'completed')) / 1000.0 AS lead_s,
       date_diff('millisecond', min(time) FILTER (WHERE kind = 'station_entered'),
                 min(time) FILTER (WHERE kind = 'completed')) / 1000.0 AS flow_s
FROM events WHERE kind IN ('placed', 'station_entered', 'completed')
GROUP BY unit_code
"""


def _copies(db: duckdb.DuckDBPyConnection, plant: Plant, days: int) -> None:
    """Add days 1 .. days-1 to a history that holds day 0: every table copied, shifted by k days."""

    def shift(column: str) -> str:
        return f"{column} + to_days(CAST(k AS INTEGER))"

    def local_day(column: str) -> str:
        return (
            f"CASE WHEN offset_min IS NULL THEN CAST(timezone(tz, timezone('UTC', {column})) AS DATE) "
            f"ELSE CAST({column} + to_minutes(offset_min) AS DATE) END"
        )

    zones: list[tuple[str, str, int | None]] = []
    for line in plant.lines:
        site = plant.site_of(line.id)
        fixed = site.tz.utcoffset(None)  # a fixed offset such as +05:45; None for a named zone
        if fixed is None:
            zones.append((line.id, site.timezone, None))
        else:
            zones.append((line.id, "UTC", round(fixed.total_seconds() / 60)))
    db.execute("CREATE TEMP TABLE line_tz (line_id VARCHAR, tz VARCHAR, offset_min INTEGER)")
    db.executemany("INSERT INTO line_tz VALUES (?, ?, ?)", zones)
    span = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()[0][0]
    for table in ("events", "units", "tokens", "unit_options", "station_facts", "station_hour",
                  "defect_hour", "timeline"):  # fmt: skip
        db.execute(f"CREATE TEMP TABLE base_{table} AS SELECT * FROM {table}")
    copies = f"range(1, {int(days)}) r(k)"
    db.execute(
        f"""
        INSERT INTO events
        SELECT key || '-' || k, seq + k * {span}, source, id || '-' || k, kind, {shift("time")}, line_id, station_id,
               unit_code || '-' || k, doc
        FROM base_events, {copies} ORDER BY k, time
        """
    )
    db.execute(
        f"""
        INSERT INTO units
        SELECT unit_code || '-' || k, line_id, order_id || '-' || k, order_number, token || '-' || k, product,
               {shift("placed_at")}, {shift("place_bucket")}, {local_day(shift("placed_at"))},
               strftime(CAST(promised_by AS DATE) + CAST(k AS INTEGER), '%Y-%m-%d'),
               {shift("first_entered")}, {shift("finished_at")}, finish_kind, {shift("finish_bucket")},
               {local_day(shift("finished_at"))}, failed, reworked, bottleneck_s,
               {shift("shipped_at")}, {local_day(shift("shipped_at"))},
               strftime({local_day(shift("shipped_at"))}, '%Y-%m-%d'), {shift("first_time")}, {shift("last_time")}
        FROM base_units JOIN line_tz USING (line_id), {copies} ORDER BY k, first_time
        """
    )
    db.execute(
        f"INSERT INTO tokens SELECT token || '-' || k, unit_code || '-' || k, line_id FROM base_tokens, {copies}"
    )
    db.execute(
        f"""
        INSERT INTO unit_options
        SELECT unit_code || '-' || k, line_id, {shift("placed_at")}, {local_day(shift("placed_at"))}, option_id,
               choice_id
        FROM base_unit_options JOIN line_tz USING (line_id), {copies} ORDER BY k, placed_at
        """
    )
    db.execute(
        f"""
        INSERT INTO station_facts
        SELECT line_id, station_id, {shift("time")}, kind, ideal_s, work_s, duration_s, passed, defect_code
        FROM base_station_facts, {copies} ORDER BY k, time
        """
    )
    db.execute(
        f"""
        INSERT INTO timeline
        SELECT line_id, station_id, machine, kind, {shift("time")}, reason_code, reason, down_s, seq + k * {span}
        FROM base_timeline, {copies} ORDER BY k, time
        """
    )
    # An hour that straddles two copied days (a site whose hours start at :30 UTC) is summed, not repeated.
    all_days = f"range(0, {int(days)}) r(k)"
    db.execute("DELETE FROM station_hour")
    db.execute(
        f"""
        INSERT INTO station_hour
        SELECT line_id, station_id, b, {local_day("b")}, sum(processed), sum(ideal_s), sum(work_s), sum(setup_s),
               sum(checks), sum(passed)
        FROM (SELECT *, {shift("bucket")} AS b FROM base_station_hour, {all_days}) JOIN line_tz USING (line_id)
        GROUP BY line_id, station_id, b, tz, offset_min ORDER BY b
        """
    )
    db.execute("DELETE FROM defect_hour")
    db.execute(
        f"""
        INSERT INTO defect_hour
        SELECT line_id, b, {local_day("b")}, defect_code, sum(n)
        FROM (SELECT *, {shift("bucket")} AS b FROM base_defect_hour, {all_days}) JOIN line_tz USING (line_id)
        GROUP BY line_id, b, tz, offset_min, defect_code ORDER BY b
        """
    )
    db.execute("CHECKPOINT")


def build(path: Path, days: int) -> int:
    """Write ``days`` days of the default plant's history to ``path``; return how many events it holds."""
    plant = load_plant(ROOT / "factory.yaml")
    day: list[ev.Event] = []
    run_fast(PlantModel(plant, day.append, T0, seed=1), 86400)
    history = open_history(path, plant)
    for start in range(0, len(day), 2000):  # the writer's batch size
        history.record(day[start : start + 2000])
    history.close()
    db = duckdb.connect(str(path))
    try:
        if days > 1:
            _copies(db, plant, days)
        return int(db.execute("SELECT count(*) FROM events").fetchall()[0][0])
    finally:
        db.close()


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Return (median ms of ``repeat`` calls, the last call's result)."""
    runs: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=91)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    span = min(30, args.days)
    start = T0 + timedelta(days=(args.days - span) // 2)
    end = start + timedelta(days=span)
    bounds = [start.replace(tzinfo=None), end.replace(tzinfo=None)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.duckdb"
        started = time.perf_counter()
        count = build(path, args.days)
        print(f"built {count:,} events over {args.days} days in {time.perf_counter() - started:.0f} s")

        db = duckdb.connect(str(path), read_only=True)
        facts = db.execute("SELECT line_id, station_id, time, kind, ideal_s, work_s, passed FROM station_facts").df()
        frame = db.execute("SELECT kind, time, unit_code FROM events").df()
        db.close()
        for f, columns in ((facts, ("line_id", "station_id", "kind")), (frame, ("kind", "unit_code"))):
            for column in columns:
                f[column] = f[column].astype("category")

        history = open_history(path, plant)
        station_ms, stations = timed(lambda: history.query(STATION_SQL, bounds), args.repeat)
        hour_ms, hours = timed(lambda: history.query(STATION_HOUR_SQL, bounds), args.repeat)
        order_ms, orders = timed(lambda: history.query(ORDER_SQL), args.repeat)
        kpi_ms, _ = timed(lambda: hq.kpis(history, plant, start, end, "ac1"), args.repeat)
        history.close()

        def pandas_stations() -> pd.DataFrame:
            f = facts[(facts.line_id == "ac1") & (facts.time >= bounds[0]) & (facts.time < bounds[1])]
            work = (
                f[f.kind == "work"]
                .groupby("station_id", observed=True)
                .agg(processed=("ideal_s", "size"), ideal_s=("ideal_s", "sum"), work_s=("work_s", "sum"))
            )
            checks = (
                f[f.kind == "check"]
                .groupby("station_id", observed=True)
                .agg(checks=("passed", "size"), passed=("passed", "sum"))
            )
            return work.join(checks, how="outer")

        def pandas_orders() -> pd.DataFrame:
            f = frame[frame.kind.isin(["placed", "station_entered", "completed"])]
            first = f.groupby(["unit_code", "kind"], observed=True)["time"].min().unstack()
            return pd.DataFrame(
                {
                    "lead_s": (first["completed"] - first["placed"]).dt.total_seconds(),
                    "flow_s": (first["completed"] - first["station_entered"]).dt.total_seconds(),
                }
            )

        pd_station_ms, pd_stations = timed(pandas_stations, args.repeat)
        pd_order_ms, pd_orders = timed(pandas_orders, args.repeat)
        processed = sum(int(row[1]) for row in stations)
        assert int(pd_stations.processed.sum()) == processed
        assert sum(int(row[1]) for row in hours) == processed
        assert len(pd_orders) == len(orders)

    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"pandas {pd.__version__}"
    )
    print(
        f"station level, one line, {span} days:  DuckDB {station_ms:7.1f} ms   pandas {pd_station_ms:7.1f} ms   "
        f"ratio {pd_station_ms / station_ms:.1f}x   (hourly sums in DuckDB: {hour_ms:.1f} ms)"
    )
    print(
        f"per order, {len(orders):,} orders:      DuckDB {order_ms:7.1f} ms   pandas {pd_order_ms:7.1f} ms   "
        f"ratio {pd_order_ms / order_ms:.1f}x"
    )
    print(f"whole KPI document, one line, {span} days: {kpi_ms:.0f} ms")


if __name__ == "__main__":
    main()
