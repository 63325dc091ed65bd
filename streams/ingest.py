"""Events from outside (HTTP, MQTT): validate, drop duplicates, put each unit's events in order, check the plant.

- Input that is not a valid event goes to the dead letter with its reason code and is counted:
  never a crash, never a silent drop. So does a valid event that is impossible in this plant
  (``check``, e.g. factory.validation.PlantCheck): a station of another line, a time far from
  the line's clock, a token another order owns.
- So does an event with a NUL character in any text (no database text column can hold one).
- A ``(source, id)`` seen before is a duplicate: counted and ignored.
- A unit's events are held for ``window_s`` after they arrive and released sorted by time (and
  checked against the unit's flow then), so a line that sends "exited" just before "entered" is
  straightened out.
- An event older than one already released for the same unit is late: it is still published
  (nothing is lost; the projection converges in any order) and it is counted and recorded.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import orjson

from streams.bus import Bus
from streams.codec import DecodeError, from_dict, from_json, to_json
from streams.events import Event

DeadLetter = Callable[[str, str, str], None]  # (reason, detail, raw text)
Check = Callable[..., "str | None"]  # (event, flow=bool) -> refusal reason, or None


class Ingestor:
    """Thread-safe gate between outside producers and the bus."""

    def __init__(
        self,
        bus: Bus,
        dead_letter: DeadLetter,
        window_s: float = 2.0,
        remember: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
        check: Check | None = None,
        admit: Callable[[Event], str | None] | None = None,
    ) -> None:
        self._bus = bus
        self._dead_letter = dead_letter
        self.window_s = window_s
        self._clock = clock
        self._check = check  # on arrival (flow=False)
        self._admit = admit  # on release, in order: checks the flow and remembers what passed
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remember = remember
        self._held: dict[str, list[tuple[float, Event]]] = {}  # unit -> (arrival, event)
        self._released_until: dict[str, Any] = {}  # unit -> time of the latest released event
        self.counts: Counter[str] = Counter()
        self.late: deque[dict[str, str]] = deque(maxlen=1000)

    def submit(self, raw: str | bytes | dict, origin: str) -> str:
        """Take one event; return ``accepted``, ``duplicate`` or ``rejected:<reason>``."""
        try:
            event = from_dict(raw) if isinstance(raw, dict) else from_json(raw)
        except DecodeError as exc:
            return self._refuse(exc.reason, f"{origin}: {exc.detail}", raw)
        if _has_nul(event):  # a database text column cannot hold it (PostgreSQL refuses the whole batch)
            return self._refuse("nul_character", f"{origin}: {event.KIND} {event.id!r}", raw)
        if event.CONTROL:  # people's actions come from the app's pages and commands, never from a line
            return self._refuse("control_event", f"{origin}: {event.KIND} {event.id}", raw)
        if self._check is not None:
            reason = self._check(event, flow=False)
            if reason is not None:
                return self._refuse(reason, f"{origin}: {event.KIND} {event.id}", raw)
        key = (event.source, event.id)
        ready: list[Event] = []
        with self._lock:
            if key in self._seen:
                self.counts["duplicate"] += 1
                return "duplicate"
            self._seen[key] = None
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)
            self.counts["accepted"] += 1
            unit = getattr(event, "unit_code", None)
            if unit is None or event.CONTROL:
                ready.append(event)
            else:
                latest = self._released_until.get(unit)
                if latest is not None and event.time < latest:
                    self.counts["late"] += 1
                    self.late.append(
                        {
                            "source": event.source,
                            "id": event.id,
                            "unit_code": unit,
                            "time": event.time.isoformat(),
                            "released_until": latest.isoformat(),
                        }
                    )
                    ready.append(event)
                else:
                    self._held.setdefault(unit, []).append((self._clock(), event))
        if ready:
            self._publish(ready, origin)
        return "accepted"

    def _refuse(self, reason: str, detail: str, raw: str | bytes | dict) -> str:
        if isinstance(raw, dict):
            try:
                text = orjson.dumps(raw).decode()
            except TypeError:
                text = repr(raw)
        else:
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        self._dead_letter(reason, detail, text[:65536])
        with self._lock:
            self.counts[f"rejected:{reason}"] += 1
        return f"rejected:{reason}"

    def _publish(self, events: list[Event], origin: str) -> None:
        """Publish events in order; each must pass the plant's flow check first (when one is set)."""
        if self._admit is not None:
            passed = []
            for event in events:
                reason = self._admit(event)
                if reason is None:
                    passed.append(event)
                else:
                    # It passed the gate (and was answered "accepted"), but its unit's earlier
                    # steps now show it impossible: refused after all, so the counters add up.
                    with self._lock:
                        self.counts["accepted"] -= 1
                    self._refuse(reason, f"{origin}: {event.KIND} {event.id} (on release)", to_json(event))
            events = passed
        if events:
            self._bus.publish_many(events)

    def flush(self, force: bool = False) -> int:
        """Release the units whose oldest held event waited ``window_s`` (all with ``force``)."""
        now = self._clock()
        ready: list[Event] = []
        with self._lock:
            for unit in [u for u, held in self._held.items() if force or now - held[0][0] >= self.window_s]:
                events = sorted((e for _, e in self._held.pop(unit)), key=lambda e: (e.time, e.id))
                ready += events
                self._released_until[unit] = max(events[-1].time, self._released_until.get(unit, events[-1].time))
            if len(self._released_until) > self._remember:
                for unit in list(self._released_until)[: len(self._released_until) - self._remember]:
                    del self._released_until[unit]
        if ready:
            self._publish(ready, "release")
        return len(ready)

    def run(self, stop: threading.Event, period_s: float = 0.25) -> None:
        """Flush every ``period_s`` until ``stop`` is set, then flush everything."""
        while not stop.wait(period_s):
            self.flush()
        self.flush(force=True)

    def stats(self) -> dict[str, Any]:
        """Return the counters and the most recent late events."""
        with self._lock:
            return {
                "counts": dict(self.counts),
                "held": sum(map(len, self._held.values())),
                "late": list(self.late)[-20:],
            }


def _has_nul(value: Any) -> bool:
    """Whether an event (or a value of one) holds the character U+0000 anywhere in its text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Event):
        return any(_has_nul(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False
