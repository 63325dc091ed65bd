"""KPI queries over 10 million stored events: DuckDB against plain pandas on the same rows.

    python bench/history_queries.py [--days 91] [--repeat 5]

Builds a history file in a temporary folder: one simulated day of the default plant (about
110,000 events), repeated day after day with fresh unit codes and ids up to ``--days`` days
(91 days: about 10 million events). Then times, median of ``--repeat`` runs:
- station level: work, ideal time and checks per station of one line over 30 days;
- per order: lead time and flow time of every order (one group per unit);
- the whole KPI document of one line over 30 days (what the executive page asks for);
and the same station-level and per-order aggregations in pandas on a frame of the same rows.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factory import history_kpis
from factory.history import History
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast

T0 = datetime(2026, 1, 5, tzinfo=UTC)

STATION_SQL = """
SELECT station_id, count(*) FILTER (WHERE type = 'station_work_done') AS processed,
       sum(ideal_s) AS ideal_s, sum(work_s) AS work_s,
       count(*) FILTER (WHERE type = 'quality_checked') AS checks,
       count(*) FILTER (WHERE type = 'quality_checked' AND passed) AS passed
FROM events WHERE line_id = 'ac1' AND time >= $start AND time < $end
  AND type IN ('station_work_done', 'quality_checked')
GROUP BY station_id
"""
ORDER_SQL = """
SELECT unit_code,
       date_diff('millisecond', min(time) FILTER (WHERE type = 'placed'),
                 min(time) FILTER (WHERE type = 'completed')) / 1000.0 AS lead_s,
       date_diff('millisecond', min(time) FILTER (WHERE type = 'station_entered'),
                 min(time) FILTER (WHERE type = 'completed')) / 1000.0 AS flow_s
FROM events WHERE type IN ('placed', 'station_entered', 'completed')
GROUP BY unit_code
"""


def build(path: Path, days: int) -> int:
    plant = load_plant(ROOT / "factory.yaml")
    day = []
    run_fast(PlantModel(plant, day.append, T0, seed=1), 86400)
    history = History(path)
    history.append(day)
    history.close()
    db = duckdb.connect(str(path))
    # Day k: the same day shifted k days, every id and unit code suffixed so nothing collides.
    db.execute("CREATE TABLE copy AS SELECT * FROM events")
    db.execute(
        """
        INSERT INTO events
        SELECT source, id || '-' || k, type, time + to_days(CAST(k AS INTEGER)), line_id, station_id,
               unit_code || '-' || k, visit, machine, passed, work_s, ideal_s, down_s, duration_s, reason_code,
               defect_code, CASE WHEN tracking_token IS NULL THEN NULL ELSE tracking_token || '-' || k END, doc
        FROM copy, range(1, ?) r(k)
        ORDER BY k, time
    """,
        [days],
    )
    db.execute("DROP TABLE copy")
    count = db.execute("SELECT count(*) FROM events").fetchall()[0][0]
    db.close()
    return count


def timed(fn, repeat: int) -> tuple[float, object]:
    runs, result = [], None
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
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.duckdb"
        started = time.perf_counter()
        count = build(path, args.days)
        print(f"built {count:,} events over {args.days} days in {time.perf_counter() - started:.0f} s")
        history = History(path)
        start, end = T0 + timedelta(days=30), T0 + timedelta(days=60)
        params = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}

        station_ms, stations = timed(lambda: history.frame(STATION_SQL, params), args.repeat)
        order_ms, orders = timed(lambda: history.frame(ORDER_SQL), args.repeat)
        kpi_ms, _ = timed(lambda: history_kpis.kpis(history, plant, start, end, "ac1"), args.repeat)

        frame = history.frame("SELECT type, time, line_id, station_id, unit_code, ideal_s, work_s, passed FROM events")
        for column in ("type", "line_id", "station_id", "unit_code"):
            frame[column] = frame[column].astype("category")

        def pandas_stations():
            f = frame[(frame.line_id == "ac1") & (frame.time >= params["start"]) & (frame.time < params["end"])]
            work = (
                f[f.type == "station_work_done"]
                .groupby("station_id", observed=True)
                .agg(processed=("ideal_s", "size"), ideal_s=("ideal_s", "sum"), work_s=("work_s", "sum"))
            )
            checks = (
                f[f.type == "quality_checked"]
                .groupby("station_id", observed=True)
                .agg(checks=("passed", "size"), passed=("passed", "sum"))
            )
            return work.join(checks, how="outer")

        def pandas_orders():
            f = frame[frame.type.isin(["placed", "station_entered", "completed"])]
            first = f.groupby(["unit_code", "type"], observed=True)["time"].min().unstack()
            return pd.DataFrame(
                {
                    "lead_s": (first["completed"] - first["placed"]).dt.total_seconds(),
                    "flow_s": (first["completed"] - first["station_entered"]).dt.total_seconds(),
                }
            )

        pd_station_ms, pd_stations = timed(pandas_stations, args.repeat)
        pd_order_ms, pd_orders = timed(pandas_orders, args.repeat)
        assert int(pd_stations.processed.sum()) == int(stations.processed.sum())
        assert len(pd_orders) == len(orders)
        history.close()

    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"pandas {pd.__version__}"
    )
    print(
        f"station level, one line, 30 days:  DuckDB {station_ms:7.1f} ms   pandas {pd_station_ms:7.1f} ms   "
        f"ratio {pd_station_ms / station_ms:.1f}x"
    )
    print(
        f"per order, {len(orders):,} orders:      DuckDB {order_ms:7.1f} ms   pandas {pd_order_ms:7.1f} ms   "
        f"ratio {pd_order_ms / order_ms:.1f}x"
    )
    print(f"whole KPI document, one line, 30 days: {kpi_ms:.0f} ms")


if __name__ == "__main__":
    main()
