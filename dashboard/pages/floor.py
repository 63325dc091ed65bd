"""Floor screen of one line (/floor?line=<id>[&kiosk=1][&rotate=<s>]): andon, KPIs, line map, hour by hour.

Everything on it is pushed over the line's Socket.IO room and applied in the browser
(assets/live.js); a browser-only timer ages each panel, greys out stale ones and, in kiosk mode,
moves on to the next line. The one server callback acknowledges an andon alarm, for managers.
"""

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from dash_socketio import DashSocketIO

from dashboard import auth, ids
from dashboard.components.andon import KIND_LABEL, NO_ALARMS, andon_rows
from dashboard.components.hourly_chart import chart_layout
from dashboard.components.kpi_strip import kpi_strip
from dashboard.components.not_found import not_found, sign_in_needed
from dashboard.components.station_tile import STATUS_LABEL, line_map
from dashboard.i18n import texts
from dashboard.realtime import current_live

dash.register_page(__name__, path="/floor", title="Floor · Transparent Factory")

# socket.io-client's own reconnection: exponential from 1 s up to 10 s, each delay jittered
# by ±50 % so a hall of screens does not reconnect in step after a server restart.
RECONNECT = {"reconnectionDelay": 1000, "reconnectionDelayMax": 10_000, "randomizationFactor": 0.5}
PANELS = ("andon", "kpis", "map", "hourly")


def _rotate_s(value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if 5 <= seconds <= 24 * 3600 else 0.0  # nonsense values mean "stay"


def _panel_head(title: str, name: str) -> html.Div:
    return html.Div([html.H2(title), html.Span(id=ids.panel_age(name), className="panel-age")], className="panel-head")


def layout(line=None, kiosk=None, rotate=None, **_query):
    """Return the floor screen of ``line`` (default: the plant's first line), to entitled roles only."""
    role = auth.current_role()
    if not auth.may(role, "floor"):
        return sign_in_needed()
    live = current_live()
    line_id = line or live.plant.lines[0].id
    if not live.plant.has_line(line_id):
        return not_found()
    is_kiosk = kiosk == "1"
    can_ack = auth.may(role, "acknowledge")
    view = live.floor(line_id)
    settings = {
        "labels": STATUS_LABEL,
        "kinds": KIND_LABEL,
        "no_alarms": NO_ALARMS,
        "can_ack": can_ack,
        "stale_after_s": flask.current_app.config.get("TF_STALE_AFTER_S", 15.0),
        "kpi_interval_s": live.kpi_interval_s,
        "rotate_s": _rotate_s(rotate) if is_kiosk else 0.0,
        "utc_offset_h": live.plant.utc_offset_h,
        "lines": [other.id for other in live.plant.lines],
        "line": line_id,
        **{k: texts("en")[k] for k in ("live", "reconnecting")},
    }
    return html.Main(
        className="page floor" + (" kiosk" if is_kiosk else ""),
        children=[
            DashSocketIO(
                id=ids.FLOOR_SOCKET,
                eventNames=["floor"],
                options={"auth": {"view": "floor", "line": line_id}, **RECONNECT},
            ),
            dcc.Store(id=ids.FLOOR_SETTINGS, data=settings),
            dcc.Interval(id=ids.FLOOR_TICK, interval=1000),
            html.Header(
                className="floor-header",
                children=[
                    html.H1(view["line"]["name"]),
                    html.Nav(
                        [
                            html.A(
                                other.name,
                                href=f"/floor?line={other.id}",
                                className="current" if other.id == line_id else "",
                            )
                            for other in live.plant.lines
                        ],
                        className="line-links",
                    ),
                    html.Div("Connecting…", id=ids.FLOOR_STATUS, className="freshness"),
                ],
            ),
            html.Div(id=ids.FLOOR_BANNER, className="connection-banner hidden"),
            html.Section(
                id=ids.panel("andon"),
                className="panel andon",
                children=[
                    html.Ul(andon_rows(view, can_ack), id=ids.FLOOR_ANDON, className="andon-list"),
                    html.Span(id=ids.panel_age("andon"), className="panel-age"),
                    html.Div(id=ids.ANDON_ACK_RESULT, className="andon-result", role="status"),
                ],
            ),
            kpi_strip(view["wip"]),
            html.Section(
                id=ids.panel("map"), className="panel map", children=[_panel_head("Line", "map"), line_map(view)]
            ),
            html.Section(
                id=ids.panel("hourly"),
                className="panel hourly",
                children=[
                    _panel_head("Hour by hour: completed vs plan", "hourly"),
                    dcc.Graph(
                        id=ids.FLOOR_HOURLY,
                        figure={"data": [], "layout": chart_layout()},
                        config={"staticPlot": True, "responsive": True},
                        className="hourly-graph",
                    ),
                ],
            ),
        ],
    )


# Frames are applied in the browser: no server round trip per update and per screen.
clientside_callback(
    ClientsideFunction(namespace="tf", function_name="applyFloorFrame"),
    Output({"type": ids.STATION_UNITS, "station": ALL}, "children"),
    Output({"type": ids.STATION_QUEUE, "station": ALL}, "children"),
    Output({"type": ids.STATION_TILE, "station": ALL}, "className"),
    Output({"type": ids.STATION_STATUS, "station": ALL}, "children"),
    Output(ids.FLOOR_WIP, "children"),
    Output({"type": ids.FLOOR_KPI, "kpi": ALL}, "children"),
    Output(ids.FLOOR_KPI_PERIOD, "children"),
    Output(ids.FLOOR_THIS_HOUR, "children"),
    Output(ids.FLOOR_ANDON, "children"),
    Output(ids.FLOOR_HOURLY, "figure"),
    Input(ids.FLOOR_SOCKET, "data-floor"),
    State(ids.FLOOR_SETTINGS, "data"),
    State(ids.FLOOR_HOURLY, "figure"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="tf", function_name="tickFloor"),
    Output({"type": ids.PANEL_AGE, "panel": ALL}, "children"),
    Output({"type": ids.PANEL, "panel": ALL}, "className"),
    Output(ids.FLOOR_BANNER, "children"),
    Output(ids.FLOOR_BANNER, "className"),
    Output(ids.FLOOR_STATUS, "children"),
    Output(ids.FLOOR_STATUS, "className"),
    Input(ids.FLOOR_TICK, "n_intervals"),
    Input(ids.FLOOR_SOCKET, "connected"),
    State(ids.FLOOR_SETTINGS, "data"),
)


@callback(
    Output(ids.ANDON_ACK_RESULT, "children"),
    Input({"type": ids.ANDON_ACK, "alarm": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def acknowledge(_clicks):
    """Acknowledge the alarm whose button was pressed, if the caller is a signed-in manager."""
    if not auth.may(auth.current_role(), "acknowledge"):
        return "Only a signed-in manager can acknowledge alarms."
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not dash.ctx.triggered or not dash.ctx.triggered[0].get("value"):
        return dash.no_update  # a button appeared; nobody pressed it
    result = current_live().acknowledge(trigger.get("alarm"), str(flask.session.get("user", "?")))
    return {"ok": "", "already": "Already acknowledged.", "unknown": "That alarm has cleared."}[result]
