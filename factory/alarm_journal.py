"""The alarm journal: every andon alarm of a line over a time range, with its ISA-18.2 lifecycle.

An alarm is raised, acknowledged by someone and cleared when its condition ends. ISA-18.2 names
the states this gives: *unacknowledged* (active, nobody took note), *acknowledged* (active, taken
note of), *cleared unacknowledged* (returned to normal before anyone took note) and *normal*.

The journal is derived from the line's events, not written beside them: an ``AlarmWatch`` is
shown the line's state after each event and asks every station its state with the same function
the floor screen uses (factory.derive.station_status). So a journal entry has the id the floor
showed (factory.alarms.alarm_id), the acknowledgements stored for that id find it, and history
replayed twice gives the same journal. Acknowledgements and shelving are people's actions, folded
by ``people_on`` from the control events; everything here is pure.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from factory.alarms import ALARM_STATES, alarm_id, is_alarm, raised_at
from factory.derive import Members, station_status
from factory.local_time import hour_buckets, hour_start
from factory.state import LineState
from streams import events as ev
from streams.codec import format_time, parse_time

LIFECYCLE = ("unacknowledged", "acknowledged", "cleared unacknowledged", "normal")


@dataclass(frozen=True)
class Entry:
    """One alarm: a station in an alarm state from ``since``; ``cleared`` None while it lasts."""

    id: str
    line: str
    station: str
    kind: str
    reason: str | None
    since: datetime
    raised: datetime
    cleared: datetime | None


def _members(line: LineState, station_id: str) -> Members:
    # station_status asks only whether any unit at the station still works and when the last
    # finished one got blocked: the order of the units does not matter, so none is sorted here.
    return Members(at=[(since, code, blocked) for code, (since, blocked) in line.at[station_id].items()])  # type: ignore[misc]


class AlarmWatch:
    """Follows one line's station states event by event and keeps the alarms they raised."""

    def __init__(self, line_id: str, station_ids: Iterable[str]) -> None:
        self.line_id = line_id
        self.station_ids = tuple(station_ids)
        self._state: dict[str, tuple[str, datetime, str | None]] = {}  # station -> (kind, since, reason)
        self.entries: list[Entry] = []

    def observe(self, line: LineState, at: datetime) -> None:
        """Look at every station after an event of ``at``: a state that changed ends the alarm it was."""
        for sid in self.station_ids:
            status, since, reason = station_status(line, line.stations[sid], _members(line, sid))
            known = self._state.get(sid)
            if known is not None and known[0] == status and known[1] == since:
                continue
            if known is not None:
                self._end(sid, known, at)
            if status in ALARM_STATES and since is not None:
                self._state[sid] = (status, since, reason)
            else:
                self._state.pop(sid, None)

    def _end(self, station_id: str, known: tuple[str, datetime, str | None], at: datetime) -> None:
        del self._state[station_id]
        kind, since, reason = known
        if is_alarm(kind, (at - since).total_seconds()):
            self.entries.append(self._entry(station_id, kind, since, reason, at))

    def _entry(
        self, station_id: str, kind: str, since: datetime, reason: str | None, cleared: datetime | None
    ) -> Entry:
        return Entry(
            id=alarm_id(self.line_id, station_id, kind, format_time(since)),
            line=self.line_id,
            station=station_id,
            kind=kind,
            reason=reason if kind == "down" else None,
            since=since,
            raised=raised_at(kind, since),
            cleared=cleared,
        )

    def finish(self, end: datetime) -> list[Entry]:
        """Return every alarm seen, those still active at ``end`` with no clearing time, by raising time."""
        active = [
            self._entry(sid, kind, since, reason, None)
            for sid, (kind, since, reason) in self._state.items()
            if is_alarm(kind, (end - since).total_seconds())
        ]
        return sorted(self.entries + active, key=lambda e: (e.raised, e.station, e.kind))


@dataclass(frozen=True)
class Shelving:
    """An alarm point (station and kind) shelved over [start, end) by someone, for a reason."""

    station: str
    kind: str
    start: datetime
    end: datetime
    reason: str
    by: str


@dataclass
class People:
    """What people did about one line's alarms: the first acknowledgement of each, and shelving."""

    acks: dict[str, tuple[datetime, str]]  # alarm id -> (when, by)
    shelvings: list[Shelving]


def people_on(control: Iterable[ev.Event]) -> People:
    """Fold a line's acknowledgements, shelving and unshelving, in the order they were recorded."""
    acks: dict[str, tuple[datetime, str]] = {}
    open_shelves: dict[tuple[str, str], tuple[datetime, datetime, str, str]] = {}
    shelvings: list[Shelving] = []

    def close(point: tuple[str, str], at: datetime) -> None:
        start, until, reason, by = open_shelves.pop(point)
        if min(at, until) > start:
            shelvings.append(Shelving(point[0], point[1], start, min(at, until), reason, by))

    for event in sorted(control, key=lambda e: e.time):
        if isinstance(event, ev.AlarmAcknowledged):
            known = acks.get(event.alarm_id)
            if known is None or (event.time, event.by) < known:  # the first acknowledgement counts
                acks[event.alarm_id] = (event.time, event.by)
        elif isinstance(event, ev.AlarmShelved):
            try:
                until = parse_time(event.until)
            except ValueError:
                continue
            point = (event.station_id, event.alarm_kind)
            if point in open_shelves:
                close(point, event.time)  # shelving again replaces the earlier one from now on
            open_shelves[point] = (event.time, until, event.reason, event.by)
        elif isinstance(event, ev.AlarmUnshelved):
            point = (event.station_id, event.alarm_kind)
            if point in open_shelves:
                close(point, event.time)
    for point in list(open_shelves):
        close(point, open_shelves[point][1])
    return People(acks, shelvings)


def shelved_at(people: People, station: str, kind: str, at: datetime) -> Shelving | None:
    """Return the shelving of an alarm point in force at ``at``, or None."""
    for s in people.shelvings:
        if s.station == station and s.kind == kind and s.start <= at < s.end:
            return s
    return None


def lifecycle(entry: Entry, acked: bool) -> str:
    """Return the ISA-18.2 state of an alarm: whether it still lasts, and whether someone took note."""
    if entry.cleared is None:
        return "acknowledged" if acked else "unacknowledged"
    return "normal" if acked else "cleared unacknowledged"


def journal_rows(
    entries: list[Entry],
    people: People,
    priority: Callable[[str, str], str],
    end: datetime,
) -> list[dict[str, Any]]:
    """Return the journal's rows, newest first: the entries with priority, acknowledgement, shelving, state."""
    rows = []
    for e in entries:
        ack = people.acks.get(e.id)
        shelf = shelved_at(people, e.station, e.kind, e.raised)
        lasted = ((e.cleared or end) - e.raised).total_seconds()
        rows.append(
            {
                "id": e.id,
                "line": e.line,
                "station": e.station,
                "kind": e.kind,
                "priority": priority(e.station, e.kind),
                "reason": e.reason,
                "since": format_time(e.since),
                "raised": format_time(e.raised),
                "cleared": format_time(e.cleared) if e.cleared is not None else None,
                "lasted_s": round(max(lasted, 0.0), 3),
                "acknowledged": format_time(ack[0]) if ack else None,
                "acknowledged_by": ack[1] if ack else None,
                "shelved_by": shelf.by if shelf else None,
                "shelved_reason": shelf.reason if shelf else None,
                "state": lifecycle(e, ack is not None),
            }
        )
    rows.reverse()
    return rows


def per_hour(raised: list[datetime], start: datetime, end: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """Return the number of alarms raised in each site-local hour of [start, end) (partial edges included)."""
    ordered = sorted(raised)
    out = []
    for a, b in hour_buckets(start, end, tz):
        n = bisect.bisect_left(ordered, b) - bisect.bisect_left(ordered, a)
        out.append({"hour": format_time(hour_start(a, tz)), "alarms": n})
    return out


def floods(raised: list[datetime], more_than: int, window: timedelta) -> list[dict[str, Any]]:
    """Return the alarm floods: periods in which more than ``more_than`` alarms were raised within ``window``.

    A flood starts at the raising of an alarm that, with those raised in the ``window`` after it
    (that alarm's own instant included, the window's end excluded), makes more than ``more_than``;
    overlapping windows are one flood, from its first alarm to the end of its last window. ISA-18.2's
    default is more than 10 alarms in 10 minutes for one operator (here: one line).
    """
    ordered = sorted(raised)
    out: list[dict[str, Any]] = []
    for i, t in enumerate(ordered):
        j = bisect.bisect_left(ordered, t + window)
        if j - i <= more_than:
            continue
        if out and t < out[-1]["_end"]:
            out[-1]["_end"] = t + window
            out[-1]["_last"] = j
        else:
            out.append({"_start": t, "_end": t + window, "_first": i, "_last": j})
    return [
        {"start": format_time(f["_start"]), "end": format_time(f["_end"]), "alarms": f["_last"] - f["_first"]}
        for f in out
    ]
