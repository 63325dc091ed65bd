"""Public tracker of one order (/track/<token>): its configuration and its unit moving, live.

Reached only through the unguessable token; it renders nothing but that order's view, in the
viewer's language (names from the factory file), times in the viewer's zone (the browser's).
Frames of the order's room are drawn by assets/tf-track.js.
"""

import dash
import flask
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

from dashboard import ids
from dashboard.components.not_found import not_found
from dashboard.components.order_timeline import (
    configuration_card,
    feedback_card,
    headline,
    parts_card,
    report_links,
    share_card,
    stepper,
)
from dashboard.i18n import language, texts
from web.ratelimit import client_key
from web.services import services

dash.register_page(__name__, path_template="/track/<token>", title="Your order · Transparent Factory")


def layout(token=None, thanks=None, lang=None, **_query):
    """Return the tracker of the order behind ``token`` in the viewer's language, or the 404 content."""
    lang = language(lang)
    t = texts(lang)
    svc = services()
    _status, view = svc.queries.find_order(token, client_key())
    if view is None:
        return not_found(t)
    names = svc.queries.names(view["line"], lang)
    link = f"{flask.request.host_url}track/{token}"
    settings = {"token": token, "texts": t, "names": names, "locale": t["locale"], "push_url": svc.settings.push_url}
    return html.Main(
        className="page track",
        lang=t["locale"],
        children=[
            dcc.Store(id=ids.TRACK_SETTINGS, data=settings),
            html.Div(id=ids.TRACK_SINK, hidden=True),
            html.Nav(
                html.A(t["switch"], href=f"/track/{token}?lang={t['switch_to']}", hrefLang=t["switch_to"]),
                className="lang-switch",
            ),
            html.H1(headline(view, names, t), id="track-headline"),
            html.Div(t["connecting"], id=ids.TRACK_STATUS, className="freshness"),
            html.Div(id="track-eta", className="eta"),
            configuration_card(view, names, t),
            stepper(view, names),
            html.A(t["journey_link"], href=f"/track/{token}/replay?lang={lang}", className="journey-link"),
            parts_card(t),
            report_links(token, lang, t),
            feedback_card(token, thanks == "1", t),
            share_card(link, t),
        ],
    )


# The page's renderer (assets/tf-track.js) opens the order room's socket itself and draws its frames.
clientside_callback(
    ClientsideFunction(namespace="tf_track", function_name="start"),
    Output(ids.TRACK_SINK, "children"),
    Input(ids.TRACK_SETTINGS, "data"),
)
