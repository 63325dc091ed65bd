"""A site's working calendar: when its lines are scheduled to produce, and arithmetic in open time.

The calendar (shifts in local time, planned breaks and maintenance, working weekdays, holidays)
is read from the factory file. The emulator walks its boundaries to open and close the lines
(line_emulator.calendar); the ETA measures and adds durations in *open* seconds, so a unit that
waits over a weekend or a meal break is not taken for a slow one, and a range stated on Friday
evening ends on Monday (factory.eta).

Boundaries are generated in the site's local time and converted to UTC per day, so DST changes
and offsets that are not whole hours (+05:30, +05:45) fall where the local clock says.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from factory.layout_schema import CalendarDoc
from streams.codec import format_time


@dataclass(frozen=True)
class Shift:
    name: str
    start_min: int  # minutes after local midnight
    minutes: int


@dataclass(frozen=True)
class PlannedStop:
    kind: str  # "break" or "maintenance"
    shift: str | None  # None: in every shift
    after_min: int  # minutes after the shift's start
    minutes: int
    reason: str


@dataclass(frozen=True)
class Calendar:
    tz: tzinfo  # the site's local time
    shifts: tuple[Shift, ...]
    stops: tuple[PlannedStop, ...]
    holidays: frozenset[date] = frozenset()  # local dates on which no shift starts
    weekdays: frozenset[int] = frozenset(range(1, 8))  # ISO weekdays on which shifts start

    def works_on(self, day: date) -> bool:
        """Tell whether shifts start on local ``day``."""
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def open_fraction(self) -> float:
        """Return the share of a week the lines are scheduled to produce (holidays aside)."""
        stop_min = sum(s.minutes * (1 if s.shift else len(self.shifts)) for s in self.stops)
        return (sum(s.minutes for s in self.shifts) - stop_min) / 1440 * len(self.weekdays) / 7


def calendar_from_doc(raw: CalendarDoc | None, tz: tzinfo) -> Calendar | None:
    """Return the calendar a factory file's entry describes (None: the site never closes)."""
    if raw is None:
        return None
    shifts = tuple(Shift(s.name, _hhmm(s.start), round(s.hours * 60)) for s in raw.shifts)
    stops = tuple(
        PlannedStop(kind=kind, shift=s.shift, after_min=s.after_min, minutes=s.minutes, reason=s.reason["en"])
        for kind, items in (("break", raw.breaks), ("maintenance", raw.maintenance))
        for s in items
    )
    return Calendar(
        tz=tz, shifts=shifts, stops=stops, holidays=frozenset(raw.holidays), weekdays=frozenset(raw.weekdays)
    )


def _hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


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


def open_intervals(calendar: Calendar, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield the stretches of [start, end) in which the lines are scheduled to produce, in order."""
    shift_open = stop_open = False
    opened: datetime | None = None
    for b in boundaries(calendar, start):
        if b.at >= end:
            break
        was_open = shift_open and not stop_open
        if b.kind in ("shift_start", "shift_end"):
            shift_open = b.kind == "shift_start"
        else:
            stop_open = b.kind == "stop_start"
        is_open = shift_open and not stop_open
        if is_open and not was_open:
            opened = b.at
        elif was_open and not is_open and opened is not None:
            if b.at > start:
                yield max(opened, start), b.at
            opened = None
    if opened is not None and shift_open and not stop_open and end > start:
        yield max(opened, start), end


def shift_at(calendar: Calendar | None, t: datetime) -> dict[str, str] | None:
    """Return the shift under way at ``t`` as {id, hours: "06:00-14:00" local} (None: none, or no calendar)."""
    if calendar is None:
        return None
    current: str | None = None
    for b in boundaries(calendar, t):
        if b.at > t:
            break
        if b.kind == "shift_start":
            current = b.name
        elif b.kind == "shift_end" and b.name == current:
            current = None
    shift = next((s for s in calendar.shifts if s.name == current), None)
    if shift is None:
        return None
    start, end = shift.start_min, (shift.start_min + shift.minutes) % 1440
    return {"id": shift.name, "hours": f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"}


class OpenClock:
    """Open seconds between instants, and the instant after so many open seconds, for one calendar.

    A table of open stretches with the open time before each is built lazily, a few weeks at a
    time, so each question is two binary searches (the tracker asks for every frame it sends).
    ``calendar=None`` is a site that never closes: open time is wall time.
    """

    CHUNK = timedelta(days=28)

    def __init__(self, calendar: Calendar | None) -> None:
        self.calendar = calendar
        self._starts: list[float] = []  # epoch seconds at which each open stretch begins
        self._ends: list[float] = []
        self._before: list[float] = []  # open seconds from the table's origin to each start
        self._from: float | None = None  # the table covers [_from, _to)
        self._to: float | None = None

    def _cover(self, t: float) -> None:
        assert self.calendar is not None
        if self._from is None or self._to is None or t < self._from:
            origin = t - self.CHUNK.total_seconds()
            self._starts, self._ends, self._before = [], [], []
            self._from = self._to = origin
        while t >= self._to:
            self._extend()

    def _extend(self) -> None:
        assert self.calendar is not None and self._to is not None
        a = datetime.fromtimestamp(self._to, UTC)
        b = a + self.CHUNK
        total = self._before[-1] + (self._ends[-1] - self._starts[-1]) if self._starts else 0.0
        for lo, hi in open_intervals(self.calendar, a, b):
            s, e = lo.timestamp(), hi.timestamp()
            if self._ends and s <= self._ends[-1]:  # a stretch cut at the previous chunk's end goes on
                total -= self._ends[-1] - self._starts[-1]
                self._ends[-1] = e
                total += self._ends[-1] - self._starts[-1]
                continue
            self._starts.append(s)
            self._ends.append(e)
            self._before.append(total)
            total += e - s
        self._to = b.timestamp()

    def _cumulative(self, t: float) -> float:
        """Open seconds from the table's origin to ``t``."""
        self._cover(t)
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(t, self._ends[i]) - self._starts[i]

    def open_seconds(self, a: datetime, b: datetime) -> float:
        """Return the open seconds in [a, b] (negative when b is before a)."""
        if self.calendar is None:
            return (b - a).total_seconds()
        lo, hi = min(a, b).timestamp(), max(a, b).timestamp()
        self._cover(lo)
        self._cover(hi)
        seconds = self._cumulative(hi) - self._cumulative(lo)
        return seconds if b >= a else -seconds

    def after(self, t: datetime, seconds: float) -> datetime:
        """Return the first instant at which ``seconds`` of open time have passed since ``t``."""
        if self.calendar is None or seconds <= 0:
            return t + timedelta(seconds=max(seconds, 0.0))
        start = t.timestamp()
        target = self._cumulative(start) + seconds
        while True:
            assert self._to is not None
            total = self._before[-1] + (self._ends[-1] - self._starts[-1]) if self._starts else 0.0
            if self._starts and total >= target:
                break
            self._extend()
        i = bisect.bisect_left(self._before, target) - 1
        i = max(i, 0)
        while i + 1 < len(self._starts) and self._before[i + 1] <= target:
            i += 1
        instant = self._starts[i] + (target - self._before[i])
        return datetime.fromtimestamp(max(instant, start), UTC)
