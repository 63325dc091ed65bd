"""``GET /api/spc``: one measurement's I-MR chart, its run-rule violations and capability per shift and day.

Managers, executives and admins of the line's site (or an API key). The chart document is
factory/spc_chart.py's over points read from the history off the event loop; the /spc page
asks :func:`spc_chart` too, so the page and the API cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import flask

from factory.history import measurements
from factory.spc_chart import Measured, catalogue, chart
from streams.codec import format_time
from web import auth
from web.api import has_key, unauthorised
from web.api_spec import Param, api
from web.hardening import error
from web.services import current_who, services

blueprint = flask.Blueprint("spc_api", __name__, url_prefix="/api")
MAX_RANGE = timedelta(days=31)
DEFAULT_RANGE = timedelta(hours=24)
MAX_POINTS = 5000  # a month of one product at one gate; beyond, the latest are charted


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str


def resolve(
    line: str | None, station: str | None, measurement: str | None, product: str | None
) -> tuple[str, Measured, str] | Refusal:
    """Return (station, the measurement, product) named by a request, or why not (a 400)."""
    plant = services().plant
    if not line or not plant.has_line(line):
        return Refusal(400, "unknown_line", f"no such line here: {line}")
    stations = catalogue(plant)[line]
    at = [s for s, found in stations.items() if measurement in found and station in (None, s)]
    if station is not None and station not in stations:
        return Refusal(400, "unknown_station", f"{station} is not a test station of {line}")
    if not at:
        known = sorted({m for found in stations.values() for m in found})
        return Refusal(400, "unknown_measurement", f"measurements of {line}: {', '.join(known)}")
    if len(at) > 1:
        return Refusal(400, "ambiguous_measurement", f"{measurement} is measured at {', '.join(at)}: name the station")
    found = stations[at[0]][measurement]  # type: ignore[index]
    chosen = product or found.products[0]
    if chosen not in found.products:
        return Refusal(400, "unknown_product", f"products of {measurement}: {', '.join(found.products)}")
    return at[0], found, chosen


def spc_chart(line: str, station: str, found: Measured, product: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Return the chart document of one measurement and product over [start, end)."""
    svc = services()
    plant = svc.plant

    def read() -> tuple[list, list, bool]:
        args = (svc.history, line, station, found.name, found.option, product)
        points = measurements.points(*args, start, end, limit=MAX_POINTS + 1, newest_first=True)
        cut = len(points) > MAX_POINTS
        if cut:  # the latest are charted, judged against what precedes the first of them
            points = points[1:]
        return points, measurements.baseline_before(*args, points[0].time if cut else start), cut

    points, before, truncated = svc.run(read)
    document = chart(points, before, plant.tz_of(line), plant.open_clock(line).calendar, start, end)
    return {
        "line": line,
        "station": station,
        "measurement": found.name,
        "label": found.label,
        "unit": found.unit,
        "product": product,
        "option": found.option,
        "from": format_time(start),
        "to": format_time(end),
        "truncated": truncated,
        **document,
    }


def may_see_spc(who, line: str) -> bool:
    """Tell whether a signed-in person may see a line's SPC charts (their area and their site)."""
    plant = services().plant
    return auth.may(who, "spc") and auth.may_see_line(who, line, lambda i: plant.line(i).site_id)


@api(
    blueprint,
    "GET",
    "/spc",
    "One test measurement's I-MR chart: points, baseline limits, run-rule violations, Cp/Cpk per shift and day",
    {
        200: "the chart (docs/kpis.md, SPC)",
        400: "unknown line, station, measurement or product, or a bad range",
        401: "no key, no session",
        403: "your account sees another site only",
        404: "no history yet",
    },
    (
        Param("line", required=True, description="a line id"),
        Param("station", description="the test station (default: the one that measures it)"),
        Param("measurement", required=True, description="a measurement of the station's gate, e.g. charge"),
        Param("product", description="the choice the measurement depends on, e.g. AS12 (default: the first)"),
        Param("from", "date-time", description="range start (default: to − 24 h)"),
        Param("to", "date-time", description="range end (default: the latest recorded event)"),
    ),
    auth="api_key_or_session",
    tags=("kpis",),
)
def spc(line: str, station: str | None, measurement: str, product: str | None, **times):
    svc = services()
    who = current_who()
    keyed = has_key()
    if not keyed and not auth.may(who, "spc"):
        return unauthorised()
    named = resolve(line, station, measurement, product)
    if isinstance(named, Refusal):
        return error(named.status, named.code, named.message)
    if not keyed and not may_see_spc(who, line):
        return error(403, "forbidden", "your account sees only its own site")
    end = times.get("to") or svc.history.last_time(line_events_only=True)
    if end is None:
        return error(404, "no_data", "no events recorded yet")
    start = times.get("from") or end - DEFAULT_RANGE
    if not start < end or end - start > MAX_RANGE:
        return error(400, "bad_range", f"need from < to, at most {MAX_RANGE.days} days apart")
    at, found, chosen = named
    return flask.jsonify(spc_chart(line, at, found, chosen, start, end))
