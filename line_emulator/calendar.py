"""The shift calendar: when lines are scheduled to produce, with planned breaks and maintenance.

A SimPy process walks the calendar's boundaries in the plant's local time and opens or closes
every line's gate, emitting ShiftStarted/ShiftEnded and PlannedStopStarted/PlannedStopEnded so
KPIs can tell planned from unplanned time. Units hold their station while the gate is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import simpy

from line_emulator.params import Calendar
from streams.codec import format_time


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


@dataclass(frozen=True)
class Boundary:
    at: datetime  # UTC
    kind: str  # shift_start, shift_end, stop_start, stop_end
    name: str  # shift name, or stop kind
    detail: str  # stop reason, or shift planned end (RFC 3339)
    minutes: int


def boundaries(calendar: Calendar, start: datetime) -> Iterator[Boundary]:
    """Yield the calendar's boundaries in time order, forever, from the local day before ``start``.

    Starting a day early catches a night shift that began before midnight. Days are generated
    one at a time, which keeps order as long as no shift outlasts the next day's first start.
    """
    tz = timezone(timedelta(hours=calendar.utc_offset_h))
    day = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    while True:
        todays = []
        for shift in calendar.shifts:
            begin = day + timedelta(minutes=shift.start_min)
            end = begin + timedelta(minutes=shift.minutes)
            todays.append(Boundary(begin, "shift_start", shift.name, format_time(end), shift.minutes))
            todays.append(Boundary(end, "shift_end", shift.name, "", 0))
            for stop in calendar.stops:
                if stop.shift in (None, shift.name):
                    at = begin + timedelta(minutes=stop.after_min)
                    todays.append(Boundary(at, "stop_start", stop.kind, stop.reason, stop.minutes))
                    todays.append(Boundary(at + timedelta(minutes=stop.minutes), "stop_end", stop.kind, "", 0))
        # At one instant: a shift ends before the next starts, a stop ends before another starts.
        rank = {"stop_end": 0, "shift_end": 1, "shift_start": 2, "stop_start": 3}
        for b in sorted(todays, key=lambda b: (b.at, rank[b.kind])):
            yield Boundary(b.at.astimezone(UTC), b.kind, b.name, b.detail, b.minutes)
        day += timedelta(days=1)


def run_calendar(
    env: simpy.Environment,
    calendar: Calendar,
    origin: datetime,
    gates: list[LineGate],
    announce: Callable[[Boundary], None],
) -> Iterator[simpy.Event]:
    """SimPy process: open and close ``gates`` at each boundary after ``origin``; announce each.

    What is in force at the origin (a shift under way, a break under way) is announced at once,
    so a consumer that starts with the stream knows the line's schedule from the first event.
    """
    in_shift: Boundary | None = None
    in_stop: Boundary | None = None
    stream = boundaries(calendar, origin)
    pending = None
    for b in stream:
        if b.at > origin:
            pending = b
            break
        in_shift = b if b.kind == "shift_start" else (None if b.kind == "shift_end" else in_shift)
        in_stop = b if b.kind == "stop_start" else (None if b.kind == "stop_end" else in_stop)
    for b in (in_shift, in_stop):
        if b is not None:
            announce(b)
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
