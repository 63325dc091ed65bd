"""The alarm journal: how long rebuilding a line's alarms over a range takes, against the bare fold.

    python bench/alarm_journal.py [--days 2] [--repeat 5] [--history PATH]

Builds ``--days`` days of the default enterprise into a DuckDB history the way the app records
it (bench/replay_seek.py's builder: hourly checkpoints), or opens the one at ``--history``. Then,
for line ac1 and ranges of 8, 24 and 48 hours ending at the history's last day, times
factory.history.alarm_log.line_journal ``--repeat`` times. Baseline in the same process and on the
same ranges: the same seek and fold of the line's events without the AlarmWatch (what a floor
replay of the range's end would cost), so the ratio says what asking every station its state after
every event adds. Prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from replay_seek import T0, build

from factory.history import open_history
from factory.history.alarm_log import line_journal
from factory.history.writer import state_at
from factory.layout import load_plant
from factory.projector import apply
from factory.validation import PlantCheck


def bare_fold(history, plant, line_id, start, end) -> int:
    """The journal's reads and fold without its watch: the baseline."""
    check = PlantCheck(plant, window=timedelta(days=3650))
    state = state_at(history, start, check, line_id)
    n = 0
    for event in history.iter_replay(start=start + timedelta(milliseconds=1), end=end, line_id=line_id):
        if check.admit(event) is None:
            apply(state, event)
            n += 1
    return n


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--history", type=Path, default=None)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    path = args.history or Path(tempfile.mkdtemp()) / "history.duckdb"
    if not path.exists():
        print(f"building {args.days} days into {path.name} …", flush=True)
        build(path, args.days)
    history = open_history(path, plant)
    end = T0 + timedelta(days=args.days) - timedelta(hours=1)
    print("| range of line ac1 | line events | alarms | journal (median) | bare fold (median) | ratio |")
    print("|---|---|---|---|---|---|")
    for hours in (8, 24, 48):
        start = end - timedelta(hours=hours)
        events = bare_fold(history, plant, "ac1", start, end)
        alarms = len(line_journal(history, plant, "ac1", start, end)["alarms"])
        journal = median_s(partial(line_journal, history, plant, "ac1", start, end), args.repeat)
        bare = median_s(partial(bare_fold, history, plant, "ac1", start, end), args.repeat)
        figures = f"{journal * 1000:,.0f} ms | {bare * 1000:,.0f} ms | {journal / bare:.2f}×"
        print(f"| {hours} h | {events:,} | {alarms} | {figures} |")
    history.close()


if __name__ == "__main__":
    main()
