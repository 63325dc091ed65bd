"""REST endpoints: one order's public view by token, and KPIs for authenticated clients.

Every answer is JSON; bad input gets a 4xx with a reason, never a 500.
"""
from __future__ import annotations

import argparse
from datetime import timedelta

import flask

from config import parse_timestamp
from dashboard import auth
from dashboard.realtime import current_live
from factory import history_kpis

api = flask.Blueprint("api", __name__, url_prefix="/api")
MAX_RANGE = timedelta(days=400)


def _error(status: int, reason: str, detail: str) -> flask.Response:
    response = flask.jsonify({"error": reason, "detail": detail})
    response.status_code = status
    return response


@api.get("/orders/<token>")
def order(token: str):
    """Return the whitelisted view of one order; unknown and malformed tokens get the same 404."""
    view = current_live().order(token)
    if view is None:
        return _error(404, "not_found", "no order has this tracking token")
    response = flask.jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/kpis")
def kpis():
    """Return KPIs for ?line=&from=&to= (default: every line, the last 24 hours of data)."""
    if not auth.bearer_key_ok(flask.request.headers.get("Authorization"), flask.current_app.config["TF_API_KEYS"]):
        response = _error(401, "unauthorized", "send 'Authorization: Bearer <API key>'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
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
