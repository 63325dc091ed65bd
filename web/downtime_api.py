"""Downtime classification: managers give a line's stops a reason from the tree and a note.

``GET /api/downtime`` lists a line's stops (from the history's timeline, plus a stop the live
state knows and the history has not recorded yet), each with the reason it counts under;
``POST /api/downtime/classify`` publishes a ``DowntimeClassified`` on the control log, which
every worker folds (factory.operations) and the history writer records, so the Pareto that
reads it from the history (factory.kpis.time_sums) is the same everywhere and after a restart.
The page ``/downtime`` (dashboard/pages/downtime.py) calls the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import flask

from factory.downtime import MAX_NOTE, canonical_time, counted_reason
from factory.history.stops import has_stop, line_stops
from factory.operations import stop_key
from streams import events as ev
from streams.codec import format_time, parse_time
from web import auth
from web.accounts import Who
from web.api_spec import Param, api
from web.csv_safe import csv_text
from web.hardening import error
from web.services import Services, current_who, services

blueprint = flask.Blueprint("downtime_api", __name__, url_prefix="/api")
DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=93)
MAX_BODY = 4096  # a classification is a few hundred bytes
CSV_COLUMNS = ("station", "machine", "start", "end", "duration_s", "machine_code", "reason", "classified", "note", "by")


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    detail: str


def role_refusal(who: Who | None) -> Refusal | None:
    """Return why ``who`` may not classify stops at all (None: a manager or an admin)."""
    if who is None:
        return Refusal(401, "unauthorized", "sign in as a manager")
    if not auth.may(who, "downtime"):
        return Refusal(403, "forbidden", "downtime classification is for managers")
    return None


def access(who: Who | None, line_id: str | None, svc: Services) -> Refusal | None:
    """Return why ``who`` may not classify or list this line's stops (None: they may)."""
    refused = role_refusal(who)
    if refused is not None:
        return refused
    if not line_id or not svc.plant.has_line(line_id):
        return Refusal(400, "unknown_line", "no such line here")
    if not auth.may_see_line(who, line_id, lambda i: svc.plant.line(i).site_id):
        return Refusal(403, "forbidden", "your account sees only its own site")
    return None


def _clock(svc: Services) -> datetime | None:
    with svc.live.lock:
        latest = svc.live.state.last_event_time
    return latest or svc.history.last_time(line_events_only=True)


def _live_open_stops(svc: Services, line_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Return the machines of the line the live state holds down since a time in [start, end)."""
    out = []
    with svc.live.lock:
        line = svc.live.state.lines.get(line_id)
        stations = list(line.stations.values()) if line is not None else []
        for station in stations:
            for number, m in station.machines.items():
                down = m.last_down is not None and (m.last_up is None or m.last_up < m.last_down)
                if down and start <= m.last_down < end:
                    out.append(
                        {"station": station.station_id, "machine": number, "start": m.last_down,
                         "code": m.reason_code or "", "text": m.reason or ""}
                    )  # fmt: skip
    return out


def stops(svc: Services, line_id: str, start: datetime, end: datetime, lang: str = "en") -> list[dict[str, Any]]:
    """Return the line's stops begun in [start, end), newest first, each with the reason it counts under."""
    tree, now = svc.plant.downtime, _clock(svc)
    recorded = svc.run(lambda: line_stops(svc.history, line_id, start, end))
    rows = [
        {"station": s.station_id, "machine": s.machine, "start": s.start, "end": s.end, "code": s.machine_code,
         "text": s.machine_reason}
        for s in recorded
    ]  # fmt: skip
    known = {(r["station"], r["machine"], format_time(r["start"])) for r in rows}
    rows += [r for r in _live_open_stops(svc, line_id, start, end) if
             (r["station"], r["machine"], format_time(r["start"])) not in known]  # fmt: skip
    with svc.live.lock:
        reasons = dict(svc.live.operations.downtime_reasons)
    out = []
    for r in sorted(rows, key=lambda r: (r["start"], r["station"], r["machine"]), reverse=True):
        since = format_time(r["start"])
        chosen = reasons.get(stop_key(line_id, r["station"], r["machine"], since))
        reason, classified = counted_reason(tree, r["code"], chosen[0] if chosen else None)
        until = r.get("end") or now
        out.append(
            {
                "station": r["station"],
                "machine": r["machine"],
                "start": since,
                "end": format_time(r["end"]) if r.get("end") else None,
                "open": not r.get("end"),
                "duration_s": max(0.0, (until - r["start"]).total_seconds()) if until else None,
                "machine_code": r["code"],
                "machine_reason": r["text"],
                "reason": reason,
                "reason_name": tree.name(reason, lang),
                "classified": classified,
                "note": chosen[1] if chosen and classified else "",
                "by": chosen[2] if chosen and classified else None,
            }
        )
    return out


def _stop_exists(svc: Services, line_id: str, station_id: str, machine: int, start: datetime) -> bool:
    since = format_time(start)
    with svc.live.lock:
        line = svc.live.state.lines.get(line_id)
        station = line.stations.get(station_id) if line is not None else None
        m = station.machines.get(machine) if station is not None else None
        if m is not None and m.last_down is not None and format_time(m.last_down) == since:
            return True
    return svc.run(lambda: has_stop(svc.history, line_id, station_id, machine, start))


def classify(svc: Services, who: Who | None, body: Any) -> tuple[Refusal | None, dict[str, Any] | None]:
    """Check a classification and publish it; return (why not, None) or (None, what was published)."""
    refused = role_refusal(who)
    if refused is not None:
        return refused, None
    if not isinstance(body, dict):
        return Refusal(400, "bad_body", "send JSON: {line, station, machine, down_since, reason, note}"), None
    line_id = body.get("line")
    if not isinstance(line_id, str):
        return Refusal(400, "unknown_line", "no such line here"), None
    refused = access(who, line_id, svc)
    if refused is not None:
        return refused, None
    station, machine, since = body.get("station"), body.get("machine"), body.get("down_since")
    reason, note = body.get("reason"), body.get("note", "")
    if not isinstance(station, str) or not svc.plant.line(line_id).has_station(station):
        return Refusal(400, "unknown_station", "no such station on that line"), None
    if not isinstance(machine, int) or isinstance(machine, bool) or machine < 1:
        return Refusal(400, "bad_machine", "machine is a machine number from 1"), None
    try:
        since_text = canonical_time(since) if isinstance(since, str) else None
    except ValueError:
        since_text = None
    if since_text is None:
        return Refusal(400, "bad_down_since", "down_since is the RFC 3339 time the stop began"), None
    if not isinstance(reason, str) or reason not in svc.plant.downtime.reasons:
        return Refusal(400, "unknown_reason", "reason must be a reason code of the downtime tree"), None
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        return Refusal(400, "bad_note", f"note is text of at most {MAX_NOTE} characters"), None
    if not _stop_exists(svc, line_id, station, machine, parse_time(since_text)):
        return Refusal(404, "no_such_stop", "no stop of that machine began at that time"), None
    assert who is not None  # access() refused anonymous callers
    svc.publish_control(
        ev.DowntimeClassified,
        line_id=line_id,
        station_id=station,
        machine=machine,
        down_since=since_text,
        reason_code=reason,
        note=note.strip(),
        by=who.user,
    )
    return None, {"line": line_id, "station": station, "machine": machine, "down_since": since_text,
                  "reason": reason, "note": note.strip(), "by": who.user}  # fmt: skip


def _refusal(refused: Refusal) -> flask.Response:
    return error(refused.status, refused.reason, refused.detail)


@api(
    blueprint,
    "GET",
    "/downtime",
    "A line's stops begun in [from, to), newest first, with the reason each counts under (managers)",
    {
        200: "the stops (JSON, or CSV with format=csv)",
        400: "unknown line, or a bad range",
        401: "not signed in",
        403: "not a manager, or another site's line",
        404: "no history yet",
    },
    (
        Param("line", required=True, description="a line id"),
        Param("from", "date-time", description="range start (default: to − 7 days)"),
        Param("to", "date-time", description="range end (default: the line's clock)"),
        Param("format", enum=("json", "csv"), description="json (default) or csv"),
        Param("lang", enum=("en", "zh"), description="language of the reason names (default en)"),
    ),
    auth="session",
    tags=("operations",),
)
def list_stops(line: str, format: str | None, lang: str | None, **times):
    svc, who = services(), current_who()
    refused = access(who, line, svc)
    if refused is not None:
        return _refusal(refused)
    end = times.get("to") or _clock(svc)
    if end is None:
        return error(404, "no_data", "no events recorded yet")
    end = end + timedelta(milliseconds=1) if times.get("to") is None else end  # the latest stop is in
    start = times.get("from") or end - DEFAULT_RANGE
    if not start < end or end - start > MAX_RANGE:
        return error(400, "bad_range", f"need from < to, at most {MAX_RANGE.days} days apart")
    found = stops(svc, line, start, end, lang or "en")
    if format == "csv":
        rows = [list(CSV_COLUMNS)] + [
            [s["station"], s["machine"], s["start"], s["end"] or "", "" if s["duration_s"] is None else s["duration_s"],
             s["machine_code"], s["reason"], "yes" if s["classified"] else "no", s["note"], s["by"] or ""]
            for s in found
        ]  # fmt: skip
        response = flask.Response(csv_text(rows), mimetype="text/csv")
        safe_line = "".join(c for c in line if c.isalnum() or c in "._-")[:64]
        response.headers["Content-Disposition"] = f'attachment; filename="downtime-{safe_line}.csv"'
        return response
    return flask.jsonify({"line": line, "from": format_time(start), "to": format_time(end), "stops": found})


@api(
    blueprint,
    "POST",
    "/downtime/classify",
    "Give a stop a reason from the tree and a note; a later classification replaces it (managers)",
    {
        200: "published on the control log",
        400: "a bad body: unknown line, station or reason, a bad time, a note over 500 characters",
        401: "not signed in",
        403: "not a manager, or another site's line",
        404: "no such stop",
        413: "a body over 4 kB",
    },
    body="application/json {line, station, machine, down_since, reason, note}",
    auth="session",
    tags=("operations",),
)
def classify_stop():
    if (flask.request.content_length or 0) > MAX_BODY:
        return error(413, "too_large", f"a classification is at most {MAX_BODY} bytes")
    svc = services()
    refused, published = classify(svc, current_who(), flask.request.get_json(silent=True))
    if refused is not None:
        return _refusal(refused)
    return flask.jsonify({"classified": published})
