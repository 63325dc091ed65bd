"""Executive view (/exec): KPI history of the enterprise, a site, a line or a station over whole days.

Pick a range and a site or line (or click one in the comparisons, then a station); every chart
and the CSV export follow. Built from the history's rollups, so a month answers within a couple
of seconds even after a restart. Every callback asks auth on the server: an executive or admin
session, and an executive bound to a site sees that site only.
"""

from datetime import date, timedelta

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard import ids
from dashboard.components.exec_figures import charts, to_csv
from dashboard.components.kpi_strip import kpi_tile
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from factory.exec_view import ScopeError, default_range, exec_view
from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/exec", title="Executive · Transparent Factory")

CHARTS = (
    "oee_trend",
    "sites",
    "lines",
    "throughput_day",
    "throughput_hour",
    "lead_time",
    "on_time",
    "defects",
    "downtime",
    "option_mix",
    "stations",
)
TILES = (
    ("oee", "OEE", "pct"),
    ("availability", "Availability", "pct"),
    ("performance", "Performance", "pct"),
    ("quality", "Quality", "pct"),
    ("units_completed", "Completed", "int"),
    ("first_pass_yield", "FPY", "pct"),
    ("plan_attainment", "Plan", "pct"),
    ("on_time_delivery", "On time", "pct"),
    ("lead_time_avg_s", "Lead time", "h"),
    ("mtbf_s", "MTBF", "h"),
    ("mttr_s", "MTTR", "min"),
)
UNITS = {
    "pct": lambda v: f"{v * 100:.1f} %",
    "int": lambda v: f"{v:,}",
    "h": lambda v: f"{v / 3600:.1f} h",
    "min": lambda v: f"{v / 60:.0f} min",
}


def _allowed() -> bool:
    return auth.may(current_who(), "exec")


def _now():
    svc = services()
    with svc.live.lock:
        latest = svc.live.state.last_event_time
    return latest or svc.history.last_time(line_events_only=True)


def _names(line_id: str | None) -> dict:
    plant = services().plant
    return {
        "sites": {s.id: s.name for s in plant.sites},
        "lines": {ln.id: ln.name for ln in plant.lines},
        "stations": {s.id: s.name for s in plant.line(line_id).stations} if line_id else {},
        "products": {pid: p.name for pid, p in plant.products.items()},
        "options": {pid: {o.id: o.label for o in p.options} for pid, p in plant.products.items()},
        "choices": {pid: {o.id: {c.id: c.label for c in o.choices} for o in p.options}
                    for pid, p in plant.products.items()},
        "reasons": {code: plant.downtime.name(code) for code in plant.downtime.reasons},
    }  # fmt: skip


def layout(**_query):
    """Return the executive page, to executives and admins only."""
    who = current_who()
    if who is None or not auth.may(who, "exec"):
        return sign_in_needed()
    plant = services().plant
    now = _now()
    first, last = default_range(plant, now) if now is not None else (date.today() - timedelta(days=29), date.today())
    sites = [s for s in plant.sites if who.site_id in (None, s.id)]
    site = sites[0].id if who.site_id else None
    # The first view comes with the page: a second round trip for the figures would hold the
    # page back by one request (docs/benchmarks.md, "Executive view"); changes go through show().
    tiles, figures, error, crumbs = _content(first.isoformat(), last.isoformat(), site, None, None)
    return html.Main(
        className="page exec",
        children=[
            office_header(
                "Enterprise performance" if who.site_id is None else f"{sites[0].name}: performance",
                [
                    *([("Orders", "/orders")] if auth.may(who, "orders") else []),
                    *([("Demand", "/demand")] if auth.may_see_demand(who) else []),
                    ("What if", "/whatif"),
                    ("SPC", "/spc"),
                    ("Alarm journal", "/alarms"),
                ],
            ),
            html.Div(
                className="exec-controls",
                children=[
                    dcc.DatePickerRange(
                        id=ids.EXEC_RANGE,
                        start_date=first.isoformat(),
                        end_date=last.isoformat(),
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        minimum_nights=0,
                    ),
                    dcc.Dropdown(
                        id=ids.EXEC_SITE,
                        options=[{"label": s.name, "value": s.id} for s in sites],
                        value=site,
                        clearable=who.site_id is None,
                        placeholder="All sites",
                        className="exec-dropdown",
                    ),
                    dcc.Dropdown(
                        id=ids.EXEC_LINE,
                        options=[{"label": ln.name, "value": ln.id} for s in sites for ln in s.lines],
                        placeholder="All lines",
                        className="exec-dropdown",
                    ),
                    dcc.Dropdown(
                        id=ids.EXEC_STATION, options=[], placeholder="All stations", className="exec-dropdown"
                    ),
                    html.Button("Download CSV", id=ids.EXEC_CSV, className="button"),
                    dcc.Download(id=ids.EXEC_DOWNLOAD),
                ],
            ),
            html.Div(
                className="exec-crumbs",
                children=[
                    html.Button("Enterprise", id=ids.EXEC_CRUMB_PLANT, className="crumb"),
                    html.Span(crumbs, id=ids.EXEC_CRUMBS),
                ],
            ),
            html.Div(error, id=ids.EXEC_ERROR, className="exec-error", role="alert"),
            dcc.Loading(
                type="dot",
                children=[
                    html.Div(tiles, id=ids.EXEC_HEADLINE, className="exec-headline"),
                    html.Div(
                        [
                            dcc.Graph(
                                id=ids.exec_chart(name),
                                config={"displaylogo": False},
                                className=f"exec-chart {name}",
                                **({"figure": figures[name]} if name in figures else {}),
                            )
                            for name in CHARTS
                        ],
                        className="exec-grid",
                    ),
                ],
            ),
        ],
    )


def _tiles(headline: dict) -> list:
    return [
        kpi_tile(label, "—" if headline.get(key) is None else UNITS[unit](headline[key])) for key, label, unit in TILES
    ]


def _view(start_date, end_date, site, line, station):
    try:
        first, last = date.fromisoformat(str(start_date)), date.fromisoformat(str(end_date))
    except ValueError:
        raise ScopeError("choose a start and an end date") from None
    svc = services()
    who = current_who()
    now = _now()
    if now is None:
        raise ScopeError("no history yet")
    allowed = None if who is None or who.site_id is None else {who.site_id}
    return svc.run(
        lambda: exec_view(
            svc.history, svc.plant, first, last, now, line or None, station or None, site or None, allowed
        )
    )


def _content(start_date, end_date, site, line, station) -> tuple[list, dict, str, list]:
    """Return the headline tiles, each chart's figure by name, an error text and the crumbs."""
    try:
        view = _view(start_date, end_date, site, line, station)
    except ScopeError as exc:
        return [], {}, str(exc), []
    names = _names(line)
    shown = charts(view, names)
    scope = view["scope"]
    crumbs = [
        f" › {names['sites'][scope['site']]}" if scope["site"] else "",
        f" › {names['lines'][line]}" if line else "",
        f" › {names['stations'][station]}" if station else "",
    ]
    return _tiles(view["headline"]), {name: chart["figure"] for name, chart in shown.items()}, "", crumbs


@callback(
    Output(ids.EXEC_HEADLINE, "children"),
    Output({"type": ids.EXEC_CHART, "chart": ALL}, "figure"),
    Output(ids.EXEC_ERROR, "children"),
    Output(ids.EXEC_CRUMBS, "children"),
    Input(ids.EXEC_RANGE, "start_date"),
    Input(ids.EXEC_RANGE, "end_date"),
    Input(ids.EXEC_SITE, "value"),
    Input(ids.EXEC_LINE, "value"),
    Input(ids.EXEC_STATION, "value"),
    prevent_initial_call=True,  # the page's layout carries the first view
)
def show(start_date, end_date, site, line, station):
    """Draw every chart for the chosen range and scope."""
    outputs = dash.ctx.outputs_list[1]
    if not _allowed():
        return [], [dash.no_update] * len(outputs), "Sign in as an executive to see this page.", ""
    tiles, figures, error, crumbs = _content(start_date, end_date, site, line, station)
    if error:
        return [], [dash.no_update] * len(outputs), error, ""
    names = [o["id"].get("chart") if isinstance(o.get("id"), dict) else None for o in outputs]
    shown = [figures.get(name, dash.no_update) for name in names]
    return tiles, shown, "", crumbs


@callback(
    Output(ids.EXEC_SITE, "value"),
    Output(ids.EXEC_LINE, "value"),
    Output(ids.EXEC_STATION, "options"),
    Output(ids.EXEC_STATION, "value"),
    Input(ids.EXEC_LINE, "value"),
    Input(ids.exec_chart("sites"), "clickData"),
    Input(ids.exec_chart("lines"), "clickData"),
    Input(ids.exec_chart("stations"), "clickData"),
    Input(ids.EXEC_CRUMB_PLANT, "n_clicks"),
    State(ids.EXEC_SITE, "value"),
    State(ids.EXEC_STATION, "value"),
    prevent_initial_call=True,
)
def drill(line, site_click, line_click, station_click, _top, site, station):
    """Move the scope down (a clicked site, line or station) or back up to the enterprise."""
    who = current_who()
    if who is None or not auth.may(who, "exec"):
        return dash.no_update, dash.no_update, [], None
    plant = services().plant
    mine = who.site_id
    trigger = dash.ctx.triggered_id
    if trigger == ids.EXEC_CRUMB_PLANT:
        return mine, None, [], None
    if isinstance(trigger, dict) and trigger.get("chart") == "sites":
        clicked = _clicked(site_click)
        return (clicked if plant.has_site(clicked) and mine in (None, clicked) else mine), None, [], None
    if isinstance(trigger, dict) and trigger.get("chart") == "lines":
        line, station = _clicked(line_click), None
    elif isinstance(trigger, dict) and trigger.get("chart") == "stations":
        station = _clicked(station_click)
    else:
        station = None  # a new line from the dropdown starts at its top
    if not isinstance(line, str) or not plant.has_line(line) or mine not in (None, plant.line(line).site_id):
        return dash.no_update, None, [], None
    stations = plant.line(line).stations
    if station not in {s.id for s in stations}:
        station = None
    return plant.line(line).site_id, line, [{"label": s.name, "value": s.id} for s in stations], station


def _clicked(click) -> str | None:
    try:
        return str(click["points"][0]["customdata"])
    except (TypeError, KeyError, IndexError):
        return None


@callback(
    Output(ids.EXEC_DOWNLOAD, "data"),
    Input(ids.EXEC_CSV, "n_clicks"),
    State(ids.EXEC_RANGE, "start_date"),
    State(ids.EXEC_RANGE, "end_date"),
    State(ids.EXEC_SITE, "value"),
    State(ids.EXEC_LINE, "value"),
    State(ids.EXEC_STATION, "value"),
    prevent_initial_call=True,
)
def download(clicks, start_date, end_date, site, line, station):
    """Send what the page shows as CSV."""
    if not clicks or not _allowed():
        return dash.no_update
    try:
        view = _view(start_date, end_date, site, line, station)
    except ScopeError:
        return dash.no_update
    scope = "-".join(filter(None, [view["scope"]["site"], line, station])) or "enterprise"
    return dcc.send_string(
        to_csv(view, charts(view, _names(line))),
        f"kpis-{scope}-{view['scope']['first']}-{view['scope']['last']}.csv",
        type="text/csv",
    )
