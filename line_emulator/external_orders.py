"""Orders placed elsewhere (the configurator, an ERP, a shop): handed to the simulated plant to build.

The stream carries them like any line's orders. Whoever reads the stream offers each order to
the inbox, from its own thread; the thread that runs the simulation delivers them between two
steps (SimPy is not thread-safe), so the unit joins its line's backlog at the plant's next
release. The plant's own orders (its lines' sources) and an order seen before are left out.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from line_emulator.model import PlantModel
from streams import events as ev
from streams.bus import Bus, Offset

log = logging.getLogger(__name__)
REMEMBERED = 100_000  # unit codes already taken; an order offered twice (two readers, a replay) is built once


class OrderInbox:
    """Orders waiting for the simulation's thread."""

    def __init__(self, own_sources: set[str]) -> None:
        self._own = own_sources
        self._lock = threading.Lock()
        self._waiting: list[ev.OrderPlaced] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.taken = 0

    def offer(self, event: ev.Event) -> None:
        """Keep an order placed elsewhere for the next delivery (any thread; quick)."""
        if not isinstance(event, ev.OrderPlaced) or event.source in self._own:
            return
        with self._lock:
            if event.unit_code in self._seen:
                return
            self._seen[event.unit_code] = None
            if len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
            self._waiting.append(event)

    def deliver(self, model: PlantModel) -> int:
        """Hand the waiting orders to their lines (the simulation's thread); return how many were taken."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        taken = 0
        for order in waiting:
            if model.take_order(order):
                taken += 1
            else:
                log.info("order %s is for line %s, which this plant does not run", order.order_id, order.line_id)
        self.taken += taken
        return taken


def own_sources(model: PlantModel) -> set[str]:
    """Return the sources the plant's own events carry (one per line)."""
    return {line.source for line in model.lines.values()}


class StreamFollower:
    """For a plant run without the app (``tf emulate --redis-url``): offers the stream's new orders to an inbox."""

    def __init__(
        self, bus: Bus, inbox: OrderInbox, after: Offset | None, retry_on: tuple[type[BaseException], ...] = ()
    ) -> None:
        self._bus = bus
        self._inbox = inbox
        self._after = after
        self._retry_on = retry_on

    def poll(self, limit: int = 1000) -> int:
        """Read what arrived since the last call, without waiting; return how many entries were read.

        While the bus is unreachable nothing is read (the publisher waits for it and the plant
        pauses); the next poll reads on from the same offset, so no order is missed.
        """
        try:
            return self._poll(limit)
        except self._retry_on as exc:
            log.warning("cannot read orders from the stream (%s); trying again at the next step", exc)
            return 0

    def _poll(self, limit: int) -> int:
        read = 0
        while entries := self._bus.read(self._after, limit=limit):
            self._after = entries[-1][0]
            read += len(entries)
            for _, event in entries:
                self._inbox.offer(event)
            if len(entries) < limit:
                break
        return read
