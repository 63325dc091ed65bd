"""Andon alarms of a line, derived from its stations' states (a pure function of a floor view).

A breakdown is an alarm at once. Starved or blocked for a moment is how a line breathes; it
becomes an alarm once it has lasted ``ALERT_AFTER_S``. An alarm's id names the station, the kind
and the moment the condition began, so it is the same on every server, after a restart, and in
the acknowledgements stored in history; a condition that ends and comes back is a new alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from factory.layout_schema import DEFAULT_PRIORITIES
from streams.codec import format_time, parse_time

ALERT_AFTER_S = 300
ALARM_STATES = ("down", "blocked", "starved")
PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}
Priority = Callable[[str, str], str]  # (station id, kind) -> high, medium or low (factory.layout.Plant.alarm_priority)


def _by_kind(_station_id: str, kind: str) -> str:
    return DEFAULT_PRIORITIES.get(kind, "low")


def alarm_id(line_id: str, station_id: str, kind: str, since: str) -> str:
    """Return the stable id of the alarm a station raised in ``kind`` state from ``since``."""
    return f"{line_id}/{station_id}/{kind}/{since}"


def is_alarm(status: str, lasted_s: float) -> bool:
    """Tell whether a station state that has lasted ``lasted_s`` is an alarm."""
    return status == "down" or (status in ("blocked", "starved") and lasted_s >= ALERT_AFTER_S)


def raised_at(kind: str, since: datetime) -> datetime:
    """Return when a station's state of ``kind`` that began at ``since`` became (or becomes) an alarm."""
    return since if kind == "down" else since + timedelta(seconds=ALERT_AFTER_S)


def active_alarms(
    line_id: str, stations: list[dict[str, Any]], as_of: str | None, priority: Priority = _by_kind
) -> list[dict[str, Any]]:
    """Return the alarms of a floor view's stations at ``as_of``: highest priority first, breakdowns
    first within one, then oldest first."""
    if as_of is None:
        return []
    now = parse_time(as_of)
    alarms = []
    for s in stations:
        if s["status"] not in ALARM_STATES or s["since"] is None:
            continue
        since = parse_time(s["since"])
        if not is_alarm(s["status"], (now - since).total_seconds()):
            continue
        raised = raised_at(s["status"], since)
        alarms.append(
            {
                "id": alarm_id(line_id, s["id"], s["status"], s["since"]),
                "station": s["id"],
                "kind": s["status"],
                "priority": priority(s["id"], s["status"]),
                "reason": s["down_reason"],
                "since": s["since"],
                "raised": format_time(raised),
            }
        )
    alarms.sort(key=lambda a: (PRIORITY_RANK.get(a["priority"], 9), a["kind"] != "down", a["raised"]))
    return alarms


def parse_alarm_id(value: object) -> tuple[str, str, str, datetime] | None:
    """Split an alarm id from a client into (line, station, kind, since), or None if malformed."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    parts = value.split("/")
    if len(parts) != 4 or parts[2] not in ALARM_STATES:
        return None
    try:
        return parts[0], parts[1], parts[2], parse_time(parts[3])
    except ValueError:
        return None
