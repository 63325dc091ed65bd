"""Run blocking work (database queries, PDF rendering) where it does not stall the server.

Under gevent every request and socket is a greenlet on one OS thread: a DuckDB query or a PDF
of a second would stop all of them. :func:`runner` returns a function that runs a callable on a
pool of real OS threads and waits for it cooperatively; in threading mode (development server,
in-process tests) it simply calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def runner(async_mode: str, threads: int = 4) -> Callable[[Callable[[], Any]], Any]:
    """Return ``run(fn) -> fn()`` executing ``fn`` off the event loop when the server runs on gevent."""
    if async_mode != "gevent":
        return lambda fn: fn()
    from gevent.threadpool import ThreadPool

    pool = ThreadPool(threads)

    def run(fn: Callable[[], T]) -> T:
        return pool.apply(fn)

    return run
