"""The alarm journal of a line over a range, read from the stored history (factory.alarm_journal).

The line's state at the range's start comes from the latest checkpoint before it (the same seek
as a floor replay), then its events up to the range's end are folded one by one while an
AlarmWatch looks at its stations. So an alarm already active at the start is in the journal with
its true beginning, and the cost is one checkpoint plus the range's events of that one line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from factory.alarm_journal import AlarmWatch, floods, journal_rows, people_on, per_hour
from factory.history.store import History
from factory.history.writer import state_at
from factory.layout import Plant
from factory.projector import apply
from factory.validation import PlantCheck

PEOPLE_KINDS = ("alarm_acknowledged", "alarm_shelved", "alarm_unshelved")
_TICK = timedelta(milliseconds=1)  # state_at includes the start's own events; the fold goes on after them


def line_journal(history: History, plant: Plant, line_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Return a line's alarms over [start, end) (newest first), alarms raised per hour, and floods."""
    line = plant.line(line_id)
    check = PlantCheck(plant, window=timedelta(days=3650))
    state = state_at(history, start, check, line_id)
    watch = AlarmWatch(line_id, (s.id for s in line.stations))
    watch.observe(state.lines[line_id], start)
    for event in history.iter_replay(start=start + _TICK, end=end, line_id=line_id):
        if check.admit(event) is None:
            apply(state, event)
            watch.observe(state.lines[line_id], event.time)
    entries = [e for e in watch.finish(end) if e.raised < end and (e.cleared is None or e.cleared > start)]
    # People's actions are few (a handful an hour) and timed by the wall clock, not the line's:
    # all of the line's are read, and matched by alarm id and by the shelving in force at raising.
    people = people_on(history.iter_replay(line_id=line_id, kinds=PEOPLE_KINDS))
    alarms = plant.spec.alarms
    raised = [e.raised for e in entries if e.raised >= start]
    return {
        "line": line_id,
        "alarms": journal_rows(entries, people, lambda sid, kind: plant.alarm_priority(line_id, sid, kind), end),
        "per_hour": per_hour(raised, start, end, plant.tz_of(line_id)),
        "floods": floods(raised, alarms.flood_alarms, timedelta(minutes=alarms.flood_window_min)),
    }
