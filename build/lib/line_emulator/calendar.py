"""The shift calendar: when lines are scheduled to produce, with planned breaks and maintenance.

A SimPy process walks the calendar's boundaries in the site's local time (DST-aware; no shift
starts on a holiday or a day off) and opens or closes
every line's gate, emitting ShiftStarted/ShiftEnded and PlannedStopStarted/PlannedStopEnded so
KPIs can tell planned from unplanned time. Units hold their station while the gate is closed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import simpy

from line_emulator.params import Calendar
from line_emulator.processes import Process
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


_RANK = {"stop_end": 0, "shift_end": 1, "shift_start": 2, "stop_start": 3}  # at one instant: ends first


def _day_boundaries(calendar: Calendar, day: date) -> list[Boundary]:
    """Return the boundaries of the shifts that start on local ``day`` (none on a holiday)."""
    if not calendar.works_on(day):
        return []
    out = []
    for shift in calendar.shifts:
        local_begin = datetime.combine(day, time()) + timedelta(minutes=shift.start_min)
        begin = _local(local_begin, calendar.tz)
        # A shift ends at its local clock time, so a night shift over a DST change lasts 7 or 9 h.
        end = _local(local_begin + timedelta(minutes=shift.minutes), calendar.tz)
        out.append(Boundary(begin, "shift_start", shift.name, format_time(end), shift.minutes))
        out.append(Boundary(end, "shift_end", shift.name, "", 0))
        for stop in calendar.stops:
            if stop.shift in (None, shift.name):
                at = begin + timedelta(minutes=stop.after_min)
                out.append(Boundary(at, "stop_start", stop.kind, stop.reason, stop.minutes))
                out.append(Boundary(at + timedelta(minutes=stop.minutes), "stop_end", stop.kind, "", 0))
    return out


def _local(naive: datetime, tz: tzinfo) -> datetime:
    """Return the UTC instant of a local wall-clock time (a skipped time moves forward, like a clock)."""
    return naive.replace(tzinfo=tz).astimezone(UTC)


def boundaries(calendar: Calendar, start: datetime) -> Iterator[Boundary]:
    """Yield the calendar's boundaries in time order, forever, from the local day before ``start``.

    Starting a day early catches a night shift that began before midnight. A day's boundaries
    are released once the next day's have been generated up to its own midnight, so shifts that
    run past midnight stay in order.
    """
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    pending: list[tuple[datetime, int, int, Boundary]] = []
    counter = 0
    while True:
        for b in _day_boundaries(calendar, day):
            counter += 1
            heapq.heappush(pending, (b.at, _RANK[b.kind], counter, b))
        next_midnight = _local(datetime.combine(day + timedelta(days=1), time()), calendar.tz)
        while pending and pending[0][0] < next_midnight:
            yield heapq.heappop(pending)[3]
        day += timedelta(days=1)


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
