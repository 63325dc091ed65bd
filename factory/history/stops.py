"""A line's stops (machine breakdowns) as recorded in the history's timeline, for people to classify.

A stop is one ``MachineDown`` and the first ``MachineUp`` of that machine after it (none: still
down). It is named by its line, station, machine and the time it began, which is what a
``DowntimeClassified`` event carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from factory.history.rows import aware, naive
from factory.history.store import History

_STOPS_SQL = """
SELECT d.station_id, d.machine, d.time, d.reason_code, d.reason,
       (SELECT min(u.time) FROM timeline u WHERE u.line_id = d.line_id AND u.station_id = d.station_id
            AND u.machine = d.machine AND u.kind = 'machine_up' AND u.time >= d.time) AS up
FROM timeline d WHERE d.line_id = ? AND d.kind = 'machine_down' AND d.time >= ? AND d.time < ?
ORDER BY d.time DESC, d.station_id, d.machine
"""
_ONE_SQL = """
SELECT count(*) FROM timeline WHERE line_id = ? AND station_id = ? AND machine = ? AND kind = 'machine_down'
AND time >= ? AND time < ?
"""
PRECISION = timedelta(milliseconds=1)  # stops are named by their start to the millisecond


@dataclass(frozen=True)
class Stop:
    station_id: str
    machine: int
    start: datetime
    end: datetime | None  # None: still down
    machine_code: str
    machine_reason: str


def line_stops(history: History, line_id: str, start: datetime, end: datetime, limit: int = 500) -> list[Stop]:
    """Return the stops of a line that began in [start, end), newest first (at most ``limit``)."""
    rows = history.query(_STOPS_SQL + f" LIMIT {int(limit)}", [line_id, naive(start), naive(end)])
    return [
        Stop(station, int(machine), aware(began), aware(up) if up is not None else None, code or "", reason or "")
        for station, machine, began, code, reason, up in rows
    ]


def has_stop(history: History, line_id: str, station_id: str, machine: int, start: datetime) -> bool:
    """Tell whether the history holds a stop of this machine that began at ``start`` (to the millisecond)."""
    found = history.query(_ONE_SQL, [line_id, station_id, machine, naive(start), naive(start + PRECISION)])
    return bool(found and found[0][0])
