"""Statistical process control (/spc, managers and executives): the I-MR chart of one test measurement.

Pick a line, a measurement of one of its test stations, the product it is kept apart for and a
range; the page shows the individuals and moving-range chart against limits from the baseline
(docs/kpis.md, "SPC"), the specification limits, the points that break a run rule, and Cp/Cpk
per shift and day. The document is web/spc_api.py's, so page and API agree. Every layout and
callback asks auth on the server; an account bound to a site sees that site's lines only. The
floor's SPC alarms link here with their line, measurement, product and day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from dashboard.components.spc_figures import RULE_TEXT, capability_table, imr_figure
from factory.spc_chart import catalogue
from web import auth
from web.services import current_who, services
from web.spc_api import Refusal, resolve, spc_chart

dash.register_page(__name__, path="/spc", title="SPC · Transparent Factory")

LINE, MEASURE, PRODUCT, RANGE, CONTENT = "spc-line", "spc-measurement", "spc-product", "spc-range", "spc-content"
CHART = "spc-chart"
RANGES = {"8h": timedelta(hours=8), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
DEFAULT_RANGE = "24h"


def _lines(who) -> list[str]:
    """The lines with test stations this person may see."""
    plant = services().plant
    charted = catalogue(plant)
    return [ln.id for ln in plant.lines if charted.get(ln.id) and auth.may_see_line(who, ln.id, _site_of)]


def _site_of(line_id: str) -> str:
    return services().plant.line(line_id).site_id


def _measures(line: str) -> list[dict[str, str]]:
    return [
        {"label": f"{m.label} ({station})", "value": f"{station}/{name}"}
        for station, found in catalogue(services().plant)[line].items()
        for name, m in found.items()
    ]


def _products(line: str, measure: str | None) -> list[str]:
    station, _, name = (measure or "").partition("/")
    found = catalogue(services().plant)[line].get(station, {}).get(name)
    return list(found.products) if found else []


def _range(line: str, chosen: str | None) -> tuple[datetime, datetime] | None:
    """[start, end) of a range choice: the last hours before the latest event, or one site-local day."""
    svc = services()
    if isinstance(chosen, str) and chosen.startswith("day:"):
        try:
            day = date.fromisoformat(chosen[4:])
        except ValueError:
            return None
        tz = svc.plant.tz_of(line)
        start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
        return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    end = svc.run(lambda: svc.history.last_time(line_events_only=True)) or datetime.now(UTC)
    return end - RANGES.get(chosen or DEFAULT_RANGE, RANGES[DEFAULT_RANGE]), end


def _content(who, line, measure, product, chosen) -> list:
    """The chart and table of a choice, or what is wrong with it (nothing of a line not theirs)."""
    if not isinstance(line, str) or line not in _lines(who):
        return [html.P("Choose one of your lines.", className="muted")]
    station, _, name = measure.partition("/") if isinstance(measure, str) else ("", "", "")
    named = resolve(line, station or None, name, product if isinstance(product, str) else None)
    span = _range(line, chosen)
    if isinstance(named, Refusal) or span is None:
        return [html.P(named.message if isinstance(named, Refusal) else "Choose a range.", className="muted")]
    doc = spc_chart(line, named[0], named[1], named[2], *span)
    return _shown(doc)


def _shown(doc: dict[str, Any]) -> list:
    limits, baseline = doc["limits"], doc["baseline"]
    if limits is None:
        said = f"{len(doc['points'])} points: too few for control limits (a baseline needs 20)."
    else:
        where = "before the range" if baseline["kind"] == "before" else "at the start of the range"
        said = (
            f"{len(doc['points'])} points. Limits from {baseline['n']} points {where}: "
            f"X̄ {limits['center']:.4g}, UCL {limits['ucl']:.4g}, LCL {limits['lcl']:.4g}."
        )
    broken = {r: len(ix) for r, ix in doc["violations"].items() if ix}
    rules = "; ".join(f"rule {RULE_TEXT[r]} ×{n}" for r, n in broken.items()) or "no rule broken"
    return [
        html.P([said, " ", html.Strong(rules, className="spc-verdict")], className="spc-summary"),
        dcc.Graph(id=CHART, figure=imr_figure(doc), config={"displaylogo": False}),
        html.H2("Capability per shift and day"),
        capability_table(doc),
    ]


def layout(line=None, station=None, measurement=None, product=None, day=None, **_query):
    """Return the SPC page, to managers, executives and admins (their site's lines)."""
    who = current_who()
    if not auth.may(who, "spc"):
        return sign_in_needed()
    lines = _lines(who)
    if not lines:
        return html.Main(className="page spc", children=[html.H1("SPC"), html.P("No test station on your lines.")])
    plant = services().plant
    line = line if line in lines else lines[0]
    measures = _measures(line)
    wanted = f"{station}/{measurement}" if station and measurement else None
    measure = wanted if any(m["value"] == wanted for m in measures) else measures[0]["value"]
    products = _products(line, measure)
    product = product if product in products else products[0]
    ranges = [{"label": f"last {k}", "value": k} for k in RANGES]
    chosen = DEFAULT_RANGE
    if isinstance(day, str) and len(day) == 10:
        ranges.append({"label": day, "value": f"day:{day}"})
        chosen = f"day:{day}"
    return html.Main(
        className="page exec spc",
        children=[
            office_header("Statistical process control", (("Floor", f"/floor?line={line}"),)),
            html.Div(
                className="exec-controls",
                children=[
                    html.Label("Line", htmlFor=LINE),
                    dcc.Dropdown(
                        id=LINE,
                        options=[{"label": plant.line(i).name, "value": i} for i in lines],
                        value=line,
                        clearable=False,
                        className="exec-dropdown",
                    ),
                    html.Label("Measurement", htmlFor=MEASURE),
                    dcc.Dropdown(
                        id=MEASURE, options=measures, value=measure, clearable=False, className="exec-dropdown"
                    ),
                    html.Label("Product", htmlFor=PRODUCT),
                    dcc.Dropdown(
                        id=PRODUCT, options=products, value=product, clearable=False, className="exec-dropdown"
                    ),
                    html.Label("Range", htmlFor=RANGE),
                    dcc.Dropdown(id=RANGE, options=ranges, value=chosen, clearable=False, className="exec-dropdown"),
                ],
            ),
            dcc.Loading(type="dot", children=html.Div(_content(who, line, measure, product, chosen), id=CONTENT)),
        ],
    )


@callback(
    Output(MEASURE, "options"),
    Output(MEASURE, "value"),
    Input(LINE, "value"),
    prevent_initial_call=True,  # the layout carries the first choice
)
def pick_line(line):
    """The measurements of the chosen line."""
    who = current_who()
    if not auth.may(who, "spc") or not isinstance(line, str) or line not in _lines(who):
        return [], None
    measures = _measures(line)
    return measures, measures[0]["value"]


@callback(
    Output(PRODUCT, "options"),
    Output(PRODUCT, "value"),
    Input(MEASURE, "value"),
    State(LINE, "value"),
    prevent_initial_call=True,
)
def pick_measurement(measure, line):
    """The products the chosen measurement is kept apart for."""
    who = current_who()
    if not auth.may(who, "spc") or not isinstance(line, str) or line not in _lines(who):
        return [], None
    products = _products(line, measure if isinstance(measure, str) else None)
    return products, (products[0] if products else None)


@callback(
    Output(CONTENT, "children"),
    Input(PRODUCT, "value"),
    Input(RANGE, "value"),
    State(LINE, "value"),
    State(MEASURE, "value"),
    prevent_initial_call=True,
)
def show(product, chosen, line, measure):
    """The chart and the capability table of the choice."""
    who = current_who()
    if not auth.may(who, "spc"):
        return []
    return _content(who, line, measure, product, chosen if isinstance(chosen, str) else None)
