"""The read side of the dead letter: refused input, newest first, whichever bus keeps it.

Where each backend keeps what it refused:
- the in-memory bus: a deque of the latest 10,000 in this process (``MemoryBus.dead_letters``),
  lost at restart and seen by this worker only;
- Redis (one stream or a stream per site): the stream ``tf:dead-letters`` (about 100,000 kept),
  shared by every worker, with a count per reason in the hash ``tf:dead-letters:count``;
- the control-log file keeps torn lines in memory only. Those are the app's own records
  (password hashes among them), not input from a line, and are not read here.

A letter's ``detail`` begins with where it came from (the ingest gate's ``origin``): ``http``,
``mqtt:<topic>``, ``resubmit:<user>``, or ``stream entry``/``entry`` for what a bus reader met.
Its ``raw`` is whatever arrived (cut to 64 kB): hostile text, to be shown escaped and never
trusted, including the line it claims to be from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

SOURCES = ("http", "mqtt", "bus", "resubmit")
ID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")
SHOWN_CHARS = 2000  # of the raw text in a list; the whole of it is there for editing


@dataclass(frozen=True)
class DeadLetter:
    id: str
    at: datetime
    source: str  # one of SOURCES, or "other"
    reason: str
    detail: str
    raw: str
    line_id: str | None  # as the raw text names it, when it can be read at all

    def shown_raw(self, limit: int = SHOWN_CHARS) -> tuple[str, bool]:
        """Return the raw text cut for display, and whether it was cut."""
        return (self.raw[:limit], True) if len(self.raw) > limit else (self.raw, False)


def source_of(detail: str) -> str:
    """Tell where a dead letter came from by how its detail begins."""
    if detail.startswith("http"):
        return "http"
    if detail.startswith("mqtt:"):
        return "mqtt"
    if detail.startswith("resubmit:"):
        return "resubmit"
    if detail.startswith(("stream entry ", "entry ")):
        return "bus"
    return "other"


def line_of(raw: str) -> str | None:
    """Return the ``data.line_id`` the raw text names, if it is JSON with one, else None."""
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    data = document.get("data") if isinstance(document, dict) else None
    line = data.get("line_id") if isinstance(data, dict) else None
    return line if isinstance(line, str) and 0 < len(line) <= 100 else None


def _letter(kept: tuple[str, datetime, str, str, str]) -> DeadLetter:
    letter_id, at, reason, detail, raw = kept
    return DeadLetter(letter_id, at, source_of(detail), reason, detail, raw, line_of(raw))


def newest_first(bus: Any, before: str | None = None) -> Iterator[DeadLetter]:
    """Yield the bus's dead letters newest first, from just before the id ``before`` (a page's cursor)."""
    scan = getattr(bus, "scan_dead_letters", None)
    if scan is not None:
        yield from map(_letter, scan(before))


def find(bus: Any, letter_id: str) -> DeadLetter | None:
    """Return the dead letter with this id, or None."""
    if not ID_PATTERN.fullmatch(letter_id):
        return None
    finder = getattr(bus, "find_dead_letter", None)
    if finder is not None:
        found = finder(letter_id)
        return None if found is None else _letter(found)
    return next((letter for letter in newest_first(bus) if letter.id == letter_id), None)
