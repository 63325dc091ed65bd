"""The Bus protocol every backend implements, so that one setting picks the backend.

Offsets are opaque, ordered strings: read(after=offset) returns what was published after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from streams.events import Event

Offset = str
Entry = tuple[Offset, Event]
GAPS_KEPT = 20


@dataclass(frozen=True)
class Gap:
    """Entries a reader never saw: retention dropped them before it read that far.

    A reader that falls further behind than the bus keeps (a worker stopped for hours, a history
    writer slower than the line) gets the oldest retained entry next; that is told, not hidden.
    """

    after: Offset  # the reader's offset
    resumed: Offset  # the first entry it read instead of the next one
    missed: int | None  # how many entries it never saw, where the bus can count them
    missed_s: float | None  # the stretch of stream time they covered, where offsets carry time
    noticed: datetime


def keep_gap(gaps: list[Gap], gap: Gap) -> None:
    """Add ``gap`` to a bus's ``gaps``, keeping the latest GAPS_KEPT."""
    gaps.append(gap)
    del gaps[:-GAPS_KEPT]


class Bus(Protocol):
    """An append-only, replayable stream of events.

    ``gaps`` holds the latest (up to GAPS_KEPT) readings that skipped entries retention had dropped.
    """

    gaps: list[Gap]

    def publish(self, event: Event) -> Offset:
        """Append one event and return its offset."""

    def publish_many(self, events: Iterable[Event]) -> list[Offset]:
        """Append several events in order and return their offsets."""

    def read(self, after: Offset | None = None, limit: int = 1000, block_s: float = 0.0) -> list[Entry]:
        """Return up to ``limit`` entries after ``after`` (None: from the start), waiting up to ``block_s``."""

    def subscribe(self, callback: Callable[[Offset, Event], None]) -> Callable[[], None]:
        """Call ``callback`` for every event published from now on; return the unsubscribe function."""

    def dead_letter(self, reason: str, detail: str, raw: str) -> None:
        """Keep input that could not be accepted, with why (a reason code) and where it came from."""

    def close(self) -> None:
        """Release resources and wake blocked readers."""
