"""The shift calendar: when lines are scheduled to produce, with planned breaks and maintenance.

A SimPy process walks the calendar's boundaries in the site's local time (DST-aware; no shift
starts on a holiday or a day off) and opens or closes
every line's gate, emitting ShiftStarted/ShiftEnded and PlannedStopStarted/PlannedStopEnded so
KPIs can tell planned from unplanned time. Units hold their station while the gate is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import simpy

from factory.work_calendar import Boundary, Calendar, boundaries
from line_emulator.processes import Process


class LineGate:
    """Open while the line is scheduled to produce; work waits on ``opened`` while closed."""

    def __init__(self, env: simpy.Environment, is_open: bool = True) -> None:
        self.env = env
        self.is_open = is_open
        self.opened = env.event()

    def open(self) -> None:
        if not self.is_open:
            self.is_open = True
            self.opened.succeed()
            self.opened = self.env.event()

    def close(self) -> None:
        self.is_open = False


def run_calendar(
    env: simpy.Environment,
    calendar: Calendar,
    origin: datetime,
    gates: list[LineGate],
    announce: Callable[[Boundary], None],
    announce_in_force: bool = True,
) -> Process:
    """SimPy process: open and close ``gates`` at each boundary after ``origin``; announce each.

    What is in force at the origin (a shift under way, a break under way) is announced at once,
    so a consumer that starts with the stream knows the line's schedule from the first event;
    a plant that resumes a recorded run (``announce_in_force=False``) has announced it already.
    """
    in_shift: Boundary | None = None
    in_stop: Boundary | None = None
    stream = boundaries(calendar, origin)
    pending: Boundary | None = None
    for b in stream:
        if b.at > origin:
            pending = b
            break
        in_shift = b if b.kind == "shift_start" else (None if b.kind == "shift_end" else in_shift)
        in_stop = b if b.kind == "stop_start" else (None if b.kind == "stop_end" else in_stop)
    assert pending is not None  # boundaries() never ends: a calendar repeats every week
    if announce_in_force:
        # Consumers learn the schedule from the first event: a shift under way, or (between
        # shifts, on a weekend) that none is, so an empty stretch is not taken for open time.
        announce(in_shift or Boundary(origin, "shift_end", "", "", 0))
        if in_stop is not None:
            announce(in_stop)
    _set(gates, in_shift is not None and in_stop is None)
    shift_open, stop_open = in_shift is not None, in_stop is not None
    while True:
        delay = (pending.at - origin).total_seconds() - env.now
        if delay > 0:
            yield env.timeout(delay)
        announce(pending)
        if pending.kind in ("shift_start", "shift_end"):
            shift_open = pending.kind == "shift_start"
        else:
            stop_open = pending.kind == "stop_start"
        _set(gates, shift_open and not stop_open)
        pending = next(stream)


def _set(gates: list[LineGate], is_open: bool) -> None:
    for gate in gates:
        gate.open() if is_open else gate.close()
