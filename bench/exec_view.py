"""Executive view over 30 days: cold (days summed for the first time) and warm (day rollups stored).

    python bench/exec_view.py [--days 30] [--repeat 5]

Builds ``--days`` days of history for the default plant (one simulated day, copied day after
day with fresh ids, as bench/history_queries.py does), then times factory.exec_view.exec_view
for the whole plant and for one line's station (median of ``--repeat``). Baseline in the same
run: the plain KPI document for the same 30 days straight from history (factory.history_kpis,
no per-day trend), which is what the page would cost without rollups for one number per line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from history_queries import build, timed

from factory import history_kpis
from factory.exec_view import exec_view
from factory.history import History
from factory.layout import load_plant
from factory.rollups import day_bounds, plant_day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.duckdb"
        count = build(path, args.days + 1)
        history = History(path)
        now = history.last_time()
        last = plant_day(plant, now)
        first = last - timedelta(days=args.days - 1)
        print(f"{count:,} events; range {first} .. {last} (plant days), now {now:%Y-%m-%d %H:%M} UTC")

        started = time.perf_counter()
        view = exec_view(history, plant, first, last, now)
        cold_ms = (time.perf_counter() - started) * 1000
        warm_ms, _ = timed(lambda: exec_view(history, plant, first, last, now), args.repeat)
        station_ms, _ = timed(lambda: exec_view(history, plant, first, last, now, "ac1", "assembly"), args.repeat)
        start, end = day_bounds(plant, first)[0], now
        direct_ms, _ = timed(lambda: history_kpis.kpis(history, plant, start, end), max(1, args.repeat // 2))
        print(
            f"exec view, plant, {len(view['days'])} days: cold {cold_ms:,.0f} ms (every day summed once), "
            f"warm {warm_ms:,.0f} ms; one station {station_ms:,.0f} ms"
        )
        print(
            f"baseline, one KPI document for the range without trends: {direct_ms:,.0f} ms "
            f"(warm view / baseline = {warm_ms / direct_ms:.2f})"
        )
        history.close()


if __name__ == "__main__":
    main()
