"""REST endpoints of andon alarms: the journal, acknowledging, shelving and unshelving.

The journal (``GET /api/alarms``) is for managers, executives and admins of the lines' site, and
for API keys. Acting on alarms is for managers and admins: each action is a person's event on the
control log (factory.operations folds it on every worker), and takes JSON only, which a
cross-site form cannot send (docs/security.md). Shelving always expires (ISA-18.2): at most the
configured ``alarms.max_shelve_h``, and it needs a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask

from factory.alarms import ALARM_STATES, parse_alarm_id
from factory.layout_schema import PRIORITIES
from factory.operations import is_shelved
from factory.spc_alarms import parse_spc_alarm_id
from streams import events as ev
from streams.codec import format_time
from web import auth
from web.alarm_queries import Filters, JournalError, journal_csv, read_journal, resolve_range, visible_lines
from web.api import has_key, unauthorised
from web.api_spec import Param, api
from web.hardening import error
from web.services import current_who, services

blueprint = flask.Blueprint("alarms_api", __name__, url_prefix="/api")
MAX_REASON = 200


@api(
    blueprint,
    "GET",
    "/alarms",
    "The alarm journal: every alarm raised, acknowledged, shelved and cleared over [from, to), newest first",
    {
        200: "the alarms, alarms raised per site-local hour and floods per line (CSV with format=csv)",
        400: "unknown line, station, kind or priority, or a bad or too long range",
        401: "no key, no session",
        403: "not this line's site",
        404: "no history yet",
    },
    (
        Param("line", description="a line id (default: every line you may see)"),
        Param("station", description="a station id"),
        Param("priority", enum=PRIORITIES),
        Param("kind", enum=ALARM_STATES),
        Param("from", "date-time", description="range start (default: to − 24 h)"),
        Param("to", "date-time", description="range end (default: the latest recorded event)"),
        Param("format", enum=("json", "csv"), description="json (default) or csv"),
    ),
    auth="api_key_or_session",
    tags=("operations",),
)
def journal(line, station, priority, kind, format, **times):
    who = current_who()
    key = has_key()
    if not (key or auth.may(who, "alarms")):
        return unauthorised()
    svc = services()
    try:
        lines = visible_lines(svc, who, key, line)
        start, end = resolve_range(svc, times.get("from"), times.get("to"), len(lines))
        found = read_journal(svc, lines, start, end, Filters(station, priority, kind))
    except JournalError as exc:
        return error(exc.status, exc.reason, str(exc))
    if format == "csv":
        response = flask.Response(journal_csv(found["alarms"]), mimetype="text/csv")
        stamp = start.strftime("%Y%m%dT%H%M")
        response.headers["Content-Disposition"] = f'attachment; filename="alarms-{line or "all"}-{stamp}.csv"'
        return response
    return flask.jsonify(found)


def _manager_line(line: object):
    """Return (who, None) when a manager of ``line``'s site asks, else (None, the error answer)."""
    who = current_who()
    if not auth.may(who, "acknowledge"):
        return None, unauthorised()
    plant = services().plant
    if not plant.has_line(line) or not auth.may_see_line(who, line, lambda i: plant.line(i).site_id):  # type: ignore[arg-type]
        return None, error(404, "not_found", "no such line of yours")
    return who, None


@api(
    blueprint,
    "POST",
    "/alarms/ack",
    "Acknowledge an active andon alarm (managers)",
    {200: "acknowledged", 401: "not signed in as a manager", 404: "no such active alarm", 409: "already acknowledged"},
    body="application/json {alarm: <alarm id>}",
    auth="session",
    tags=("operations",),
)
def acknowledge():
    who = current_who()
    if not auth.may(who, "acknowledge"):
        return unauthorised()
    body = flask.request.get_json(silent=True)
    alarm = body.get("alarm") if isinstance(body, dict) else None
    parsed = parse_alarm_id(alarm) or parse_spc_alarm_id(alarm)
    svc = services()
    plant = svc.plant
    if (
        parsed is None
        or not plant.has_line(parsed[0])
        or not auth.may_see_line(who, parsed[0], lambda i: plant.line(i).site_id)
    ):
        return error(404, "not_found", "that alarm has cleared, or is not yours")
    active = {a["id"]: a for a in svc.queries.floor(parsed[0])["alarms"]}
    if alarm not in active:
        return error(404, "not_found", "that alarm has cleared")
    if active[alarm].get("ack"):
        return error(409, "already", "already acknowledged")
    svc.publish_control(ev.AlarmAcknowledged, alarm_id=alarm, line_id=parsed[0], by=who.user)  # type: ignore[union-attr]
    return flask.jsonify({"acknowledged": alarm})


def _point(body: dict) -> tuple[str, str] | flask.Response:
    """Return (station, kind) of an alarm point in a request body, or the 400 answer."""
    line = services().plant.line(body["line"])
    station, kind = body.get("station"), body.get("kind")
    if not isinstance(station, str) or station not in {s.id for s in line.stations}:
        return error(400, "unknown_station", f"no such station on line {line.id}")
    if kind not in ALARM_STATES:
        return error(400, "bad_kind", f"kind is one of {', '.join(ALARM_STATES)}")
    return station, kind


@api(
    blueprint,
    "POST",
    "/alarms/shelve",
    "Shelve a nuisance alarm point (a station's alarms of one kind) for a while, with a reason (managers)",
    {
        201: "shelved until the time answered",
        400: "unknown station or kind, a duration outside 1 minute … alarms.max_shelve_h, or no reason",
        401: "not signed in as a manager",
        404: "no such line of yours",
    },
    body="application/json {line, station, kind, minutes, reason}",
    auth="session",
    tags=("operations",),
)
def shelve():
    body = flask.request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    who, failure = _manager_line(body.get("line"))
    if failure is not None:
        return failure
    point = _point(body)
    if isinstance(point, flask.Response):
        return point
    most = services().plant.spec.alarms.max_shelve_h * 60
    minutes, reason = body.get("minutes"), body.get("reason")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not 1 <= minutes <= most:
        return error(400, "bad_duration", f"minutes is a number from 1 to {most:g}")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        return error(400, "bad_reason", f"say why, in at most {MAX_REASON} characters")
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    services().publish_control(
        ev.AlarmShelved,
        line_id=body["line"],
        station_id=point[0],
        alarm_kind=point[1],
        until=format_time(until),
        reason=reason.strip(),
        by=who.user,
    )
    return flask.jsonify({"shelved": f"{body['line']}/{point[0]}/{point[1]}", "until": format_time(until)}), 201


@api(
    blueprint,
    "POST",
    "/alarms/unshelve",
    "Watch a shelved alarm point again before its shelving expires (managers)",
    {
        200: "unshelved",
        400: "unknown station or kind",
        401: "not signed in as a manager",
        404: "no such line of yours, or that point is not shelved",
    },
    body="application/json {line, station, kind}",
    auth="session",
    tags=("operations",),
)
def unshelve():
    body = flask.request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    who, failure = _manager_line(body.get("line"))
    if failure is not None:
        return failure
    point = _point(body)
    if isinstance(point, flask.Response):
        return point
    svc = services()
    with svc.live.lock:
        shelved = is_shelved(svc.live.operations, body["line"], point[0], point[1], datetime.now(UTC))
    if not shelved:
        return error(404, "not_shelved", "that alarm point is not shelved")
    svc.publish_control(
        ev.AlarmUnshelved,
        line_id=body["line"],
        station_id=point[0],
        alarm_kind=point[1],
        by=who.user,
    )
    return flask.jsonify({"unshelved": f"{body['line']}/{point[0]}/{point[1]}"})
