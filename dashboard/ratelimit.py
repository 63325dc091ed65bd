"""Per-client limits on failed token lookups, so tracking links cannot be enumerated.

Only misses count: a customer re-opening their own link is never slowed, a client that keeps
guessing is answered 429 for the rest of the minute.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

MISSES_PER_MINUTE = 30


class MissLimiter:
    def __init__(self, per_minute: int = MISSES_PER_MINUTE, clock=time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._misses: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque[float]:
        recent = self._misses[client]
        while recent and recent[0] < self._clock() - 60:
            recent.popleft()
        return recent

    def blocked(self, client: str) -> bool:
        """Tell whether ``client`` used up its misses for this minute."""
        with self._lock:
            return len(self._recent(client)) >= self._per_minute

    def miss(self, client: str) -> None:
        """Count one failed lookup by ``client``."""
        with self._lock:
            self._recent(client).append(self._clock())
