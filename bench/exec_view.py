"""Executive view over 30 days: the first call ever, the first after a restart, then repeated calls.

    python bench/exec_view.py [--days 30] [--repeat 5]

Builds ``--days`` days of history for the default plant (one simulated day, copied day after
day with fresh ids, as bench/history_queries.py does), then times factory.exec_view.exec_view
for the whole plant over the last ``--days`` site-local days as the executive page asks for
them (today, still under way, included):
- first call ever: every settled line-day summed from the hourly rows and kept (what the app
  does in the background at start, factory.exec_view.warm);
- first call after a restart: the history closed and opened again, kept days read back;
- then the median of ``--repeat`` calls, and of one line's station.
Baseline in the same run: the plain KPI document for the same range straight from history
(factory.history.queries.kpis, no per-day trend), what one number per line costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from history_queries import build, timed

from factory.exec_view import default_range, exec_view
from factory.history import open_history
from factory.history import queries as hq
from factory.layout import load_plant
from factory.local_time import day_bounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.duckdb"
        count = build(path, args.days + 1)
        history = open_history(path, plant)
        now = hq.now_of(history)
        assert now is not None
        first, last = default_range(plant, now, args.days)
        print(f"{count:,} events; range {first} .. {last} (plant days), now {now:%Y-%m-%d %H:%M} UTC")

        first_ms, view = timed(lambda: exec_view(history, plant, first, last, now), 1)
        history.close()
        history = open_history(path, plant)
        restart_ms, _ = timed(lambda: exec_view(history, plant, first, last, now), 1)
        plant_ms, _ = timed(lambda: exec_view(history, plant, first, last, now), args.repeat)
        station_ms, _ = timed(lambda: exec_view(history, plant, first, last, now, "ac1", "assembly"), args.repeat)
        start, end = day_bounds(first, plant.sites[0].tz)[0], now
        direct_ms, _ = timed(lambda: hq.kpis(history, plant, start, end), max(1, args.repeat // 2))
        print(
            f"exec view, plant, {len(view['days'])} days: first call ever {first_ms:,.0f} ms, first after a "
            f"restart {restart_ms:,.0f} ms, then median {plant_ms:,.0f} ms; one station {station_ms:,.0f} ms"
        )
        print(
            f"baseline, one KPI document for the range without trends: {direct_ms:,.0f} ms "
            f"(view / baseline = {plant_ms / direct_ms:.2f}, one station / baseline = {station_ms / direct_ms:.2f})"
        )
        history.close()


if __name__ == "__main__":
    main()
