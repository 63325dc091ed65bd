"""Hand emitted events to a bus in batches; while the bus is unreachable, wait and retry.

The simulation pauses while a batch is retried (its clock does not move), so nothing is lost;
a paced run then catches up. A batch that failed half-way may be sent twice: consumers drop
duplicates by ``(source, id)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from streams.bus import Bus
from streams.events import Event

log = logging.getLogger("line_emulator.publisher")


class BusPublisher:
    def __init__(
        self,
        bus: Bus,
        retry_on: tuple[type[BaseException], ...],
        batch: int = 500,
        first_backoff_s: float = 0.25,
        max_backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._bus = bus
        self._retry_on = retry_on
        self._batch = batch
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._pending: list[Event] = []
        self.retries = 0

    def emit(self, event: Event) -> None:
        """Queue one event; a full batch is sent at once."""
        self._pending.append(event)
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Send what is queued, retrying with exponential backoff until the bus takes it."""
        backoff = self._first_backoff_s
        while self._pending:
            try:
                self._bus.publish_many(self._pending)
                if backoff > self._first_backoff_s:
                    log.warning("bus reachable again; %d events sent", len(self._pending))
                self._pending = []
            except self._retry_on as exc:
                self.retries += 1
                log.warning(
                    "bus unreachable (%s); %d events held, retrying in %.2f s", exc, len(self._pending), backoff
                )
                self._sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
