"""Executive view (/exec): KPI history of the plant, a line or a station over whole days.

Pick a range and a line (or click one in the line comparison, then a station); every chart and
the CSV export follow. Built from day rollups, so a month answers in well under two seconds.
Every callback asks auth on the server: an executive or admin session, nothing else.
"""

from datetime import date, timedelta

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard import auth, ids
from dashboard.components.exec_figures import charts, to_csv
from dashboard.components.kpi_strip import kpi_tile
from dashboard.components.not_found import sign_in_needed
from dashboard.realtime import current_live
from factory.exec_view import ScopeError, default_range, exec_view

dash.register_page(__name__, path="/exec", title="Executive · Transparent Factory")

CHARTS = (
    "oee_trend",
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
    return auth.may(auth.current_role(), "exec")


def _now():
    live = current_live()
    return live.state.last_event_time or live.history.last_time()


def _names() -> dict[str, str]:
    plant = current_live().plant
    return {
        **{s.id: s.name for line in plant.lines for s in line.stations},
        **{line.id: line.name for line in plant.lines},
    }


def layout(**_query):
    """Return the executive page, to executives and admins only."""
    if not _allowed():
        return sign_in_needed()
    plant = current_live().plant
    now = _now()
    first, last = default_range(plant, now) if now is not None else (date.today() - timedelta(days=29), date.today())
    return html.Main(
        className="page exec",
        children=[
            html.Header(
                className="exec-header",
                children=[
                    html.H1("Plant performance"),
                    html.Nav(
                        [
                            *([html.A("Orders", href="/orders")] if auth.may(auth.current_role(), "orders") else []),
                            html.A("Sign out", href="/logout"),
                        ],
                        className="exec-nav",
                    ),
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
                        id=ids.EXEC_LINE,
                        options=[{"label": line.name, "value": line.id} for line in plant.lines],
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
                    html.Button("Plant", id=ids.EXEC_CRUMB_PLANT, className="crumb"),
                    html.Span(id=ids.EXEC_CRUMBS),
                ],
            ),
            html.Div(id=ids.EXEC_ERROR, className="exec-error", role="alert"),
            dcc.Loading(
                type="dot",
                children=[
                    html.Div(id=ids.EXEC_HEADLINE, className="exec-headline"),
                    html.Div(
                        [
                            dcc.Graph(
                                id=ids.exec_chart(name), config={"displaylogo": False}, className=f"exec-chart {name}"
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


def _view(start_date, end_date, line, station):
    try:
        first, last = date.fromisoformat(str(start_date)), date.fromisoformat(str(end_date))
    except ValueError:
        raise ScopeError("choose a start and an end date") from None
    live = current_live()
    now = _now()
    if now is None:
        raise ScopeError("no history yet")
    return exec_view(live.history, live.plant, first, last, now, line or None, station or None)


@callback(
    Output(ids.EXEC_HEADLINE, "children"),
    Output({"type": ids.EXEC_CHART, "chart": ALL}, "figure"),
    Output(ids.EXEC_ERROR, "children"),
    Output(ids.EXEC_CRUMBS, "children"),
    Input(ids.EXEC_RANGE, "start_date"),
    Input(ids.EXEC_RANGE, "end_date"),
    Input(ids.EXEC_LINE, "value"),
    Input(ids.EXEC_STATION, "value"),
)
def show(start_date, end_date, line, station):
    """Draw every chart for the chosen range and scope."""
    outputs = dash.ctx.outputs_list[1]
    if not _allowed():
        return [], [dash.no_update] * len(outputs), "Sign in as an executive to see this page.", ""
    try:
        view = _view(start_date, end_date, line, station)
    except ScopeError as exc:
        return [], [dash.no_update] * len(outputs), str(exc), ""
    names = _names()
    shown = charts(view, names)
    figures = [
        shown[o["id"]["chart"]]["figure"]
        if isinstance(o.get("id"), dict) and o["id"].get("chart") in shown
        else dash.no_update
        for o in outputs
    ]
    crumbs = [f" › {names[line]}" if line else "", f" › {names[station]}" if station else ""]
    return _tiles(view["headline"]), figures, "", crumbs


@callback(
    Output(ids.EXEC_LINE, "value"),
    Output(ids.EXEC_STATION, "options"),
    Output(ids.EXEC_STATION, "value"),
    Input(ids.EXEC_LINE, "value"),
    Input(ids.exec_chart("lines"), "clickData"),
    Input(ids.exec_chart("stations"), "clickData"),
    Input(ids.EXEC_CRUMB_PLANT, "n_clicks"),
    State(ids.EXEC_STATION, "value"),
    prevent_initial_call=True,
)
def drill(line, line_click, station_click, _plant, station):
    """Move the scope down (a clicked line or station) or back up to the plant."""
    if not _allowed():
        return dash.no_update, [], None
    plant = current_live().plant
    trigger = dash.ctx.triggered_id
    if trigger == ids.EXEC_CRUMB_PLANT:
        return None, [], None
    if isinstance(trigger, dict) and trigger.get("chart") == "lines":
        line, station = _clicked(line_click), None
    elif isinstance(trigger, dict) and trigger.get("chart") == "stations":
        station = _clicked(station_click)
    else:
        station = None  # a new line from the dropdown starts at its top
    if not isinstance(line, str) or not plant.has_line(line):
        return None, [], None
    stations = plant.line(line).stations
    if station not in {s.id for s in stations}:
        station = None
    return line, [{"label": s.name, "value": s.id} for s in stations], station


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
    State(ids.EXEC_LINE, "value"),
    State(ids.EXEC_STATION, "value"),
    prevent_initial_call=True,
)
def download(clicks, start_date, end_date, line, station):
    """Send what the page shows as CSV."""
    if not clicks or not _allowed():
        return dash.no_update
    try:
        view = _view(start_date, end_date, line, station)
    except ScopeError:
        return dash.no_update
    scope = "-".join(filter(None, [line, station])) or "plant"
    return dcc.send_string(
        to_csv(view, charts(view, _names())),
        f"kpis-{scope}-{view['scope']['first']}-{view['scope']['last']}.csv",
        type="text/csv",
    )
