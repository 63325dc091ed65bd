"""``GET /api/audit``: the audit log over REST, as JSON a page at a time or as one CSV (admins only).

A JSON page holds at most 100 rows, newest first, and names the cursor of the next page
(``next``); pass it back as ``after``. The CSV holds every row the filters select, written a
chunk at a time, every cell through web.csv_safe (user names, labels and notes come from
people and lines).
"""

from __future__ import annotations

from datetime import datetime

import flask

from config import parse_timestamp
from factory.history.audit import Cursor
from web import audit, auth
from web.api_spec import Param, api
from web.hardening import error
from web.services import current_who, services

blueprint = flask.Blueprint("admin_api", __name__, url_prefix="/api")


def format_cursor(cursor: Cursor | None) -> str | None:
    """Return a page cursor as text (None stays None)."""
    if cursor is None:
        return None
    return f"{cursor[0].isoformat()}~{cursor[1]}"


def parse_cursor(text: str) -> Cursor:
    """Parse a cursor made by format_cursor (ValueError otherwise)."""
    time, sep, seq = text.rpartition("~")
    if not sep or not seq.isdigit():
        raise ValueError("not a cursor of this log")
    return parse_timestamp(time), int(seq)


def filters_of(start: datetime | None, end: datetime | None, user: str | None, action: str | None) -> audit.Filters:
    """Return the filters, or raise ValueError when the range is empty."""
    if start is not None and end is not None and end <= start:
        raise ValueError("to must be after from")
    return audit.Filters(start, end, user or None, action or None)


@api(
    blueprint,
    "GET",
    "/audit",
    "The audit log: people's actions (sign-ins, accounts, wall screens, alarms, downtime), newest first (admins)",
    {
        200: "one page of rows (JSON, with the next page's cursor) or every row (CSV)",
        400: "a parameter that does not parse, or to not after from",
        401: "not signed in",
        403: "not an admin",
    },
    (
        Param("from", "date-time", description="from this time (RFC 3339, included)"),
        Param("to", "date-time", description="until this time (excluded)"),
        Param("user", description="only what this person did (or whose sign-in it was)"),
        Param("action", enum=tuple(audit.ACTIONS), description="only this action"),
        Param("format", enum=("json", "csv"), description="json (default, paged) or csv (every row)"),
        Param("after", description="the cursor of the page to read (`next` of the previous page)"),
    ),
    auth="session",
    tags=("admin",),
)
def audit_log(**query):
    who = current_who()
    if who is None:
        return error(401, "unauthorized", "sign in as an admin")
    if not auth.may(who, "admin"):
        return error(403, "forbidden", "the audit log is for admins")
    try:
        filters = filters_of(query["from"], query["to"], query["user"], query["action"])
        after = parse_cursor(query["after"]) if query["after"] else None
    except ValueError as exc:
        return error(400, "bad_range" if "to must" in str(exc) else "bad_after", str(exc))
    svc = services()
    if query["format"] == "csv":
        response = flask.Response(
            flask.stream_with_context(audit.export_csv(svc.history, filters, svc.run)), mimetype="text/csv"
        )
        response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
        response.headers["Cache-Control"] = "no-store"
        return response
    rows, cursor = svc.run(lambda: audit.page(svc.history, filters, after))
    response = flask.jsonify({"rows": rows, "next": format_cursor(cursor)})
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["blueprint", "filters_of", "format_cursor", "parse_cursor"]
