"""The rooms' sending: every changed tracker room gets its frame, and the pump gives way while it sends many."""

from __future__ import annotations

import time

from streams.memory import MemoryBus
from support import EventFactory
from web.auth import order_room
from web.push.pump import LivePlant
from web.push.queries import LiveQueries
from web.push.rooms import PAUSE_EVERY_S, Rooms


def _plant_with_orders(plant, n: int) -> tuple[LivePlant, list[str]]:
    events = EventFactory()
    live = LivePlant(plant, MemoryBus(), MemoryBus())
    batch, tokens = [], []
    for i in range(n):
        placed = events.placed(i, f"U{i}")
        batch += [placed, events.entered(i + 1, f"U{i}", "kitting")]
        tokens.append(placed.tracking_token)
    live.load(batch)
    return live, tokens


def test_a_long_send_gives_way_between_frames_and_sends_every_one(plant):
    live, tokens = _plant_with_orders(plant, 40)
    sent: list[str] = []
    pauses: list[int] = []

    def slow_emit(_name, _frame, room):
        time.sleep(PAUSE_EVERY_S / 2)  # two frames take one pause interval
        sent.append(room)

    rooms = Rooms(LiveQueries(live, None), slow_emit, pause=lambda: pauses.append(len(sent)))
    for i, token in enumerate(tokens):
        rooms.join(f"sid{i}", order_room(token), None)
    assert rooms.flush_orders(live.take_dirty_units()) == 40
    assert sorted(sent) == sorted(order_room(t) for t in tokens)
    assert len(pauses) >= 10  # about every second frame, never only at the end
    assert all(b - a <= 3 for a, b in zip([0, *pauses], pauses))


def test_a_quick_send_does_not_pause(plant):
    live, tokens = _plant_with_orders(plant, 3)
    pauses: list[int] = []
    rooms = Rooms(LiveQueries(live, None), lambda *_: None, pause=lambda: pauses.append(1))
    for i, token in enumerate(tokens):
        rooms.join(f"sid{i}", order_room(token), None)
    assert rooms.flush_orders(live.take_dirty_units()) == 3
    assert pauses == []


def test_a_room_left_during_a_pause_gets_no_frame_and_keeps_no_view(plant):
    live, tokens = _plant_with_orders(plant, 2)
    sent: list[str] = []
    rooms: Rooms

    def slow_emit(_name, _frame, room):
        time.sleep(PAUSE_EVERY_S)
        sent.append(room)

    def pause():  # the pump gives way, and meanwhile the viewer of the room not sent yet leaves
        (waiting,) = {order_room(t) for t in tokens} - set(sent)
        rooms.leave(f"sid{[order_room(t) for t in tokens].index(waiting)}")

    rooms = Rooms(LiveQueries(live, None), slow_emit, pause=pause)
    rooms.join("sid0", order_room(tokens[0]), None)
    rooms.join("sid1", order_room(tokens[1]), None)
    rooms.flush_orders(live.take_dirty_units())
    assert len(sent) == 1
    assert rooms.frames.rooms() == 1  # no view kept for the room nobody watches


def test_a_waiting_order_hears_when_a_unit_ahead_of_it_moves_on(plant):
    """Units ahead (and so the ETA) change when another unit leaves the queue, not only its own."""
    events = EventFactory()
    live = LivePlant(plant, MemoryBus(), MemoryBus())
    placed = [events.placed(i, f"U{i}") for i in range(3)]
    live.load(placed)
    live.take_dirty_units()
    frames: dict[str, list] = {}
    rooms = Rooms(LiveQueries(live, None), lambda _name, frame, room: frames.setdefault(room, []).append(frame))
    last = order_room(placed[2].tracking_token)
    rooms.join("sid", last, None)
    assert rooms.snapshot(last, joining=True)["v"]["units_ahead"] == 2
    live.load([events.entered(5, "U0", "kitting")])  # the first in the queue starts: one fewer ahead of U2
    assert live.take_dirty_units() == {"U0"}  # its own unit's beat: U2 did not move ...
    rooms.flush_orders(live.take_queue_moved())  # ... but its queue did (the slower beat)
    (frame,) = frames[last]
    assert frame["p"]["+"]["units_ahead"] == {"=": 1}
    live.load([events.entered(6, "U5", "kitting")])  # a unit of no queue U2 waits in: nothing for U2
    rooms.flush_orders(live.take_dirty_units() | live.take_queue_moved())
    assert len(frames[last]) == 1
    live.load([events.entered(7, "U1", "kitting"), events.entered(8, "U2", "kitting")])
    assert "U2" in live.take_dirty_units()
    assert live.take_queue_moved() == set()  # U2 moved itself: its own frame says it all
