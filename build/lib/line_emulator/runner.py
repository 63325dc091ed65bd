"""Drive a PlantModel: as fast as possible (backfills, tests) or paced against the wall clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from line_emulator.model import PlantModel


def run_fast(
    model: PlantModel,
    until_s: float,
    progress: Callable[[float], None] | None = None,
    step_s: float = 600.0,
    after_step: Callable[[], None] | None = None,
) -> None:
    """Run to ``until_s`` simulated seconds, reporting the finished fraction after every step."""
    while model.env.now < until_s:
        model.run_until(min(model.env.now + step_s, until_s))
        if after_step is not None:
            after_step()
        if progress is not None:
            progress(model.env.now / until_s)


def run_paced(
    model: PlantModel,
    speed: float,
    stop: threading.Event,
    tick_s: float = 0.05,
    sleep: Callable[[float], None] = time.sleep,
    after_tick: Callable[[], None] | None = None,
    until_s: float | None = None,
) -> None:
    """Advance ``speed`` simulated seconds per wall second until ``stop`` is set.

    The target is recomputed from the monotonic clock each tick, so a slow tick is caught up
    rather than accumulating drift.
    """
    wall0, sim0 = time.monotonic(), model.env.now
    while not stop.is_set():
        target = sim0 + (time.monotonic() - wall0) * speed
        finished = until_s is not None and target >= until_s
        model.run_until(until_s if finished and until_s is not None else target)
        if after_tick is not None:
            after_tick()
        if finished:
            return
        sleep(tick_s)
