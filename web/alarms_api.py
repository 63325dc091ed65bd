"""REST endpoints of andon alarms: the journal, acknowledging, shelving and unshelving.

The journal (``GET /api/alarms``) is for managers, executives and admins of the lines' site, and
for API keys. Acting on alarms is for managers and admins: each action is a person's event on the
control log (factory.operations folds it on every worker), and takes JSON only, which a
cross-site form cannot send (docs/security.md). Shelving always expires (ISA-18.2): at most the
configured ``alarms.max_shelve_h``, and it needs a reason.
"""

from __future__ import annotations

import flask

from factory.alarms import ALARM_STATES, parse_alarm_id
from factory.layout_schema import PRIORITIES
from factory.spc_alarms import parse_spc_alarm_id
from streams import events as ev
from web import alarm_actions, auth
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
        Param("to", "date-time", description="range end, exclusive (default: just after the latest recorded event)"),
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
    if format == "csv":  # written through web.csv_safe: a reason from a line cannot run as a formula
        response = flask.Response(journal_csv(found["alarms"]), mimetype="text/csv")
        stamp = start.strftime("%Y%m%dT%H%M")
        response.headers["Content-Disposition"] = f'attachment; filename="alarms-{line or "all"}-{stamp}.csv"'
        return response
    return flask.jsonify(found)


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
    return _answer(alarm_actions.shelve(services(), current_who(), flask.request.get_json(silent=True)))


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
    return _answer(alarm_actions.unshelve(services(), current_who(), flask.request.get_json(silent=True)))


def _answer(outcome: alarm_actions.Outcome) -> flask.Response:
    if outcome.status == 401:
        return unauthorised()
    if outcome.status >= 400:
        return error(outcome.status, outcome.reason, outcome.detail)
    response = flask.jsonify(outcome.body)
    response.status_code = outcome.status
    return response
