"""Floor replay over a long history: how long a seek to any moment takes, and a step of play.

    python bench/replay_seek.py [--days 30] [--seeks 25] [--history PATH]

Builds ``--days`` days of the default enterprise into a DuckDB history the way the app records
it (the emulator's events through the history writer, a checkpoint every hour of event time),
or opens the one at ``--history`` if it exists (built by an earlier run with that path). Then,
for ``--seeks`` moments drawn at random over the whole history (seeded), times
web.push.replay.FloorReplay.view for line ac1 from a cold start (a new replay object: the
checkpoint and the events after it), and a step of play from there (one minute on, folding only
the events in between). Baseline in the same process: the same view built from a state already
in memory (what the live floor costs), so the ratio says what the history adds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from factory.history import open_history
from factory.history.writer import Recorder
from factory.layout import load_plant
from factory.views import floor_view
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams.memory import MemoryBus
from web.push.replay import FloorReplay

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def build(path: Path, days: int) -> int:
    """Record ``days`` days of the enterprise into ``path`` with hourly checkpoints; return the events."""
    plant = load_plant(ROOT / "factory.yaml")
    history = open_history(path, plant)
    bus = MemoryBus(max_len=2_000_000)
    recorder = Recorder(history, {"events": bus}, checkpoint_every=timedelta(hours=1))
    model = PlantModel(plant, bus.publish, T0, seed=5)
    started = time.perf_counter()
    for day in range(1, days + 1):
        run_fast(model, day * 86400)
        while recorder.step():
            pass
        print(f"  day {day}/{days}: {history.count():,} events, {time.perf_counter() - started:.0f} s", flush=True)
    count = history.count()
    history.close()
    return count


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seeks", type=int, default=25)
    parser.add_argument("--history", type=Path, default=None, help="keep (or reuse) the built history here")
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = args.history or Path(folder) / "history.duckdb"
        if not path.exists():
            started = time.perf_counter()
            count = build(path, args.days)
            print(f"built {count:,} events over {args.days} days in {time.perf_counter() - started:.0f} s")
        history = open_history(path, plant)
        first, last = history.first_and_last_time()
        assert first is not None and last is not None
        checkpoints = history.query("SELECT count(*) FROM checkpoints")[0][0]
        print(f"history: {history.count():,} events, {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}, "
              f"{checkpoints} checkpoints")  # fmt: skip
        rng = random.Random(7)
        span = (last - first).total_seconds()
        moments = sorted((first + timedelta(seconds=rng.uniform(0, span)) for _ in range(args.seeks)), key=str)
        rng.shuffle(moments)
        seeks, steps, baseline = [], [], []
        for at in moments:
            replay = FloorReplay(plant, history)
            started = time.perf_counter()
            replay.view("ac1", at)
            seeks.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            replay.view("ac1", at + timedelta(minutes=1))
            steps.append((time.perf_counter() - started) * 1000)
            state = replay._kept["ac1"].state  # the state the replay holds: the live floor's cost from it
            started = time.perf_counter()
            floor_view(state, plant, "ac1")
            baseline.append((time.perf_counter() - started) * 1000)
        history.close()
    print(
        f"seek (cold, any moment): median {statistics.median(seeks):.0f} ms, p90 {percentile(seeks, 90):.0f} ms, "
        f"max {max(seeks):.0f} ms over {len(seeks)} moments"
    )
    print(f"a minute of play from there: median {statistics.median(steps):.0f} ms, max {max(steps):.0f} ms")
    print(f"baseline, the same view from a state in memory: median {statistics.median(baseline):.2f} ms")
    print(f"seek / baseline: x{statistics.median(seeks) / statistics.median(baseline):.0f}")


if __name__ == "__main__":
    main()
