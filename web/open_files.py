"""Room for viewers: every live socket costs file descriptors, and the OS caps how many a process has.

Under gevent a WebSocket holds two descriptors: simple-websocket, which serves them, duplicates
the connection's socket. (gevent-websocket's handler would hold one, but with it the Dash pages'
own requests slowed until the browser tests timed out; see docs/benchmarks.md.) So the soft limit
many systems start a process with (1,024) would refuse the four-hundredth viewer, and a limit of
20,000 stops short of 10,000. At start the process raises its soft limit to its hard limit,
which any process may do, and says how many viewers that leaves room for. Beyond that only the
operator can help, with a higher hard limit (``LimitNOFILE`` in a systemd unit); see
docs/operations.md.
"""

from __future__ import annotations

import resource

PER_VIEWER = 2  # the connection's socket and simple-websocket's duplicate of it
RESERVED = 256  # the listener, Redis and PostgreSQL connections, history files, logs
HIGHEST = 1_048_576  # what to ask for when the hard limit is unlimited


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; return the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = HIGHEST if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):  # a container may refuse even what the hard limit allows
            pass
    return soft


def viewers_room(limit: int, per_viewer: int = PER_VIEWER) -> int:
    """Return how many live viewers (trackers and wall screens) ``limit`` open files leave room for.

    ``per_viewer``: 1 on the push gateway (asyncio holds the connection's socket only).
    """
    return max(0, (limit - RESERVED) // per_viewer)
