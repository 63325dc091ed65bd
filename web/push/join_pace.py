"""The pace at which sockets get a room's whole view: a token bucket for joins and resyncs.

Every viewer of a worker reconnects when it restarts, and each join costs a whole frame built and
sent. Admitted all at once, a storm lands in one or two seconds (36 % of 1,000 trackers in the
busiest second, docs/benchmarks.md). The bucket lets ``burst`` joins through at once, so a join
in normal operation (or a hall of wall screens) waits for nothing, and admits the rest at
``rate`` a second, in the order they asked.

Each request reserves its turn when it asks (the bucket may go below zero) and is told how long
to wait: with the bucket full, the n-th of N simultaneous requests waits max(0, n - burst) / rate
seconds. Pure apart from the injected clock and sleep; under gevent, ``sleep`` yields.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

JOIN_BURST = 30  # a hall of wall screens, or a floor's screens after a network blip, at once


class JoinPace:
    """A token bucket of ``burst`` tokens refilled at ``rate`` a second; rate 0 admits everything at once."""

    def __init__(
        self,
        rate: float,
        burst: int = JOIN_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("a join pace needs rate >= 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self.sleep = sleep  # public: a caller that reserved a turn may wait for it elsewhere
        self._tokens = float(burst)
        self._at = clock()
        self._lock = threading.Lock()  # taken for arithmetic only, never while waiting

    def reserve(self) -> float:
        """Take a token now or in the future; return the seconds until it is this request's turn."""
        if self.rate == 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
            self._at = now
            self._tokens -= 1
            return max(0.0, -self._tokens / self.rate)

    def wait(self) -> float:
        """Reserve a token and sleep until its turn; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            self.sleep(delay)
        return delay
