"""REST endpoints: one order's public view by token, KPIs and sites for authenticated clients, line ingest.

Every answer is JSON; bad input gets a 4xx with a reason, never a 500. Each endpoint is declared
with web.api_spec.api, which parses its parameters and feeds ``/api/openapi.json``.
"""

from __future__ import annotations

import time
from datetime import timedelta

import flask

from factory.history import queries as history_queries
from factory.kpi_documents import scope_lines
from factory.views import localise_order
from streams import events as ev
from streams.codec import format_time
from web import auth, reports
from web.api_spec import Param, api, docs_page, openapi
from web.hardening import attachment, error
from web.ratelimit import client_key, limiter
from web.services import current_who, services

blueprint = flask.Blueprint("api", __name__, url_prefix="/api")
MAX_RANGE = timedelta(days=400)
MAX_COMMENT = 2000
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines")
LANG = Param("lang", enum=("en", "zh"), description="language of the names (default en)")


def has_key() -> bool:
    """Tell whether the request carries one of the configured API keys."""
    return auth.bearer_key_ok(flask.request.headers.get("Authorization"), services().settings.api_keys)


def unauthorised() -> flask.Response:
    response = error(401, "unauthorized", "send 'Authorization: Bearer <API key>' or sign in")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def public_order(token: str):
    """Return (view, None) or (None, error response) for a public, rate-limited token lookup."""
    status, view = services().queries.find_order(token, client_key())
    if status == 429:
        return None, error(429, "too_many_misses", "too many unknown tracking tokens from this client; wait a minute")
    if view is None:
        return None, error(404, "not_found", "no order has this tracking token")
    return view, None


@api(
    blueprint,
    "GET",
    "/orders/<token>",
    "One order's public view (names in the asked language)",
    {200: "the order", 404: "no order has this token", 429: "too many unknown tokens from this client"},
    (Param("token", where="path", description="the tracking token"), LANG),
    tags=("customer",),
)
def order(token: str, lang: str | None):
    view, failure = public_order(token)
    if failure is not None:
        return failure
    response = flask.jsonify(localise_order(view, services().plant, lang or "en"))
    response.headers["Cache-Control"] = "no-store"
    return response


@api(
    blueprint,
    "GET",
    "/orders/<token>/report.<kind>",
    "The unit's test report as CSV or PDF",
    {200: "the report", 404: "no such order or format", 429: "too many unknown tokens"},
    (Param("token", where="path"), Param("kind", where="path", enum=("csv", "pdf")), LANG),
    tags=("customer",),
)
def report(token: str, kind: str, lang: str | None):
    if kind not in ("csv", "pdf"):
        return error(404, "not_found", "reports come as .csv or .pdf")
    view, failure = public_order(token)
    if failure is not None:
        return failure
    svc = services()
    localised = localise_order(view, svc.plant, lang or "en")
    body = reports.report_csv(localised) if kind == "csv" else svc.run(lambda: reports.report_pdf(localised))
    response = flask.Response(body, mimetype="text/csv" if kind == "csv" else "application/pdf")
    return attachment(response, "test-report", view["unit_code"], kind)


@api(
    blueprint,
    "GET",
    "/orders/<token>/journey",
    "The unit's journey: each visit to a station in order, the time spent there, its reworks",
    {200: "the journey (from the unit's own events)", 404: "no order has this token", 429: "too many unknown tokens"},
    (Param("token", where="path", description="the tracking token"),),
    tags=("customer",),
)
def order_journey(token: str):
    _view, failure = public_order(token)
    if failure is not None:
        return failure
    svc = services()
    found = svc.run(lambda: svc.queries.journey(token))
    if found is None:
        return error(404, "not_found", "no order has this tracking token")
    response = flask.jsonify(found)
    response.headers["Cache-Control"] = "no-store"
    return response


@api(
    blueprint,
    "POST",
    "/verify",
    "Check a birth certificate: signed by this plant and unchanged?",
    {
        200: '{"authentic": true|false, "reason": …}',
        400: "not JSON",
        413: "larger than a certificate can be",
        429: "more than 60 checks a minute from this client",
    },
    (),
    body="application/json the certificate as downloaded (certificate and signature)",
    tags=("customer",),
)
@limiter.limit("60/minute", key_func=client_key)
def verify_certificate():
    from web.certificates import MAX_CERTIFICATE, signer

    if (flask.request.content_length or 0) > MAX_CERTIFICATE:
        return error(413, "too_large", "a certificate is a few kilobytes")
    document = flask.request.get_json(silent=True)
    if document is None:
        return error(400, "bad_json", "send the certificate's JSON with Content-Type: application/json")
    authentic, reason = signer().verifier.check(document)
    return flask.jsonify({"authentic": authentic, "reason": reason})


@api(
    blueprint,
    "POST",
    "/orders/<token>/feedback",
    "The customer rates the order (1-5) and/or comments",
    {
        201: "stored",
        303: "stored (form post: back to the tracker)",
        400: "no rating or comment, or a bad rating",
        404: "no such order",
        413: "comment too long",
        429: "more than 20 a minute, or too many unknown tokens, from this client",
    },
    (Param("token", where="path"),),
    body="application/json|application/x-www-form-urlencoded rating and comment",
    tags=("customer",),
)
@limiter.limit("20/minute", key_func=client_key)
def feedback(token: str):
    view, failure = public_order(token)
    if failure is not None:
        return failure
    form = flask.request.form if flask.request.form else (flask.request.get_json(silent=True) or {})
    if not isinstance(form, dict) and not hasattr(form, "get"):
        return error(400, "bad_body", "send a form or a JSON object")
    comment = str(form.get("comment", "")).strip()
    try:
        rating = int(form["rating"]) if form.get("rating") not in (None, "") else None
    except (TypeError, ValueError):
        return error(400, "bad_rating", "rating is a whole number from 1 to 5")
    if rating is not None and not 1 <= rating <= 5:
        return error(400, "bad_rating", "rating is a whole number from 1 to 5")
    if not comment and rating is None:
        return error(400, "empty", "give a rating or a comment")
    if len(comment) > MAX_COMMENT:
        return error(413, "too_long", f"comments are at most {MAX_COMMENT} characters")
    services().publish_control(
        ev.FeedbackGiven, unit_code=view["unit_code"], line_id=view["line"], rating=rating, comment=comment
    )
    if flask.request.form:
        return flask.redirect(f"/track/{token}?thanks=1", 303)
    return flask.jsonify({"stored": True}), 201


def _may_see_kpis() -> bool:
    return has_key() or auth.may(current_who(), "kpis")


@api(
    blueprint,
    "GET",
    "/kpis",
    "KPIs of a line, a site or the enterprise over [from, to)",
    {
        200: "the KPI document (docs/kpis.md)",
        400: "unknown line or site, or a bad range",
        401: "no key, no session",
        404: "no history yet",
    },
    (
        Param("line", description="a line id (default: every line)"),
        Param("site", description="a site id"),
        Param("from", "date-time", description="range start (default: to − 24 h)"),
        Param("to", "date-time", description="range end (default: the latest recorded event)"),
    ),
    auth="api_key_or_session",
    tags=("kpis",),
)
def kpis(line: str | None, site: str | None, **times):
    if not _may_see_kpis():
        return unauthorised()
    svc = services()
    who = current_who()
    try:
        lines = scope_lines(svc.plant, line, site)
    except KeyError as exc:
        return error(400, "unknown_scope", f"no such line or site here: {exc}")
    if (
        not has_key()
        and who is not None
        and not all(auth.may_see_line(who, ln.id, lambda i: svc.plant.line(i).site_id) for ln in lines)
    ):
        return error(403, "forbidden", "your account sees only its own site")
    end = times.get("to") or svc.history.last_time(line_events_only=True)
    if end is None:
        return error(404, "no_data", "no events recorded yet")
    start = times.get("from") or end - timedelta(hours=24)
    if not start < end or end - start > MAX_RANGE:
        return error(400, "bad_range", f"need from < to, at most {MAX_RANGE.days} days apart")
    document = svc.run(lambda: history_queries.kpis(svc.history, svc.plant, start, end, line, site))
    return flask.jsonify(document)


@api(
    blueprint,
    "GET",
    "/sites",
    "The enterprise's sites with their time zones and lines",
    {200: "the sites", 401: "no key, no session"},
    auth="api_key_or_session",
    tags=("kpis",),
)
def sites():
    if not _may_see_kpis():
        return unauthorised()
    plant = services().plant
    return flask.jsonify(
        {
            "enterprise": {"id": plant.id, "name": plant.names},
            "sites": [
                {
                    "id": s.id,
                    "name": s.names,
                    "timezone": s.timezone,
                    "lines": [{"id": line.id, "name": line.names, "product": line.product} for line in s.lines],
                }
                for s in plant.sites
            ],
        }
    )


@api(
    blueprint,
    "POST",
    "/events",
    "Events from a real line: one CloudEvent, or JSON lines",
    {
        200: "every event taken",
        207: "some refused (see errors)",
        401: "no API key",
        413: "body too large",
        415: "not JSON or JSON lines",
        422: "every event refused",
    },
    body="application/json|application/x-ndjson CloudEvents (docs/events.md)",
    auth="api_key",
    tags=("ingest",),
)
def ingest():
    if not has_key():
        return unauthorised()
    ingestor = services().ingestor
    mimetype = flask.request.mimetype
    body = flask.request.get_data(cache=False)
    if mimetype == "application/json":
        documents = [body]
    elif mimetype in JSONL_TYPES:
        documents = body.splitlines()
    else:
        return error(415, "unsupported_media_type", "send application/json (one event) or application/x-ndjson")
    outcome: dict = {"accepted": 0, "duplicate": 0, "rejected": 0, "errors": []}
    for number, document in enumerate(documents, 1):
        if number % 256 == 0:
            time.sleep(0)  # a long batch lets the pump and other requests run (a yield under gevent)
        if not document.strip():
            continue
        result = ingestor.submit(document, "http")
        kind, _, reason = result.partition(":")
        outcome[kind] += 1
        if reason and len(outcome["errors"]) < 100:
            outcome["errors"].append({"line": number, "reason": reason})
    status = 200 if outcome["rejected"] == 0 else 422 if not outcome["accepted"] + outcome["duplicate"] else 207
    return flask.jsonify(outcome), status


@api(
    blueprint,
    "GET",
    "/ingest/stats",
    "Ingestion counters: accepted, duplicates, refused by reason, late",
    {200: "the counters", 401: "no key, no session"},
    auth="api_key_or_session",
    tags=("ingest",),
)
def ingest_stats():
    if not _may_see_kpis():
        return unauthorised()
    return flask.jsonify(services().ingestor.stats())


@api(
    blueprint,
    "GET",
    "/feedback",
    "Customers' ratings and comments, newest first (managers)",
    {200: "the inbox", 401: "not signed in as a manager"},
    auth="session",
    tags=("operations",),
)
def feedback_inbox():
    who = current_who()
    if not auth.may(who, "inbox"):
        return unauthorised()
    svc = services()
    site_of = svc.plant.line
    with svc.live.lock:
        items = [
            f
            for f in reversed(svc.live.operations.feedback)
            if svc.plant.has_line(f.line_id) and auth.may_see_line(who, f.line_id, lambda i: site_of(i).site_id)
        ]
    return flask.jsonify(
        [
            {
                "unit_code": f.unit_code,
                "line": f.line_id,
                "rating": f.rating,
                "comment": f.comment,
                "at": f.at.isoformat(),
            }
            for f in items
        ]
    )


@blueprint.get("/openapi.json")
def openapi_document():
    """The OpenAPI description of this API (public: it says what exists, not what is in it)."""
    return flask.jsonify(openapi("Transparent Factory", "1"))


@blueprint.get("/docs")
def api_docs():
    """The same description as a page people read."""
    return flask.Response(docs_page("Transparent Factory"), mimetype="text/html")


@api(
    blueprint,
    "GET",
    "/floor/<line>",
    "A line's floor view as it was at a past moment, rebuilt from history (the replay's frames)",
    {
        200: "the floor view at that moment, with the line's previous and next event times (`replay`)",
        400: "a moment outside the recorded history",
        401: "no key, no session",
        403: "not a manager or executive of this line's site",
        404: "no such line, or no history yet",
    },
    (
        Param("line", where="path", description="a line id"),
        Param("at", "date-time", required=True, description="the moment to show (RFC 3339)"),
    ),
    auth="api_key_or_session",
    tags=("replay",),
)
def floor_at(line: str, at):
    svc = services()
    if not svc.plant.has_line(line):
        return error(404, "not_found", "no such line")
    who = current_who()
    if not has_key():
        if who is None:
            return unauthorised()
        if not (auth.may(who, "replay") and auth.may_see_line(who, line, lambda i: svc.plant.line(i).site_id)):
            return error(403, "forbidden", "replays are for managers and executives of this line's site")
    first, last = svc.run(svc.history.first_and_last_time)
    if first is None or last is None:
        return error(404, "no_data", "no events recorded yet")
    if not first <= at <= last:
        return error(400, "outside_history", f"the history holds {first.isoformat()} to {last.isoformat()}")
    view = svc.replay.view(line, at)
    view["replay"].update(first=format_time(first), last=format_time(last))  # where the page's slider can go
    response = flask.jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


@api(
    blueprint,
    "GET",
    "/live/<kind>/<key>",
    "A live room's whole frame (what a socket gets on joining)",
    {200: "the frame", 403: "not this viewer's", 404: "no such room", 429: "too many unknown tokens"},
    (Param("kind", where="path", enum=("floor", "order")), Param("key", where="path")),
    tags=("live",),
)
def live_frame(kind: str, key: str):
    svc = services()
    plant = svc.plant
    if kind == "floor":
        who = current_who()
        if not plant.has_line(key):
            return error(404, "not_found", "no such line")
        if not (auth.may(who, "floor") and auth.may_see_line(who, key, lambda i: plant.line(i).site_id)):
            return error(403, "forbidden", "sign in to see this line")
        room = auth.floor_room(key)
    elif kind == "order":
        _view, failure = public_order(key)
        if failure is not None:
            return failure
        room = auth.order_room(key)
    else:
        return error(404, "not_found", "rooms are floor or order")
    frame = svc.rooms.snapshot(room)
    if frame is None:
        return error(404, "not_found", "nothing to show")
    response = flask.jsonify(frame)
    response.headers["Cache-Control"] = "no-store"
    return response
