"""Floor screen of one line (/floor?line=<id>): station tiles in flow order, pushed live."""
import dash
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from dash_socketio import DashSocketIO

from dashboard import auth, ids
from dashboard.components.kpi_strip import kpi_strip
from dashboard.components.not_found import not_found, sign_in_needed
from dashboard.i18n import texts
from dashboard.components.station_tile import ALERT_AFTER_S, STATUS_LABEL, line_map
from dashboard.realtime import current_live

dash.register_page(__name__, path="/floor", title="Floor · Transparent Factory")


def layout(line=None, **_query):
    """Return the floor screen of ``line`` (default: the plant's first line), to entitled roles only."""
    if not auth.may(auth.current_role(), "floor"):
        return sign_in_needed()
    live = current_live()
    line_id = line or live.plant.lines[0].id
    if not live.plant.has_line(line_id):
        return not_found()
    view = live.floor(line_id)
    return html.Main(
        className="page floor",
        children=[
            DashSocketIO(id=ids.FLOOR_SOCKET, eventNames=["floor"],
                         options={"auth": {"view": "floor", "line": line_id}}),
            dcc.Store(id=ids.FLOOR_TEXTS, data={"labels": STATUS_LABEL, "alert_after_s": ALERT_AFTER_S,
                                               **{k: texts("en")[k] for k in ("live", "reconnecting")}}),
            html.Header(className="floor-header", children=[
                html.H1(view["line"]["name"]),
                html.Nav([html.A(other.name, href=f"/floor?line={other.id}",
                                 className="current" if other.id == line_id else "")
                          for other in live.plant.lines], className="line-links"),
                html.Div([html.Span("WIP "), html.B(str(view["wip"]), id=ids.FLOOR_WIP)], className="floor-counters"),
                html.Div("Connecting…", id=ids.FLOOR_STATUS, className="freshness"),
            ]),
            kpi_strip(),
            line_map(view),
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
    Input(ids.FLOOR_SOCKET, "data-floor"),
    State(ids.FLOOR_TEXTS, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="tf", function_name="showConnection"),
    Output(ids.FLOOR_STATUS, "children"),
    Output(ids.FLOOR_STATUS, "className"),
    Input(ids.FLOOR_SOCKET, "connected"),
    Input(ids.FLOOR_SOCKET, "data-floor"),
    State(ids.FLOOR_TEXTS, "data"),
)
