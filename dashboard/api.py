"""REST endpoints: one order's public view by token, and KPIs for authenticated clients.

Every answer is JSON; bad input gets a 4xx with a reason, never a 500.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import flask

from config import parse_timestamp
from dashboard import auth, reports
from dashboard.realtime import current_live
from factory import history_kpis

api = flask.Blueprint("api", __name__, url_prefix="/api")
MAX_RANGE = timedelta(days=400)


JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines")
INGEST_EXTENSION = "transparent_factory.ingestor"


def _has_key() -> bool:
    return auth.bearer_key_ok(flask.request.headers.get("Authorization"), flask.current_app.config["TF_API_KEYS"])


def _unauthorised() -> flask.Response:
    response = _error(401, "unauthorized", "send 'Authorization: Bearer <API key>'")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _error(status: int, reason: str, detail: str) -> flask.Response:
    response = flask.jsonify({"error": reason, "detail": detail})
    response.status_code = status
    return response


def _public_order(token: str):
    """Return (view, None) or (None, error response) for a public, rate-limited token lookup."""
    status, view = current_live().find_order(token, flask.request.remote_addr or "?")
    if status == 429:
        return None, _error(429, "too_many_misses", "too many unknown tracking tokens from this client; wait a minute")
    if view is None:
        return None, _error(404, "not_found", "no order has this tracking token")
    return view, None


@api.get("/orders/<token>")
def order(token: str):
    """Return the whitelisted view of one order; unknown and malformed tokens get the same 404."""
    view, error = _public_order(token)
    if error is not None:
        return error
    response = flask.jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/orders/<token>/report.<kind>")
def report(token: str, kind: str):
    """Return the unit's test report as CSV or PDF, as a download."""
    if kind not in ("csv", "pdf"):
        return _error(404, "not_found", "reports come as .csv or .pdf")
    view, error = _public_order(token)
    if error is not None:
        return error
    body = reports.report_csv(view) if kind == "csv" else reports.report_pdf(view)
    response = flask.Response(body, mimetype="text/csv" if kind == "csv" else "application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="test-report-{view["unit_code"]}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/kpis")
def kpis():
    """Return KPIs for ?line=&from=&to= (default: every line, the last 24 hours of data)."""
    if not (_has_key() or auth.may(auth.current_role(), "kpis")):
        return _unauthorised()
    live = current_live()
    args = flask.request.args
    line = args.get("line") or None
    if line is not None and not live.plant.has_line(line):
        return _error(400, "unknown_line", f"no line {line!r}")
    try:
        end = parse_timestamp(args["to"]) if args.get("to") else live.history.last_time()
        start = parse_timestamp(args["from"]) if args.get("from") else (end and end - timedelta(hours=24))
    except argparse.ArgumentTypeError as exc:
        return _error(400, "bad_time", str(exc))
    if end is None:
        return _error(404, "no_data", "no events recorded yet")
    if not start < end or end - start > MAX_RANGE:
        return _error(400, "bad_range", f"need from < to, at most {MAX_RANGE.days} days apart")
    return flask.jsonify(history_kpis.kpis(live.history, live.plant, start, end, line))


@api.post("/events")
def ingest():
    """Take events from a real line: one CloudEvent (application/json) or JSON lines (application/x-ndjson)."""
    if not _has_key():
        return _unauthorised()
    ingestor = flask.current_app.extensions[INGEST_EXTENSION]
    mimetype = flask.request.mimetype
    body = flask.request.get_data(cache=False)
    if mimetype == "application/json":
        documents = [body]
    elif mimetype in JSONL_TYPES:
        documents = body.splitlines()
    else:
        return _error(415, "unsupported_media_type", "send application/json (one event) or application/x-ndjson")
    outcome = {"accepted": 0, "duplicate": 0, "rejected": 0, "errors": []}
    for number, document in enumerate(documents, 1):
        if not document.strip():
            continue
        result = ingestor.submit(document, "http")
        kind, _, reason = result.partition(":")
        outcome[kind] += 1
        if reason and len(outcome["errors"]) < 100:
            outcome["errors"].append({"line": number, "reason": reason})
    return flask.jsonify(outcome), (200 if outcome["rejected"] == 0 else 422 if not outcome["accepted"] else 207)


@api.get("/ingest/stats")
def ingest_stats():
    """Return the ingestion counters (accepted, duplicates, rejected by reason, late)."""
    if not (_has_key() or auth.may(auth.current_role(), "kpis")):
        return _unauthorised()
    return flask.jsonify(flask.current_app.extensions[INGEST_EXTENSION].stats())


MAX_COMMENT = 2000


@api.post("/orders/<token>/feedback")
def feedback(token: str):
    """Store the customer's rating (1-5) and comment on their order; a form post returns to the tracker."""
    view, error = _public_order(token)
    if error is not None:
        return error
    form = flask.request.form if flask.request.form else (flask.request.get_json(silent=True) or {})
    comment = str(form.get("comment", "")).strip()
    try:
        rating = int(form["rating"]) if form.get("rating") not in (None, "") else None
    except (TypeError, ValueError):
        return _error(400, "bad_rating", "rating is a whole number from 1 to 5")
    if rating is not None and not 1 <= rating <= 5:
        return _error(400, "bad_rating", "rating is a whole number from 1 to 5")
    if not comment and rating is None:
        return _error(400, "empty", "give a rating or a comment")
    if len(comment) > MAX_COMMENT:
        return _error(413, "too_long", f"comments are at most {MAX_COMMENT} characters")
    live = current_live()
    live.history.add_feedback(view["unit_code"], datetime.now(UTC), rating, comment)
    if flask.request.form:
        return flask.redirect(f"/track/{token}?thanks=1", 303)
    return flask.jsonify({"stored": True}), 201
