"""The pump: the one owner of live state. Buses in; the plant's projection, people's actions and accounts out.

One task per process reads the event stream and the control log, asks the plant check about
every line event (an impossible one is counted and skipped: it never reaches a view), folds
events into the projection (factory.projector), people's actions into the operations state
(factory.operations) and account changes into the accounts state (web.accounts), and marks
which rooms changed. Pushing those rooms is :mod:`web.push.rooms`'s job; answering pages and
APIs is :mod:`web.push.queries`'s. Readers take ``lock`` for the moment they build a view.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from factory.derive import queued_behind
from factory.layout import Plant
from factory.operations import OperationsState, apply_control
from factory.operations import forget_old as forget_old_actions
from factory.projector import apply, evict
from factory.state import FactoryState, Position, empty_state
from factory.validation import PlantCheck
from streams.bus import Bus, Offset
from streams.events import Event
from web.accounts import AccountsState, apply_account
from web.accounts import forget_old as forget_old_sessions

log = logging.getLogger(__name__)
# Trackers are flushed after every batch: a quiet site's event waits for at most one batch of a
# busy one's (with a stream per site), so batches stay short (bench/site_burst.py).
BATCH = 1000
EVICT_EVERY_S = 30.0


class LivePlant:
    """This process's view of the enterprise, kept current from its buses."""

    def __init__(
        self, plant: Plant, bus: Bus, control: Bus, check: PlantCheck | None = None, state: FactoryState | None = None
    ) -> None:
        self.plant = plant
        self.bus = bus
        self.control = control
        self.lock = threading.RLock()
        self.state = state or empty_state(plant)
        self.operations = OperationsState()
        self.accounts = AccountsState()
        self.check = check or PlantCheck(plant, window=timedelta(days=3650))
        self.offsets: dict[str, Offset | None] = {"events": None, "control": None}
        self.dirty_lines: set[str] = set()
        self.dirty_units: set[str] = set()
        # Units whose place in a queue changed because another unit moved (their units ahead, and
        # so their ETA): pushed at a slower beat, since one unit leaving a backlog of thousands
        # changes thousands of trackers at once.
        self.queue_moved: set[str] = set()
        self.skipped: Counter[str] = Counter()  # refused by the plant check, by reason
        self.events_read = 0  # from the event bus since start (a restart reads on, not again)
        self.fed_at: float | None = None  # wall time the last event was applied (the stream's pulse)
        self.caught_up_at = time.monotonic()  # when a read last found nothing new
        self.listeners: list[Callable[[Event], None]] = []  # told of every control event (revocations)
        # Told of every line-stream event admitted, under the lock; they must be quick (customers'
        # open orders, the built-in plant's inbox of orders placed elsewhere).
        self.event_listeners: list[Callable[[Event], None]] = []
        self._last_evict = time.monotonic()

    def read_once(self, block_s: float = 0.0) -> int:
        """Apply what the buses hold after our offsets; return how many events were read."""
        control = self.control.read(self.offsets["control"], limit=BATCH)
        if control:
            self.offsets["control"] = control[-1][0]
            self._apply_control([e for _, e in control])
        entries = self.bus.read(self.offsets["events"], limit=BATCH, block_s=0.0 if control else block_s)
        if entries:
            self.offsets["events"] = entries[-1][0]
            self.events_read += len(entries)
            self._apply_events([e for _, e in entries])
        if len(entries) < BATCH and len(control) < BATCH:
            self.caught_up_at = time.monotonic()
        if time.monotonic() - self._last_evict > EVICT_EVERY_S:
            self.housekeeping()
        return len(entries) + len(control)

    def load(self, events) -> int:
        """Fold events from elsewhere (history replayed at start) into the state; return how many."""
        batch = list(events)
        self._apply_events(batch)
        return len(batch)

    def _apply_events(self, events: list[Event]) -> None:
        with self.lock:
            for event in events:
                if event.CONTROL:
                    self._apply_control([event])
                    continue
                reason = self.check.admit(event)
                if reason is not None:
                    self.skipped[reason] += 1
                    self.state.events_skipped += 1
                    continue
                unit_code = getattr(event, "unit_code", None)
                unit = self.state.units.get(unit_code) if unit_code is not None else None
                before = unit.position if unit is not None else None
                try:
                    apply(self.state, event)
                except Exception:  # the projection is total by design; if not, one event must not stop the plant
                    self.skipped["apply_failed"] += 1
                    log.exception("could not apply %s %s", event.KIND, event.id)
                    continue
                for listener in self.event_listeners:
                    try:
                        listener(event)
                    except Exception:
                        log.exception("an event listener failed on %s", event.KIND)
                line_id = getattr(event, "line_id", None)
                if line_id is not None:
                    self.dirty_lines.add(line_id)
                if unit_code is not None:
                    self.dirty_units.add(unit_code)
                    self._mark_queue_moved(unit_code, before)
            self.fed_at = time.time()

    def _mark_queue_moved(self, unit_code: str, before: Position | None) -> None:
        """Mark the units that waited behind ``unit_code`` (or now do): their units ahead changed."""
        unit = self.state.units.get(unit_code)
        after = unit.position if unit is not None else None
        if before == after or unit is None or unit.line_id not in self.state.lines:
            return
        self.queue_moved.update(queued_behind(self.state.lines[unit.line_id], unit_code, before, after))

    def _apply_control(self, events: list[Event]) -> None:
        with self.lock:
            for event in events:
                apply_control(self.operations, event)
                apply_account(self.accounts, event)
                line_id = getattr(event, "line_id", None)
                if line_id is not None:
                    self.dirty_lines.add(line_id)  # an acknowledgement shows on every screen of the line
        for event in events:
            for listener in self.listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("a control-log listener failed on %s", event.KIND)

    def housekeeping(self) -> None:
        """Bound memory: units that left the plant, old acknowledgements and revocations."""
        self._last_evict = time.monotonic()
        now = datetime.now(UTC)
        with self.lock:
            if self.state.last_event_time is not None:
                evict(self.state, self.state.last_event_time)
            forget_old_actions(self.operations, now)
            forget_old_sessions(self.accounts, now)

    def take_dirty_units(self) -> set[str]:
        """Return and clear the units changed since the last call (their trackers' beat)."""
        with self.lock:
            units, self.dirty_units = self.dirty_units, set()
            self.queue_moved -= units  # their own frames say how their queue moved too
        return units

    def take_queue_moved(self) -> set[str]:
        """Return and clear the units whose queue moved since the last call (and which did not move themselves)."""
        with self.lock:
            units, self.queue_moved = self.queue_moved, set()
        return units

    def take_dirty_lines(self) -> set[str]:
        """Return and clear the lines changed since the last call (the floor screens' slower beat)."""
        with self.lock:
            lines, self.dirty_lines = self.dirty_lines, set()
        return lines

    def lag_s(self) -> float:
        """Return how long ago the pump last had nothing left to read (0 when it keeps up)."""
        return max(0.0, time.monotonic() - self.caught_up_at)
