"""Run blocking work (database queries, PDF rendering) where it does not stall the server.

Under gevent every request and socket is a greenlet on one OS thread: a DuckDB query or a PDF
of a second would stop all of them. :func:`runner` returns a function that runs a callable on a
pool of real OS threads and waits for it cooperatively; in threading mode (development server,
in-process tests) it simply calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Runner:
    """``run(fn) -> fn()``: off the event loop on a pool of OS threads under gevent, else in place."""

    def __init__(self, async_mode: str, threads: int = 4) -> None:
        self._pool = None
        if async_mode == "gevent":
            from gevent.threadpool import ThreadPool

            self._pool = ThreadPool(threads)

    def __call__(self, fn: Callable[[], T]) -> T:
        return fn() if self._pool is None else self._pool.apply(fn)

    def close(self, timeout_s: float = 10.0) -> None:
        """Wait for the work under way (a query must not be cut off by closing its database)."""
        if self._pool is not None:
            import gevent

            with gevent.Timeout(timeout_s, False):  # a query that hangs does not hold the shutdown
                self._pool.join()
            self._pool.kill()


def runner(async_mode: str, threads: int = 4) -> Runner:
    """Return the runner for this server's async mode."""
    return Runner(async_mode, threads)
