"""Supervised background work: each task restarts after a failure, with backoff, and says how it is.

A background loop that dies silently is how a wall screen keeps showing a plant that stopped
an hour ago. Every long-running task of the app (pump, history writer, emulator, ingest, MQTT
bridge) runs under a :class:`Supervisor`: an exception is logged with its traceback, counted,
shown by ``/ready``, and the task starts again after 1 s, 2 s, 4 s … 30 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class TaskStatus:
    name: str
    state: str = "starting"  # starting, running, restarting, stopped, failed
    restarts: int = 0
    last_error: str | None = None
    started_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error}


class Supervisor:
    """Starts named tasks with ``spawn`` and restarts them when they raise."""

    def __init__(
        self,
        spawn: Callable[..., Any],
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> None:
        self._spawn = spawn
        self._sleep = sleep
        self.stop = stop or threading.Event()
        self.tasks: dict[str, TaskStatus] = {}

    def start(self, name: str, target: Callable[[], None], restart: bool = True) -> TaskStatus:
        """Run ``target()`` as task ``name``; when it raises (or returns early), start it again."""
        status = self.tasks[name] = TaskStatus(name)

        def supervised() -> None:
            backoff = 1.0
            while not self.stop.is_set():
                status.state = "running"
                try:
                    target()
                    if self.stop.is_set() or not restart:
                        break
                    raise RuntimeError("returned while the app was still running")
                except Exception as exc:
                    status.restarts += 1
                    status.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    log.exception("background task %s failed (restart %d in %.0f s)", name, status.restarts, backoff)
                    if not restart:
                        status.state = "failed"
                        return
                    status.state = "restarting"
                    self._sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
            status.state = "stopped"

        self._spawn(supervised)
        return status

    def healthy(self) -> bool:
        """Tell whether every task is running."""
        return all(t.state in ("running", "stopped") for t in self.tasks.values())

    def report(self) -> dict[str, dict[str, Any]]:
        """Return each task's state, restarts and last error."""
        return {name: t.as_dict() for name, t in self.tasks.items()}
