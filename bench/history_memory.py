"""DuckDB memory of the history over simulated days, fed the way the app's writer feeds it.

    python bench/history_memory.py --days 30 [--db PATH] [--out days.jsonl] [--no-queries]

Runs the default plant fast in process; its events go onto a MemoryBus that the app's
Recorder (factory.history.writer, batch 2000) copies into a fresh DuckDB history (the app's
memory limit). After every simulated day it runs the app's periodic queries (executive view
warm-up, floor KPIs of every line) and prints one JSON line: events, file and write-ahead-log
size, DuckDB's memory (total and by tag), temporary files and row counts. What to look for:
memory that grows with days (DuckDB stops at its limit: "failed to pin block") and a
write-ahead log that is never checkpointed into the file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from factory import exec_view
from factory.history import open_history
from factory.history import queries as hq
from factory.history.store import TABLES
from factory.history.writer import Recorder
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams.memory import MemoryBus

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def mb(n) -> float:
    return round((n or 0) / 2**20, 1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=2)
    p.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "tf-history-memory.duckdb")
    p.add_argument("--out", type=Path, default=None, help="append one JSON line per day")
    p.add_argument("--no-queries", action="store_true", help="skip the app's periodic queries")
    args = p.parse_args()
    for suffix in ("", ".wal"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    plant = load_plant(ROOT / "factory.yaml")
    history: Any = open_history(args.db, plant)  # the DuckDB store: its connection is read below
    bus = MemoryBus(max_len=500_000)
    recorder = Recorder(history, {"events": bus}, batch=2000)
    model = PlantModel(plant, bus.publish, T0, seed=7)
    began = time.monotonic()
    out = args.out.open("a") if args.out else None

    def drain() -> None:
        while recorder.step() > 0:
            pass

    for day in range(1, args.days + 1):
        t_day = time.monotonic()
        run_fast(model, day * 86400.0, after_step=drain)
        drain()
        t_rec = time.monotonic() - t_day
        q_s = 0.0
        if not args.no_queries:
            t_q = time.monotonic()
            exec_view.warm(history, plant)
            end = recorder.state.last_event_time or T0
            for line in plant.lines:
                hq.kpis(history, plant, end - timedelta(hours=8), end, line.id)
            q_s = time.monotonic() - t_q
        # On a cursor of its own, closed, every result read to the end: a result left open on the
        # store's connection (fetchone) holds a transaction and stops DuckDB's own checkpoints.
        db = history._db.cursor()  # history._db: a reopen after a fatal error replaces it
        mem = {
            tag: (mb(u), mb(t))
            for tag, u, t in db.execute(
                "SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory()"
            ).fetchall()
            if u or t
        }
        temp = db.execute("SELECT path, size FROM duckdb_temporary_files()").fetchall()
        size = db.execute("PRAGMA database_size").fetchall()[0]
        rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
        db.close()
        sample = {
            "day": day,
            "events": rows["events"],
            "file_mb": mb(os.path.getsize(args.db)),
            "wal_mb": mb(os.path.getsize(str(args.db) + ".wal")) if Path(str(args.db) + ".wal").exists() else 0,
            "db_memory_usage": size[-2] if len(size) >= 2 else None,
            "mem_mb": {k: v[0] for k, v in mem.items()},
            "temp_mb": {k: v[1] for k, v in mem.items() if v[1]},
            "temp_files": len(temp),
            "temp_files_mb": mb(sum(s for _, s in temp)),
            "rows": rows,
            "record_s": round(t_rec, 1),
            "queries_s": round(q_s, 1),
            "elapsed_s": round(time.monotonic() - began, 1),
            "refused": history.stats(),
        }
        print(json.dumps(sample), flush=True)
        if out:
            out.write(json.dumps(sample) + "\n")
            out.flush()
    history.close()


if __name__ == "__main__":
    main()
