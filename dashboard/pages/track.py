"""Public tracker of one order (/track/<token>): its configuration and its unit moving, live.

Reached only through the unguessable token; it renders nothing but that order's view.
"""

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from dash_socketio import DashSocketIO

from dashboard import ids
from dashboard.components.not_found import not_found
from dashboard.components.order_timeline import (
    configuration_card,
    feedback_card,
    headline,
    report_links,
    share_card,
    stepper,
)
from dashboard.i18n import language, texts
from dashboard.realtime import current_live

dash.register_page(__name__, path_template="/track/<token>", title="Your order · Transparent Factory")


def layout(token=None, thanks=None, lang=None, **_query):
    """Return the tracker of the order behind ``token`` in the viewer's language, or the 404 content."""
    lang = language(lang)
    t = texts(lang)
    _status, view = current_live().find_order(token, flask.request.remote_addr or "?")
    if view is None:
        return not_found(t)
    link = f"{flask.request.host_url}track/{token}"
    return html.Main(
        className="page track",
        children=[
            DashSocketIO(
                id=ids.TRACK_SOCKET, eventNames=["order"], options={"auth": {"view": "track", "token": token}}
            ),
            dcc.Store(id=ids.TRACK_TEXTS, data=t),
            html.Nav(
                html.A(t["switch"], href=f"/track/{token}?lang={t['switch_to']}", hrefLang=t["switch_to"]),
                className="lang-switch",
            ),
            html.H1(headline(view, t), id=ids.TRACK_HEADLINE),
            html.Div(t["connecting"], id=ids.TRACK_STATUS, className="freshness"),
            html.Div(id=ids.TRACK_ETA, className="eta"),
            configuration_card(view, t),
            stepper(view),
            report_links(token, t),
            feedback_card(token, thanks == "1", t),
            share_card(link, t),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="tf", function_name="applyOrderFrame"),
    Output({"type": ids.TRACK_STEP, "station": ALL}, "className"),
    Output({"type": ids.TRACK_STEP_TIME, "station": ALL}, "children"),
    Output(ids.TRACK_HEADLINE, "children"),
    Output(ids.TRACK_ETA, "children"),
    Input(ids.TRACK_SOCKET, "data-order"),
    State(ids.TRACK_TEXTS, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="tf", function_name="showConnection"),
    Output(ids.TRACK_STATUS, "children"),
    Output(ids.TRACK_STATUS, "className"),
    Input(ids.TRACK_SOCKET, "connected"),
    Input(ids.TRACK_SOCKET, "data-order"),
    State(ids.TRACK_TEXTS, "data"),
)
