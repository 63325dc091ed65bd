"""Trackers whose queue moved: one frame a beat at most, sent a chunk at a time between the pump's reads.

When a unit leaves a queue, every order waiting behind it has one unit fewer ahead (and a new
ETA), although its own unit did not move (``LivePlant.queue_moved``). At the head of an order
backlog of thousands that is thousands of frames for one event. So those units are gathered for
``beat_s`` (a customer's count need not tick faster than once a second) and then handed to the
pump ``chunk`` at a time, so that the frames of units that did move never wait behind a
whole backlog's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

QUEUE_BEAT_S = 1.0
QUEUE_CHUNK = 200  # trackers rebuilt per pump iteration (a few milliseconds of work)


class QueueMoves:
    """The queue-moved units still to push, gathered once a beat."""

    def __init__(
        self,
        take: Callable[[], set[str]],
        beat_s: float = QUEUE_BEAT_S,
        chunk: int = QUEUE_CHUNK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if beat_s < 0 or chunk < 1:
            raise ValueError("queue moves need beat_s >= 0 and chunk >= 1")
        self._take = take  # LivePlant.take_queue_moved
        self.beat_s = beat_s
        self.chunk = chunk
        self._clock = clock
        self._next = clock()
        self._pending: dict[str, None] = {}  # an ordered set: the first gathered go first

    def due(self) -> set[str]:
        """Return the units to push now: at most ``chunk``, gathered at the last beat."""
        now = self._clock()
        if now >= self._next:
            self._pending.update(dict.fromkeys(self._take()))
            self._next = now + self.beat_s
        out: set[str] = set()
        for code in self._pending:
            if len(out) == self.chunk:
                break
            out.add(code)
        for code in out:
            del self._pending[code]
        return out

    def pending(self) -> int:
        """Return how many gathered units wait for their frame."""
        return len(self._pending)
