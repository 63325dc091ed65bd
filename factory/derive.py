"""Where things are, derived from the facts in factory.state: unit positions, station members and states.

Pure functions of the state, so any order of events that gives the same facts gives the same
answers. A unit is where its latest movement fact puts it; facts at one instant are ranked by
flow (a later station wins, and at one station entry < work done < exit < sent to rework).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from factory.layout import Line
from factory.state import FactoryState, LineState, StationState, UnitState

_EPOCH = datetime.min.replace(tzinfo=UTC)  # sorts first among aware times


@dataclass(frozen=True)
class Position:
    kind: str  # at (on a station), queued (in front of one), rework (repair bay), completed, scrapped
    station_id: str | None  # the station it is at, waits for, or will re-enter at
    since: datetime | None
    blocked_since: datetime | None = None  # at a station with its work done, waiting for room


def position(unit: UnitState, line: Line) -> Position:
    """Return where ``unit`` is now."""
    if unit.scrapped_at is not None:
        return Position("scrapped", None, unit.scrapped_at)
    if unit.completed_at is not None:
        return Position("completed", None, unit.completed_at)
    index = {s.id: i for i, s in enumerate(line.stations)}
    latest, what = None, None
    for visit in unit.visits.values():
        i = index[visit.station_id]
        for rank, time in enumerate((visit.entered, visit.work_done, visit.exited)):
            if time is not None and (latest is None or (time, i, rank) > latest):
                latest, what = (time, i, rank), visit
    for key, rework in unit.reworks.items():
        candidate = (rework.time, index.get(rework.station_id, 0), 3)
        if latest is None or candidate > latest:
            latest, what = candidate, rework
    if latest is None:
        return Position("queued", line.stations[0].id, unit.placed_at)
    time, i, rank = latest
    if rank == 3:
        return Position("rework", what.reenter_at, time)
    if rank == 2:
        following = line.stations[i + 1].id if i + 1 < len(line.stations) else None
        return Position("queued", following, time)
    blocked = what.work_done if what.work_done is not None and what.exited is None else None
    return Position("at", what.station_id, what.entered or time, blocked)


@dataclass
class Members:
    at: list[tuple[datetime, str, datetime | None]] = field(default_factory=list)  # (since, unit, blocked since)
    queue: list[tuple[datetime, str]] = field(default_factory=list)  # (since, unit), first in line first


def line_members(state: FactoryState, line: Line) -> dict[str, Members]:
    """Return, per station in flow order, the units at it and queued in front of it."""
    members = {s.id: Members() for s in line.stations}
    for code in state.lines[line.id].active:
        p = position(state.units[code], line)
        if p.kind == "at":
            members[p.station_id].at.append((p.since or _EPOCH, code, p.blocked_since))
        elif p.kind == "queued" and p.station_id is not None:
            members[p.station_id].queue.append((p.since or _EPOCH, code))
    for m in members.values():
        m.at.sort(key=lambda a: (a[0], a[1]))
        m.queue.sort()
    return members


MembersCache = dict  # line id -> line_members(...) result, shared by the views built in one go


def members_of(state: FactoryState, line: Line, cache: MembersCache | None = None) -> dict[str, Members]:
    """Return line_members, computed once per ``cache`` (several views built from one state)."""
    if cache is None:
        return line_members(state, line)
    if line.id not in cache:
        cache[line.id] = line_members(state, line)
    return cache[line.id]


def in_shift(line: LineState) -> bool:
    """Tell whether the line is scheduled now (a stream without calendar events always is)."""
    if line.shift_started is None:
        return line.shift_ended is None
    return line.shift_ended is None or line.shift_started >= line.shift_ended  # end and next start may coincide


def planned_stop(line: LineState) -> str | None:
    """Return the reason of the planned stop under way, or None."""
    if line.stop_started is not None and (line.stop_ended is None or line.stop_started >= line.stop_ended):
        return line.stop_reason
    return None


def breakdown(station: StationState) -> tuple[datetime, str | None] | None:
    """Return (down since, reason) if a machine of the station is down, else None."""
    down = [
        m
        for m in station.machines.values()
        if m.last_down is not None and (m.last_up is None or m.last_down > m.last_up)
    ]
    if not down:
        return None
    return min(m.last_down for m in down), max(down, key=lambda m: m.last_down).reason


def station_status(line: LineState, station: StationState, members: Members) -> tuple[str, datetime | None, str | None]:
    """Return (state, since, reason) of a station, most urgent state first.

    down (a machine broken, since the earliest open breakdown) > idle (planned stop or no shift;
    units on stations wait for the line to reopen) > changeover > running (a unit in work) >
    blocked (only finished units that cannot move on) > starved (open, nothing to work on).
    """
    down = breakdown(station)
    if down is not None:
        return "down", down[0], down[1]
    stop = planned_stop(line)
    if stop is not None:
        return "idle", line.stop_started, stop
    if not in_shift(line):
        return "idle", line.shift_ended, None
    if station.changeover_started is not None and (
        station.changeover_finished is None or station.changeover_started > station.changeover_finished
    ):
        return "changeover", station.changeover_started, None
    if any(blocked is None for _, _, blocked in members.at):
        return "running", station.last_fact, None
    if members.at:
        return "blocked", max(blocked for _, _, blocked in members.at), None
    return "starved", station.last_fact, None
