"""What a moving backlog costs the push tier: one unit starts, every order behind it hears of it.

    python bench/queue_moves.py [--orders 2000 10000] [--repeat 5]

In one process (no sockets): ``--orders`` orders placed on line ac1 and still in its backlog,
each watched by one tracker room (web.push.rooms.Rooms, frames to a list). Then, ``--repeat``
times, the first unit of the backlog enters the first station and the pump's work is timed:
marking the units behind it (LivePlant, factory.derive.queued_behind), then building and
diffing their frames a chunk at a time as the pump does (web.push.queue_moves). The baseline,
in the same run: the same number of frames for units that moved themselves (each of them gets
an event), which is what a room costs whatever the reason. Medians are printed, and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from factory.layout import load_plant
from streams.memory import MemoryBus
from support import EventFactory
from web.auth import order_room
from web.push.pump import LivePlant
from web.push.queries import LiveQueries
from web.push.queue_moves import QueueMoves
from web.push.rooms import Rooms

STATIONS = ["sheet_metal", "brazing", "assembly", "wiring", "vacuum_charge", "leak_test", "run_test"]


def run(orders: int, repeat: int) -> dict[str, float]:
    plant = load_plant(ROOT / "factory.yaml")
    events = EventFactory()
    live = LivePlant(plant, MemoryBus(), MemoryBus())
    waiting = [events.placed(i / 1000, f"B{i:05d}") for i in range(orders)]  # the backlog
    moving = [events.placed(i / 1000, f"M{i:05d}") for i in range(orders)]  # the baseline's units
    live.load([*moving, *(events.entered(1 + i / 1000, e.unit_code, "kitting") for i, e in enumerate(moving))])
    live.load(waiting)
    live.take_dirty_units()
    live.take_queue_moved()
    sent = [0]
    rooms = Rooms(LiveQueries(live, None), lambda *_: sent.__setitem__(0, sent[0] + 1))
    for i, event in enumerate([*waiting, *moving]):
        room = order_room(event.tracking_token)
        rooms.join(f"sid{i}", room, None)
        rooms.snapshot(room, joining=True)
    moves = QueueMoves(live.take_queue_moved, beat_s=0.0)
    moved_s, own_s, frames = [], [], []
    for k in range(min(repeat, len(STATIONS))):
        minute = 60.0 + k
        sent[0] = 0
        started = time.perf_counter()
        live.load([events.entered(minute, f"B{k:05d}", "kitting")])  # the head of the backlog starts
        rooms.flush_orders(live.take_dirty_units())
        while chunk := moves.due():
            rooms.flush_orders(chunk)
        moved_s.append(time.perf_counter() - started)
        told = sent[0] - 1  # the unit that started got its own frame
        frames.append(told)
        # Baseline: as many frames for units that moved themselves (the next station of each).
        live.load([events.entered(minute + 0.5, e.unit_code, STATIONS[k]) for e in moving[:told]])
        live.take_queue_moved()
        started = time.perf_counter()
        rooms.flush_orders(live.take_dirty_units())
        own_s.append(time.perf_counter() - started)
    return {
        "frames": statistics.median(frames),
        "moved_ms": statistics.median(moved_s) * 1000,
        "own_ms": statistics.median(own_s) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for n in args.orders:
        r = run(n, args.repeat)
        per = r["moved_ms"] / max(1, r["frames"]) * 1000
        print(
            f"{n:,} orders in the backlog, one starts: {r['frames']:,.0f} trackers told in {r['moved_ms']:,.1f} ms "
            f"({per:,.0f} us each); the same number of frames for units that moved: {r['own_ms']:,.1f} ms; "
            f"ratio x{r['moved_ms'] / r['own_ms']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
