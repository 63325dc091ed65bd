"""A bus kept in one append-only file: the control log of the embedded default.

What people do (accounts, wall screens, acknowledgements, feedback) must survive restarts and
be written by more than one process on the machine (the running app, and ``tf users add`` beside
it) with no service installed. Each event is one JSON line appended under an exclusive file lock
and flushed to disk; offsets are line numbers. Readers follow the file as it grows. A torn last
line (power cut mid-write) is skipped and reported, never taken for an event.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from streams.bus import Entry, Gap, Offset
from streams.codec import DecodeError, from_json, to_bytes
from streams.events import Event

log = logging.getLogger(__name__)


class FileBus:
    """The Bus protocol over one JSON-lines file (thread-safe; several processes may append)."""

    def __init__(self, path: str | Path, poll_s: float = 0.2) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # owner-only: it holds hashes
        self.durable_id = f"file:{self.path.name}"  # offsets (line numbers) stay valid across restarts
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._events: list[Event] = []  # everything read so far, in file order
        self._read_bytes = 0  # how far the file has been read
        self._torn = 0
        self._closed = False
        self.dead_letters: list[tuple[str, str, str]] = []
        self.gaps: list[Gap] = []  # a file keeps everything: never any

    def publish(self, event: Event) -> Offset:
        """Append one event and return its offset."""
        return self.publish_many((event,))[0]

    def publish_many(self, events: Iterable[Event]) -> list[Offset]:
        """Append events under an exclusive lock, flushed to disk before returning."""
        lines = b"".join(to_bytes(e) + b"\n" for e in events)
        if not lines:
            return []
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, lines)
            os.fsync(fd)
        finally:
            os.close(fd)
        with self._lock:
            self._load()
            last = len(self._events)
        count = lines.count(b"\n")
        return [str(n) for n in range(last - count + 1, last + 1)]

    def _load(self) -> None:
        """Read what other writers appended since the last look (call with the lock held)."""
        size = self.path.stat().st_size
        if size <= self._read_bytes:
            return
        with open(self.path, "rb") as f:
            f.seek(self._read_bytes)
            chunk = f.read(size - self._read_bytes)
        complete = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
        for raw in chunk[:complete].splitlines():
            if not raw.strip():
                continue
            try:
                self._events.append(from_json(raw))
            except DecodeError as exc:
                self._torn += 1
                self.dead_letters.append(
                    (exc.reason, f"{self.path.name}: {exc.detail}", raw.decode("utf-8", "replace"))
                )
                log.error("control log %s: skipped an unreadable line (%s)", self.path, exc)
        self._read_bytes += complete

    def read(self, after: Offset | None = None, limit: int = 1000, block_s: float = 0.0) -> list[Entry]:
        """Return up to ``limit`` entries after ``after``, waiting up to ``block_s`` for the first."""
        start = int(after) if after else 0
        deadline = time.monotonic() + block_s
        while True:
            with self._lock:
                self._load()
                entries = [(str(n + 1), e) for n, e in enumerate(self._events[start : start + limit], start)]
            if entries or block_s <= 0 or self._closed or time.monotonic() >= deadline:
                return entries
            time.sleep(min(self.poll_s, max(deadline - time.monotonic(), 0.01)))

    def subscribe(self, callback: Callable[[Offset, Event], None]) -> Callable[[], None]:
        """Call ``callback`` from a background thread for every event appended from now on."""
        stop = threading.Event()
        with self._lock:
            self._load()
            last = str(len(self._events))

        def follow() -> None:
            after = last
            while not stop.is_set():
                for offset, event in self.read(after, block_s=self.poll_s):
                    after = offset
                    callback(offset, event)

        threading.Thread(target=follow, name="control-log-subscriber", daemon=True).start()
        return stop.set

    def dead_letter(self, reason: str, detail: str, raw: str) -> None:
        """Keep refused input in memory (the control log only carries the app's own events)."""
        self.dead_letters.append((reason, detail, raw))

    def close(self) -> None:
        """Wake blocked readers; later reads return at once."""
        self._closed = True
