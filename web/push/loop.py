"""The push tier's two background loops: the pump's beat, and the floor KPI tiles beside it.

The pump reads the buses and sends tracker frames after every batch (a customer's room changes
a few times an hour, so it need not wait), and floor frames at most every ``frame_interval_s``
(a line's wall screen would otherwise redraw for every event). KPI tiles come from the history,
which can take a good part of a second: run in the pump, that would hold every screen back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from web.auth import floor_room
from web.push.pump import BATCH, LivePlant
from web.push.queue_moves import QueueMoves
from web.push.rooms import Rooms

ORDER_BEAT_S = 0.02  # a batch of events is what arrives in this long


def run_pump(
    live: LivePlant, rooms: Rooms, frame_interval_s: float, stop: threading.Event, sleep: Callable[[float], None]
) -> None:
    """Read, fold and push until ``stop`` is set."""
    next_floor = time.monotonic()
    queue_moves = QueueMoves(live.take_queue_moved)
    while not stop.is_set():
        while live.read_once(block_s=ORDER_BEAT_S) >= BATCH:
            rooms.flush_orders(live.take_dirty_units())  # a backlog: keep trackers moving while it drains
        rooms.flush_orders(live.take_dirty_units())
        rooms.flush_orders(queue_moves.due())  # those whose queue moved: a chunk, once a beat
        if time.monotonic() >= next_floor:
            rooms.flush_floors(live.take_dirty_lines())
            next_floor = time.monotonic() + frame_interval_s
        sleep(0)  # let sockets and requests run between beats


def run_kpis(
    rooms: Rooms, interval_s: float, stop: threading.Event, run: Callable, sleep: Callable[[float], None]
) -> None:
    """Refresh the KPI tiles of watched lines every ``interval_s``; changed ones go out with the next floor frame."""
    queries = rooms.queries
    while not stop.is_set():
        watched = [line.id for line in queries.plant.lines if rooms.watchers[floor_room(line.id)] > 0]
        if watched:
            changed = queries.refresh_kpis(watched)
            with queries.live.lock:
                queries.live.dirty_lines.update(changed)
        sleep(interval_s)
