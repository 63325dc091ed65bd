"""The two history backends side by side: recording and KPI queries on DuckDB and on PostgreSQL.

    python bench/history_backends.py [--hours 24] [--repeat 5] [--postgresql URL]

Simulates ``--hours`` of the default enterprise (six sites, seed 5) and records the same events
into a DuckDB file in a temporary folder and into a PostgreSQL database, in batches of 2,000
through ``History.record`` (what the history writer does), one backend after the other. Then,
in the same run, times each query ``--repeat`` times on each backend, alternating, and prints
the medians and their ratio (PostgreSQL / DuckDB):
- the KPI document of the enterprise over the whole run, and of one line over 8 hours
  (factory.history.queries.kpis: what /api/kpis answers);
- every line's daily sums over the run's days (what the executive view sums for days it does
  not keep yet);
- the demand page's wishes (factory.history.wishes.wishes);
- one line's events of one hour in replay order, and 200 tracking-token look-ups.

Without ``--postgresql`` a private server is started on a free port for the run
(tests/postgres_server.py; Debian's postgresql package, as scripts/test.sh installs it) with the
server's default durability (fsync, synchronous commit), its other settings left at their defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factory.history import History, open_history
from factory.history import queries as hq
from factory.history.wishes import wishes
from factory.layout import Plant, load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

T0 = datetime(2026, 1, 5, 6, tzinfo=UTC)
BATCH = 2000


def record(history: History, events: list[ev.Event]) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        history.record(events[i : i + BATCH])
    return time.perf_counter() - started


def queries(plant: Plant, events: list[ev.Event], hours: float) -> dict[str, Callable[[History], Any]]:
    end = T0 + timedelta(hours=hours)
    line = plant.line("ac1")
    mid = T0 + timedelta(hours=hours / 2)
    eight = (mid - timedelta(hours=4), mid + timedelta(hours=4))
    tokens = [e.tracking_token for e in events if isinstance(e, ev.OrderPlaced)][:200]

    def days(history: History) -> int:
        n = 0
        for ln in plant.lines:
            first = T0.astimezone(plant.tz_of(ln.id)).date()
            n += len(hq.daily_sums(history, plant, ln, first, end.astimezone(plant.tz_of(ln.id)).date(), end))
        return n

    return {
        f"KPI document, enterprise, {hours:g} h": lambda h: hq.kpis(h, plant, T0, end),
        "KPI document, line ac1, 8 h": lambda h: hq.kpis(h, plant, eight[0], eight[1], line.id),
        "daily sums, every line, every day": days,
        "wishes of the demand page": lambda h: len(wishes(h, plant)),
        "replay: line rf2, one hour": lambda h: len(h.replay(mid, mid + timedelta(hours=1), "rf2")),
        f"{len(tokens)} tracking-token look-ups": lambda h: [h.unit_for_token(t) for t in tokens],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgresql", default=None, help="an empty PostgreSQL database (default: a private server)")
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    events: list[ev.Event] = []
    started = time.perf_counter()
    run_fast(PlantModel(plant, events.append, T0, seed=5), args.hours * 3600)
    print(
        f"simulated {args.hours:g} h: {len(events):,} events in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )

    server = None
    url = args.postgresql
    if url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from postgres_server import PostgresServer

        server = PostgresServer(durable=True)
        url = server.create_database("bench")
    try:
        with tempfile.TemporaryDirectory() as folder:
            stores = {
                "DuckDB": open_history(Path(folder) / "history.duckdb", plant),
                "PostgreSQL": open_history(url, plant),
            }
            recorded = {name: record(store, events) for name, store in stores.items()}
            for name, store in stores.items():
                assert store.count() == len(events), name
            timings: dict[str, dict[str, list[float]]] = {}
            for label, fn in queries(plant, events, args.hours).items():
                timings[label] = {name: [] for name in stores}
                for _ in range(args.repeat):
                    for name, store in stores.items():  # alternating, so both see the same machine
                        t = time.perf_counter()
                        fn(store)
                        timings[label][name].append(time.perf_counter() - t)
            pg_bytes = stores["PostgreSQL"].query("SELECT pg_database_size(current_database())")[0][0]
            for store in stores.values():
                store.close()
            duck_bytes = (Path(folder) / "history.duckdb").stat().st_size
    finally:
        if server is not None:
            server.close()

    print(f"{os.cpu_count()} cores, Python {platform.python_version()}: {len(events):,} events "
          f"({args.hours:g} simulated hours), median of {args.repeat}\n")  # fmt: skip
    print("| step | DuckDB | PostgreSQL | PostgreSQL / DuckDB |")
    print("|---|---|---|---|")
    duck, pg = recorded["DuckDB"], recorded["PostgreSQL"]
    print(
        f"| record every event, batches of {BATCH:,} | {duck:.2f} s ({len(events) / duck:,.0f}/s) "
        f"| {pg:.2f} s ({len(events) / pg:,.0f}/s) | {pg / duck:.2f} |"
    )
    print(
        f"| storage after recording | {duck_bytes / 1e6:.0f} MB ({duck_bytes / len(events):,.0f} B/event) "
        f"| {pg_bytes / 1e6:.0f} MB ({pg_bytes / len(events):,.0f} B/event) | {pg_bytes / duck_bytes:.2f} |"
    )
    for label, by_name in timings.items():
        d, p = statistics.median(by_name["DuckDB"]), statistics.median(by_name["PostgreSQL"])
        print(f"| {label} | {d * 1000:.1f} ms | {p * 1000:.1f} ms | {p / d:.2f} |")


if __name__ == "__main__":
    main()
