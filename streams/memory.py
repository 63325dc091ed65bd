"""In-process bus: the embedded default when the factory fits in one process.

Retention is bounded (oldest entries dropped first) so a screen that runs for days keeps flat
memory; offsets keep counting so a reader can tell it fell behind the retained window.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from streams.bus import Entry, Gap, Offset, keep_gap
from streams.events import Event

log = logging.getLogger(__name__)
DEAD_LETTERS_KEPT = 10_000


class Refused(NamedTuple):
    """One refused input as this process keeps it (indexes 0-2 as the other buses' dead letters)."""

    reason: str
    detail: str
    raw: str
    at: datetime
    number: int


class MemoryBus:
    """Thread-safe append-only list with blocking reads and synchronous subscribers."""

    def __init__(self, max_len: int = 1_000_000) -> None:
        self._entries: deque[Event] = deque(maxlen=max_len)
        self._first = 1  # offset of _entries[0]; offsets start at 1 so "0" means "before everything"
        self._cond = threading.Condition()
        self._subscribers: list[Callable[[Offset, Event], None]] = []
        self._closed = False
        self.dead_letters: deque[Refused] = deque(maxlen=DEAD_LETTERS_KEPT)
        # Numbers restart with the process and the letters die with it, while a re-submission
        # is remembered on the control log: the prefix keeps one run's ids from naming another's.
        self._dead_prefix = "m" + secrets.token_hex(4)
        self._dead_numbers = itertools.count(1)
        self.gaps: list[Gap] = []

    def publish(self, event: Event) -> Offset:
        """Append one event and return its offset."""
        return self.publish_many((event,))[0]

    def publish_many(self, events: Iterable[Event]) -> list[Offset]:
        """Append events in order, wake readers, then notify subscribers outside the lock."""
        published: list[Entry] = []
        with self._cond:
            for event in events:
                if len(self._entries) == self._entries.maxlen:
                    self._first += 1
                self._entries.append(event)
                published.append((str(self._first + len(self._entries) - 1), event))
            subscribers = list(self._subscribers)
            self._cond.notify_all()
        for callback in subscribers:
            for offset, event in published:
                callback(offset, event)
        return [offset for offset, _ in published]

    def read(self, after: Offset | None = None, limit: int = 1000, block_s: float = 0.0) -> list[Entry]:
        """Return up to ``limit`` entries after ``after``, waiting up to ``block_s`` for the first."""
        start = (int(after) if after else 0) + 1
        with self._cond:
            if block_s > 0 and not self._closed and start >= self._first + len(self._entries):
                self._cond.wait(block_s)
            index = max(start - self._first, 0)
            stop = min(index + limit, len(self._entries))
            if after and start < self._first and stop > index:
                self._note_gap(after, str(self._first), self._first - start)
            # islice walks the deque once; indexing a deque costs O(distance from an end) per entry
            return list(
                zip(
                    map(str, range(self._first + index, self._first + stop)),
                    itertools.islice(self._entries, index, stop),
                )
            )

    def _note_gap(self, after: Offset, resumed: Offset, missed: int) -> None:
        log.error("a reader at %s fell behind retention: %d events dropped before it read them", after, missed)
        keep_gap(self.gaps, Gap(after, resumed, missed, None, datetime.now(UTC)))

    def subscribe(self, callback: Callable[[Offset, Event], None]) -> Callable[[], None]:
        """Register ``callback`` for future events; return a function that removes it."""
        with self._cond:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._cond:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def dead_letter(self, reason: str, detail: str, raw: str) -> None:
        """Keep the last 10,000 rejected inputs in memory."""
        with self._cond:
            number = next(self._dead_numbers)
        self.dead_letters.append(Refused(reason, detail, raw, datetime.now(UTC), number))

    def scan_dead_letters(self, before: str | None = None) -> Iterator[tuple[str, datetime, str, str, str]]:
        """Yield ``(id, at, reason, detail, raw)`` newest first, from just before the id ``before``."""
        limit = None
        if before is not None:
            prefix, _, number = before.partition("-")
            if prefix != self._dead_prefix or not number.isdigit():
                return  # a cursor of another process: this one holds nothing after it
            limit = int(number)
        for kept in reversed(list(self.dead_letters)):
            if limit is None or kept.number < limit:
                yield f"{self._dead_prefix}-{kept.number}", kept.at, kept.reason, kept.detail, kept.raw

    def close(self) -> None:
        """Wake every blocked reader; later reads return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
