"""Where things are, derived from the facts in factory.state: unit positions, station members and states.

Pure functions of the state, so any order of events that gives the same facts gives the same
answers. A unit is where its latest movement fact puts it; facts at one instant are ranked by
flow (a later station wins, and at one station entry < work done < exit < sent to rework).
The projector calls :func:`reposition` whenever a unit's facts change, so a view never has to
derive every unit of a line again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from factory.state import FactoryState, LineState, Position, Rework, StationState, UnitState, Visit

_EPOCH = datetime.min.replace(tzinfo=UTC)  # sorts first among aware times
_ABSENT = object()  # not a member (a member's time may be None)


Latest = tuple[datetime, int, int]  # (time, station index in flow order, rank of the fact at that instant)


def position(unit: UnitState, station_ids: tuple[str, ...]) -> Position:
    """Return where ``unit`` is now, given its line's stations in flow order."""
    latest, what = latest_fact(unit, station_ids)
    return _position(unit, station_ids, latest, what)


def latest_fact(unit: UnitState, station_ids: tuple[str, ...]) -> tuple[Latest | None, Visit | Rework | None]:
    """Return the unit's latest movement fact (its ranking key and its visit or rework), from all its facts."""
    index = {sid: i for i, sid in enumerate(station_ids)}
    latest: Latest | None = None
    what: Visit | Rework | None = None
    for visit in unit.visits.values():
        i = index[visit.station_id]
        for rank, time in enumerate((visit.entered, visit.work_done, visit.exited)):
            if time is not None and (latest is None or (time, i, rank) > latest):
                latest, what = (time, i, rank), visit
    for rework in unit.reworks.values():
        candidate = (rework.time, index.get(rework.station_id, 0), REWORK_RANK)
        if latest is None or candidate > latest:
            latest, what = candidate, rework
    return latest, what


REWORK_RANK = 3  # sent to rework comes after entry (0), work done (1) and exit (2) at one station and instant


def _position(
    unit: UnitState, station_ids: tuple[str, ...], latest: Latest | None, what: Visit | Rework | None
) -> Position:
    if unit.scrapped_at is not None:
        return Position("scrapped", None, unit.scrapped_at)
    if unit.completed_at is not None:
        return Position("completed", None, unit.completed_at)
    if latest is None or what is None:
        return Position("queued", station_ids[0], unit.placed_at)
    time, i, rank = latest
    if isinstance(what, Rework):
        return Position("rework", what.reenter_at, time)
    if rank == 2:
        following = station_ids[i + 1] if i + 1 < len(station_ids) else None
        return Position("queued", following, time)
    visit = what
    blocked = visit.work_done if visit.work_done is not None and visit.exited is None else None
    return Position("at", visit.station_id, visit.entered or time, blocked)


def reposition(line: LineState, unit: UnitState, added: tuple[Latest, Visit | Rework] | None = None) -> None:
    """Recompute ``unit``'s position and move it in its line's station membership.

    ``added`` is the movement fact just added to the unit (its key and its visit or rework),
    when the projector knows that no fact was changed or removed: then the latest fact is the
    known one or this one, and the unit's other facts need not be read again. A unit that went
    round a line many times has dozens of visits, and this ran for every event twice per
    process (the pump and the history writer), 14 % of the server's time at 2,000 events/s
    (bench/tracker_viewers.py). Without ``added`` (or when the cache is unknown, or a tie
    would need the facts' order) every fact is read.
    """
    if added is not None and unit.latest_known:
        key, what = added
        if unit.latest is None or key > unit.latest:
            unit.latest, unit.latest_what = key, what
        elif key == unit.latest and what is not unit.latest_what:
            added = None  # a tie between two facts: the first in the unit's own order wins
    if added is None or not unit.latest_known:
        unit.latest, unit.latest_what = latest_fact(unit, line.station_ids)
        unit.latest_known = True
    old, new = unit.position, _position(unit, line.station_ids, unit.latest, unit.latest_what)
    if old == new:
        return
    if old is not None and old.station_id is not None:
        line.at.get(old.station_id, {}).pop(unit.unit_code, None)
        if line.queued.get(old.station_id, {}).pop(unit.unit_code, _ABSENT) is not _ABSENT:
            queue_changed(line, old.station_id)
    unit.position = new
    if unit.finished or new.station_id is None:
        return
    if new.kind == "at":
        line.at[new.station_id][unit.unit_code] = (new.since, new.blocked_since)
    elif new.kind == "queued":
        line.queued[new.station_id][unit.unit_code] = new.since
        queue_changed(line, new.station_id)


def queue_changed(line: LineState, station_id: str) -> None:
    """Note that the queue in front of ``station_id`` changed (its ranking must be made again)."""
    line.queue_versions[station_id] = line.queue_versions.get(station_id, 0) + 1


def forget_member(line: LineState, unit_code: str) -> None:
    """Take a unit that leaves the live state out of every station's members and queue."""
    for at in line.at.values():
        at.pop(unit_code, None)
    for station_id, queued in line.queued.items():
        if queued.pop(unit_code, _ABSENT) is not _ABSENT:
            queue_changed(line, station_id)


def queue_order(code: str, since: datetime | None) -> tuple[datetime, str]:
    """Return a queue member's sort key: first come first (no time yet: first of all), then by code."""
    return (since or _EPOCH, code)


def queue_place(line: LineState, station_id: str, unit_code: str) -> int | None:
    """Return how many units wait in front of ``station_id`` before ``unit_code`` (None: it does not wait there).

    The order is :func:`queue_order`'s, as line_members'. The queue is ranked once per change of it
    (:func:`queue_changed`), not once per tracker: a backlog of 10,000 watched orders asks 10,000 times.
    """
    version = line.queue_versions.get(station_id, 0)
    known = line.queue_ranks.get(station_id)
    if known is None or known[0] != version:
        ranked = sorted(queue_order(code, since) for code, since in line.queued.get(station_id, {}).items())
        known = line.queue_ranks[station_id] = (version, {code: i for i, (_, code) in enumerate(ranked)})
    return known[1].get(unit_code)


def queued_behind(line: LineState, unit_code: str, before: Position | None, after: Position | None) -> set[str]:
    """Return the units whose count of units ahead changed when ``unit_code`` moved from ``before`` to ``after``.

    A unit that leaves a queue moves everyone behind it up by one; one that joins a queue puts
    itself ahead of everyone behind its place. Their trackers change although their own units
    did not move (:func:`queue_order` is the order every count and list of a queue uses).
    """
    if before == after:
        return set()
    changed: set[str] = set()
    for moved in (before, after):
        if moved is None or moved.kind != "queued" or moved.station_id is None:
            continue
        place = queue_order(unit_code, moved.since)
        queue = line.queued.get(moved.station_id, {})
        changed.update(code for code, since in queue.items() if queue_order(code, since) > place)
    return changed


@dataclass
class Members:
    at: list[tuple[datetime, str, datetime | None]] = field(default_factory=list)  # (since, unit, blocked since)
    queue: list[tuple[datetime, str]] = field(default_factory=list)  # (since, unit), first in line first


def line_members(state: FactoryState, line_id: str) -> dict[str, Members]:
    """Return, per station in flow order, the units at it and queued in front of it."""
    line = state.lines[line_id]
    members = {}
    for sid in line.station_ids:
        at = sorted(
            ((since or _EPOCH, code, blocked) for code, (since, blocked) in line.at[sid].items()),
            key=lambda a: (a[0], a[1]),
        )
        queue = sorted(queue_order(code, since) for code, since in line.queued[sid].items())
        members[sid] = Members(at, queue)
    return members


MembersCache = dict  # line id -> line_members(...) result, shared by the views built in one go


def members_of(state: FactoryState, line_id: str, cache: MembersCache | None = None) -> dict[str, Members]:
    """Return line_members, computed once per ``cache`` (several views built from one state)."""
    if cache is None:
        return line_members(state, line_id)
    if line_id not in cache:
        cache[line_id] = line_members(state, line_id)
    return cache[line_id]


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
    return min(m.last_down for m in down if m.last_down), max(down, key=lambda m: m.last_down or _EPOCH).reason


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
        return "blocked", max(blocked for _, _, blocked in members.at if blocked is not None), None
    return "starved", station.last_fact, None
