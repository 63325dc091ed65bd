"""REST endpoints of the dead letter (managers and admins): refused input, and re-submitting it fixed.

``GET /api/dead-letters`` lists what the ingest gate and the bus readers refused, newest first,
filtered and paged (``next`` is the cursor of the following page), as JSON or as CSV; ``POST
/api/dead-letters/<id>/resubmit`` passes a fixed text through the same gate (web.dead_letters).
Access is decided per letter: a manager bound to a site sees only that site's.
"""

from __future__ import annotations

import flask

from streams.dead_letters import SOURCES
from web import auth
from web import dead_letters as letters
from web.api_spec import Param, api
from web.csv_safe import csv_text
from web.hardening import error
from web.services import current_who, services

blueprint = flask.Blueprint("dead_letters_api", __name__, url_prefix="/api")
CSV_COLUMNS = ("id", "at", "source", "reason", "line", "message", "raw", "resubmitted_by")


def _not_entitled() -> flask.Response:
    return error(401, "unauthorized", "sign in as a manager or an admin")


@api(
    blueprint,
    "GET",
    "/dead-letters",
    "Refused input, newest first, with its reason (managers)",
    {200: "one page of dead letters, and the cursor of the next", 401: "not signed in as a manager or an admin"},
    (
        Param("reason", description="a reason code (docs/events.md)"),
        Param("source", enum=SOURCES, description="where it came from"),
        Param("from", "date-time", description="refused at or after"),
        Param("to", "date-time", description="refused before"),
        Param("before", description="the cursor a previous page gave as next"),
        Param(
            "limit",
            "integer",
            description=f"letters on the page (default 50, at most {letters.PAGE_MAX})",
            maximum=letters.PAGE_MAX,
        ),
        Param("format", enum=("json", "csv"), description="json (default) or csv"),
    ),
    auth="session",
    tags=("ingest",),
)
def dead_letters(reason, source, before, limit, format, **times):
    who = current_who()
    if not auth.may(who, "dead_letters"):
        return _not_entitled()
    svc = services()
    filters = letters.Filters(reason, source, times.get("from"), times.get("to"))
    # Not on the thread pool: the scan is Redis round trips, cooperative under gevent, and the
    # marks are read under the pump's lock, which belongs to the event loop's thread.
    found = letters.page(svc, who, filters, before, limit or 50)
    if format == "csv":
        rows = [
            [i["id"], i["at"], i["source"], i["reason"], i["line"] or "", i["message"], i["raw"],
             (i["resubmitted"] or {}).get("by", "")]
            for i in found["items"]
        ]  # fmt: skip
        response = flask.Response(csv_text([CSV_COLUMNS, *rows]), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="dead-letters.csv"'
        return response
    return flask.jsonify(found)


@api(
    blueprint,
    "POST",
    "/dead-letters/<letter_id>/resubmit",
    "Re-submit a dead letter's fixed text through the ingest gate (managers)",
    {
        200: "the gate took the fixed event; the letter is marked re-submitted",
        400: "no fixed text in the body",
        401: "not signed in as a manager or an admin",
        403: "the fixed event is about a line outside your site",
        404: "no such dead letter, or it is not yours",
        409: "re-submitted already",
        413: "the fixed text is too large",
        422: "refused again by the gate (the reason says why)",
    },
    (Param("letter_id", where="path", description="the dead letter's id"),),
    body="application/json {raw: <the fixed event's CloudEvents JSON text>}",
    auth="session",
    tags=("ingest",),
)
def resubmit(letter_id: str):
    who = current_who()
    if not auth.may(who, "dead_letters"):
        return _not_entitled()
    body = flask.request.get_json(silent=True)
    raw = body.get("raw") if isinstance(body, dict) else None
    svc = services()
    outcome = letters.resubmit(svc, who, letter_id, raw)
    if outcome.status != 200:
        return error(outcome.status, outcome.reason, outcome.message)
    return flask.jsonify({"resubmitted": letter_id, "event": outcome.event})
