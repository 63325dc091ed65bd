"""Failed sign-ins for the audit log, counted per worker and put on the control log once a minute at most.

The control log is kept whole forever, so one event per failed try would let anyone grow it
without bound (the sign-in limits are per client and per account; many addresses trying many
names get past both). Counting instead: a worker that saw failures writes one SignInsFailed
for each minute that had any, with the failures per existing account (the 20 most tried), per
client address (the 10 busiest) and a count of tries naming no account. The names tried that
are no account are not kept: people type passwords into the name field. Tries refused by the
rate limit (429) are not counted one by one; the minute's counts already show the limit reached.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from streams.codec import format_time

WINDOW = timedelta(minutes=1)
ACCOUNTS_KEPT, CLIENTS_KEPT = 20, 10
CLIENTS_COUNTED = 10_000  # distinct addresses counted in one minute; beyond, they count as "other"


class FailedSignIns:
    """This worker's failed sign-ins of the current minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._since: datetime | None = None
        self._accounts: Counter[str] = Counter()
        self._clients: Counter[str] = Counter()
        self._unknown = 0
        self._failures = 0

    def note(self, name: str, known: bool, client: str, now: datetime) -> None:
        """Count one failed sign-in (``known``: the name is an account's)."""
        with self._lock:
            if self._since is None:
                self._since = now
            self._failures += 1
            if known:
                self._accounts[name] += 1
            else:
                self._unknown += 1
            if client in self._clients or len(self._clients) < CLIENTS_COUNTED:
                self._clients[client] += 1
            else:
                self._clients["other"] += 1

    def take(self, now: datetime, force: bool = False) -> dict[str, Any] | None:
        """Return the SignInsFailed data of a minute that has ended (or of what is counted, ``force``), and
        start counting anew; None when there is nothing to write yet."""
        with self._lock:
            if self._since is None or (not force and now - self._since < WINDOW):
                return None
            data = {
                "since": format_time(self._since),
                "failures": self._failures,
                "accounts": dict(self._accounts.most_common(ACCOUNTS_KEPT)),
                "unknown_names": self._unknown,
                "clients": dict(self._clients.most_common(CLIENTS_KEPT)),
            }
            self._reset()
            return data


def run_flusher(
    failures: FailedSignIns,
    publish: Callable[[dict[str, Any]], object],
    stop: threading.Event,
    sleep: Callable[[float], None],
    now: Callable[[], datetime],
) -> None:
    """Write each ended minute's failures, even when no further try comes to write them; the rest at the end."""
    while not stop.is_set():
        sleep(10.0)
        if (data := failures.take(now())) is not None:
            publish(data)
    if (data := failures.take(now(), force=True)) is not None:
        publish(data)


__all__ = ["FailedSignIns", "run_flusher"]
