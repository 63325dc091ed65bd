"""What a manager may do to an alarm point (a station's alarms of one kind): shelve it, unshelve it.

The REST API (web.alarms_api) and the journal page's buttons both call these, so a request is
checked the same way whichever way it comes. Each action is a person's event on the control log
(factory.operations folds it on every worker). Shelving always expires (ISA-18.2): at most the
factory file's ``alarms.max_shelve_h``, and it needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from factory.alarms import ALARM_STATES
from factory.operations import is_shelved
from streams import events as ev
from streams.codec import format_time
from web import auth
from web.accounts import Who
from web.services import Services

MAX_REASON = 200


@dataclass(frozen=True)
class Outcome:
    """An action's answer: an HTTP status, and either a body (success) or a reason and a detail."""

    status: int
    reason: str = ""
    detail: str = ""
    body: dict[str, Any] = field(default_factory=dict)


def _point(svc: Services, who: Who | None, body: dict[str, Any]) -> tuple[str, str, str] | Outcome:
    """Return (line, station, kind) of the point a manager of its site names in ``body``, or the refusal."""
    if not auth.may(who, "acknowledge"):
        return Outcome(401, "unauthorized", "sign in as a manager")
    line, station, kind = body.get("line"), body.get("station"), body.get("kind")
    plant = svc.plant
    if not plant.has_line(line) or not auth.may_see_line(who, line, lambda i: plant.line(i).site_id):  # type: ignore[arg-type]
        return Outcome(404, "not_found", "no such line of yours")
    if not isinstance(station, str) or station not in {s.id for s in plant.line(line).stations}:  # type: ignore[arg-type]
        return Outcome(400, "unknown_station", f"no such station on line {line}")
    if kind not in ALARM_STATES:
        return Outcome(400, "bad_kind", f"kind is one of {', '.join(ALARM_STATES)}")
    return line, station, kind  # type: ignore[return-value]


def shelve(svc: Services, who: Who | None, body: object) -> Outcome:
    """Shelve a point for ``minutes`` with a ``reason``; 201 with the time it ends."""
    body = body if isinstance(body, dict) else {}
    point = _point(svc, who, body)
    if isinstance(point, Outcome):
        return point
    most = svc.plant.spec.alarms.max_shelve_h * 60
    minutes, reason = body.get("minutes"), body.get("reason")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 1 <= minutes <= most:
        return Outcome(400, "bad_duration", f"minutes is a number from 1 to {most:g}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        return Outcome(400, "bad_reason", f"say why, in at most {MAX_REASON} characters")
    line, station, kind = point
    until = format_time(datetime.now(UTC) + timedelta(minutes=minutes))
    svc.publish_control(
        ev.AlarmShelved,
        line_id=line,
        station_id=station,
        alarm_kind=kind,
        until=until,
        reason=reason.strip(),
        by=who.user,  # type: ignore[union-attr]
    )
    return Outcome(201, body={"shelved": "/".join(point), "until": until})


def unshelve(svc: Services, who: Who | None, body: object) -> Outcome:
    """Watch a shelved point again; 404 when it is not shelved now."""
    point = _point(svc, who, body if isinstance(body, dict) else {})
    if isinstance(point, Outcome):
        return point
    line, station, kind = point
    with svc.live.lock:
        shelved = is_shelved(svc.live.operations, line, station, kind, datetime.now(UTC))
    if not shelved:
        return Outcome(404, "not_shelved", "that alarm point is not shelved")
    svc.publish_control(ev.AlarmUnshelved, line_id=line, station_id=station, alarm_kind=kind, by=who.user)  # type: ignore[union-attr]
    return Outcome(200, body={"unshelved": "/".join(point)})


def shelved_points(svc: Services, who: Who | None) -> list[dict[str, Any]]:
    """Return the points shelved now on the lines ``who`` may see, soonest to end first."""
    plant = svc.plant
    now = datetime.now(UTC)
    with svc.live.lock:
        shelves = list(svc.live.operations.shelved.items())
    out = []
    for key, shelf in shelves:
        line, station, kind = key.split("/", 2)
        if shelf.until > now and plant.has_line(line) and auth.may_see_line(who, line, lambda i: plant.line(i).site_id):
            out.append(
                {"line": line, "station": station, "kind": kind, "until": format_time(shelf.until),
                 "reason": shelf.reason, "by": shelf.by}
            )  # fmt: skip
    return sorted(out, key=lambda p: p["until"])
