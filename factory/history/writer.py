"""The history writer: every event the buses carry goes into the history, in batches, exactly once.

It reads a batch (up to ``batch`` events, or what arrived within ``linger_s``), records it in one
transaction and only then moves its offset on: when the store is away (a PostgreSQL restart, a
full disk) it keeps the batch, says so (:attr:`Recorder.healthy`, ``last_error``) and retries
with backoff, so nothing read is lost, and it catches up when the store is back. Copies are
refused by the store (by id and by key) and counted.

It also keeps a projection of its own, and writes a checkpoint of it every ``checkpoint_every``
of event time: a restart resumes from the latest checkpoint, and the floor can be replayed from
any of them.

A history that several workers share (PostgreSQL) has one writer at a time
(``History.is_writer``): the other workers' recorders wait, and the one that takes over goes on
from the offsets and the checkpoint recorded in the history (:meth:`Recorder._take_over`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from factory import snapshot
from factory.history.store import History
from factory.projector import apply, evict
from factory.state import FactoryState, empty_state
from factory.validation import PlantCheck
from streams.bus import Bus, Offset

log = logging.getLogger(__name__)


class Recorder:
    """Copies one or more buses into a history (run() in a background task)."""

    def __init__(
        self,
        history: History,
        sources: dict[str, Bus],
        batch: int = 2000,
        linger_s: float = 0.25,
        checkpoint_every: timedelta = timedelta(hours=1),
        is_writer: Callable[[], bool] | None = None,
        state: FactoryState | None = None,
        start_after: dict[str, Offset | None] | None = None,
    ) -> None:
        self.history = history
        self.sources = sources
        self.batch = batch
        self.linger_s = linger_s
        self.checkpoint_every = checkpoint_every
        self.is_writer = is_writer or history.is_writer
        self.standby = False  # waiting while another worker writes the shared history
        self.state = state or empty_state(history.plant)
        self._check = PlantCheck(history.plant, window=timedelta(days=3650))
        self.offsets: dict[str, Offset | None] = dict(start_after or {})
        self.healthy = True
        self.last_error: str | None = None
        self.recorded = 0
        self._last_checkpoint: datetime | None = None
        self._stopped = threading.Event()

    def run(self, stop: threading.Event, sleep: Callable[[float], None] = time.sleep) -> None:
        """Record until ``stop`` is set, then flush what was read."""
        backoff = 0.5
        while True:
            if not self.is_writer():
                unreachable = getattr(self.history, "writer_unreachable", None)
                if unreachable is not None:
                    # Not another worker's turn: the store cannot be asked. /ready must say so,
                    # not report a healthy writer on standby through a whole outage.
                    self.healthy, self.last_error = False, unreachable
                elif self.standby and not self.healthy:
                    self.healthy, self.last_error = True, None  # reachable again, and another worker's turn
                self.standby = True
                sleep(1.0)  # another worker writes this history, or the store is away
                if stop.is_set():
                    self._stopped.set()
                    return
                continue
            if self.standby:
                self._take_over()
                self.healthy, self.last_error = True, None  # the store answered: a failed write says so again
            pending = self._read(stop)
            while pending:
                try:
                    self._record(pending)
                    pending = []
                    backoff = 0.5
                    if not self.healthy:
                        log.warning("history writable again")
                    self.healthy, self.last_error = True, None
                except Exception as exc:  # noqa: BLE001 - a store that is away: keep the batch, say so (/ready), retry
                    self.history.writes_failed += 1
                    self.healthy, self.last_error = False, f"{type(exc).__name__}: {exc}"[:500]
                    log.warning(
                        "history write failed (%s); %d events kept, retrying in %.1f s",
                        self.last_error,
                        len(pending),
                        backoff,
                    )
                    sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    if stop.is_set() and backoff >= 10.0:
                        log.error("history unreachable at shutdown: %d events not recorded", len(pending))
                        return
            if stop.is_set() and not any(self._peek()):
                self.checkpoint()
                self._stopped.set()
                return

    def _take_over(self) -> None:
        """Become the writer after another worker: go on from what it recorded, not from what this one read.

        The other writer's offsets and its latest checkpoint are in the history; this worker's
        projection was made when it started and is stale. Reading on from the recorded offsets
        (copies of what the other writer stored meanwhile are refused by id) keeps every event
        once, and the projection rebuilt from the history keeps the next checkpoints right.
        """
        self.offsets = recorded_offsets(self.history, self.sources)
        self.state = state_at(self.history)
        self._last_checkpoint = None
        self.standby = False
        log.info("history: this worker writes the history now, reading on after %s", self.offsets)

    def step(self) -> int:
        """Read what the buses hold now (no waiting) and record it as one batch; return how many were read."""
        now = threading.Event()
        now.set()  # "stopping": _read takes what is there and does not linger for more
        pending = self._read(now)
        if pending:
            self._record(pending)
        return len(pending)

    def _peek(self) -> list[bool]:
        return [bool(bus.read(self.offsets.get(name), limit=1)) for name, bus in self.sources.items()]

    def _read(self, stop: threading.Event) -> list[tuple[str, Offset, object]]:
        """Read a batch. The offsets move on only once it is recorded (a bus that fails mid-read,
        or a store that refuses the batch, leaves them where they were: nothing read is lost)."""
        out: list[tuple[str, Offset, object]] = []
        offsets = dict(self.offsets)
        deadline = time.monotonic() + self.linger_s
        while len(out) < self.batch:
            got = 0
            for name, bus in self.sources.items():
                room = self.batch - len(out)
                if room <= 0:
                    break  # the batch is full: the other buses wait for the next one
                entries = bus.read(offsets.get(name), limit=room, block_s=0)
                if entries:
                    offsets[name] = entries[-1][0]
                    out += [(name, offset, event) for offset, event in entries]
                    got += len(entries)
            if got == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or stop.is_set():
                    break
                first = next(iter(self.sources))
                self.sources[first].read(offsets.get(first), limit=1, block_s=min(remaining, 0.25))
        return out

    def _record(self, pending: list) -> None:
        events = [event for _, _, event in pending]
        offsets = {}
        for name, offset, _ in pending:
            durable = getattr(self.sources[name], "durable_id", None)
            if durable is not None:
                offsets[f"offset:{durable}"] = offset
        result = self.history.record(events, meta=offsets)
        for name, offset, _ in pending:  # recorded: read on after it
            self.offsets[name] = offset
        self.recorded += len(result.new)
        for event in result.new:
            if self._check.admit(event) is None:
                apply(self.state, event)
        if result.new:
            newest = self.state.last_event_time
            if newest is not None and (
                self._last_checkpoint is None or newest - self._last_checkpoint >= self.checkpoint_every
            ):
                evict(self.state, newest)
                self.checkpoint()

    def checkpoint(self) -> None:
        """Write the writer's projection as a checkpoint (at its latest event time)."""
        at = self.state.last_event_time
        if at is None:
            return
        if not self.is_writer():
            # Another worker took over meanwhile (this one's connection to a shared history was
            # lost): this projection may lack what it recorded, and its checkpoint would too.
            log.warning("checkpoint at %s not written: another worker writes the history now", at)
            return
        try:
            self.history.put_checkpoint(at, self.history.last_seq(), snapshot.to_json(self.state))
            self._last_checkpoint = at
        except Exception:  # a checkpoint is an optimisation: the events are safe
            log.warning("checkpoint at %s not written", at, exc_info=True)

    def wait_stopped(self, timeout_s: float) -> bool:
        """Wait until run() has flushed and returned."""
        return self._stopped.wait(timeout_s)


def recorded_offsets(history: History, sources: dict[str, Bus]) -> dict[str, Offset | None]:
    """Return where the writer left each durable bus (a restart does not read a retained stream again)."""
    out: dict[str, Offset | None] = {}
    for name, bus in sources.items():
        durable = getattr(bus, "durable_id", None)
        out[name] = history.meta(f"offset:{durable}") if durable is not None else None
    return out


def state_at(
    history: History, at: datetime | None = None, check: PlantCheck | None = None, line_id: str | None = None
) -> FactoryState:
    """Return the projection as of ``at`` (default: everything recorded): latest checkpoint + events after it.

    ``check`` is the plant check the events pass (a new one by default); a caller that goes on
    folding later events into the state passes its own, so that it remembers what it admitted.
    ``line_id`` builds that line only (its units and their events: a unit never changes line),
    with the enterprise's clock (the latest event time) as the whole state would have it.
    """
    found = history.latest_checkpoint(at)
    lines = None if line_id is None else {line_id}
    state = snapshot.from_json(found[2], history.plant, lines) if found else empty_state(history.plant)
    after = found[1] if found else None
    check = check or PlantCheck(history.plant, window=timedelta(days=3650))
    end = at + timedelta(milliseconds=1) if at is not None else None
    for event in history.iter_replay(end=end, after_seq=after, line_id=line_id):
        if check.admit(event) is None:
            apply(state, event)
    if line_id is not None:
        state.last_event_time = _latest(history, state.last_event_time, after, end)
    return state


def _latest(history: History, known: datetime | None, after_seq: int | None, end: datetime | None) -> datetime | None:
    """The latest time among the recorded line events after ``after_seq`` and before ``end``, or ``known``."""
    found = history.latest_line_time(after_seq, end)
    return max((t for t in (known, found) if t is not None), default=None)
