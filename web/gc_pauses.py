"""Garbage collection for a server whose memory is mostly long-lived: short pauses, nothing kept for ever.

Python's full (generation 2) collection walks every object that has survived two younger ones:
the imported libraries (Dash, Plotly and pandas alone are hundreds of thousands of objects), the
plant's live state, every socket's buffers. At 2,000 tracker viewers that walk took 0.2–0.55 s
every few seconds and found nothing to free, and every frame due meanwhile waited: it was the
whole tail of the push latency (bench/tracker_viewers.py, docs/benchmarks.md).

So objects that have proved long-lived are moved out of the collector's sight (``gc.freeze``):
once at start, and again whenever a full collection took longer than ``slow_s`` (it has just
collected, so what it left is alive). Reference counting still frees frozen objects as usual;
only garbage that is a reference cycle among frozen objects would stay. To bound that, every
``full_every_s`` everything is unfrozen, collected in full (one long pause, at a known rate) and
frozen again.

An asyncio server with thousands of sockets needs more (``freeze_every_s``): every socket waits
on a fresh future, coroutine and context after each frame it sends, and those live until its
next frame, seconds later. They survive into the oldest generation faster than a slow collection
can freeze them: at 10,000 tracker viewers the full collections that walked them took 0.1–0.2 s
(bench/tracker_viewers.py). So such a server freezes what is alive every ``freeze_every_s``,
after a collection of the young generations (a few milliseconds) has freed their garbage
cycles; only a cycle that became garbage after it had grown old waits for the hourly collection.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

SLOW_S = 0.02  # a full collection longer than this folds its survivors out of the next ones
FULL_EVERY_S = 3600.0  # unfreeze and collect everything this often (cycles among frozen objects)


class LongLivedObjects:
    """Freezes what survives, and tells how long the collector held the interpreter."""

    def __init__(
        self,
        slow_s: float = SLOW_S,
        full_every_s: float = FULL_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        freeze_every_s: float | None = None,
    ) -> None:
        self.slow_s = slow_s
        self.full_every_s = full_every_s
        self.freeze_every_s = freeze_every_s
        self._clock = clock
        self._started_at: float | None = None
        self._freeze_due = False
        self._last_full = clock()
        self._last_freeze = clock()
        self.freezes = 0
        self.freed_by_full = 0  # garbage the last hourly collection found among frozen objects
        self.full_collections = 0
        self.pauses = {0: 0, 1: 0, 2: 0}  # collections per generation
        self.longest_s = {0: 0.0, 1: 0.0, 2: 0.0}
        self.total_s = {0: 0.0, 1: 0.0, 2: 0.0}

    def start(self) -> None:
        """Collect, freeze what the start built, and watch the collections from now on."""
        gc.collect()
        gc.freeze()
        self.freezes += 1
        self._last_full = self._last_freeze = self._clock()
        if self._note not in gc.callbacks:
            gc.callbacks.append(self._note)

    def stop(self) -> None:
        """Stop watching (the frozen objects stay frozen; a test may ``gc.unfreeze()``)."""
        if self._note in gc.callbacks:
            gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, Any]) -> None:
        # Runs inside the collector: only note, never collect or freeze from here.
        if phase == "start":
            self._started_at = time.perf_counter()
            return
        if self._started_at is None:
            return
        took = time.perf_counter() - self._started_at
        self._started_at = None
        generation = int(info.get("generation", 0))
        self.pauses[generation] = self.pauses.get(generation, 0) + 1
        self.total_s[generation] = self.total_s.get(generation, 0.0) + took
        self.longest_s[generation] = max(self.longest_s.get(generation, 0.0), took)
        if generation == 2 and took > self.slow_s:
            self._freeze_due = True

    def tick(self) -> None:
        """Freeze after a slow full collection (or when it is time); unfreeze and collect everything hourly."""
        now = self._clock()
        if now - self._last_full >= self.full_every_s:
            gc.unfreeze()
            self.freed_by_full = gc.collect()
            gc.freeze()
            self._last_full = self._last_freeze = self._clock()
            self.full_collections += 1
            self.freezes += 1
            self._freeze_due = False
        elif self._freeze_due or (self.freeze_every_s is not None and now - self._last_freeze >= self.freeze_every_s):
            self._freeze_due = False
            gc.collect(1)  # the young generations' garbage cycles, before the rest is frozen
            gc.freeze()
            self._last_freeze = now
            self.freezes += 1

    def run(self, stop: threading.Event, sleep: Callable[[float], None], every_s: float = 1.0) -> None:
        """Tick until ``stop`` is set (a background task of the server)."""
        while not stop.is_set():
            self.tick()
            sleep(every_s)

    def report(self) -> dict[str, Any]:
        """What /ready shows: pauses per generation, the longest, how many objects are frozen."""
        return {
            "ok": True,
            "frozen_objects": gc.get_freeze_count(),
            "freezes": self.freezes,
            "full_collections": self.full_collections,
            "freed_by_full": self.freed_by_full,
            "collections": {str(g): n for g, n in self.pauses.items()},
            "longest_ms": {str(g): round(s * 1000, 1) for g, s in self.longest_s.items()},
            "total_ms": {str(g): round(s * 1000, 1) for g, s in self.total_s.items()},
        }
