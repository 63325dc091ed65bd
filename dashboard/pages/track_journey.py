"""A customer's time-lapse of their unit (/track/<token>/replay): its stations in the order it went through them.

Behind the same unguessable token as the tracker, and built from that unit's own events only
(GET /api/orders/<token>/journey); assets/tf-journey.js plays it over the stepper, a station at
a time, with the time the unit spent at each and where a test sent it back for repair.
"""

import dash
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

from dashboard import ids
from dashboard.components.not_found import not_found
from dashboard.components.order_timeline import stepper
from dashboard.i18n import language, texts
from web.ratelimit import client_key
from web.services import services

# order=0: Dash takes the first page whose template matches, and /track/<token> matches this
# path too (its wildcard spans slashes); this page must be asked first.
dash.register_page(
    __name__, path_template="/track/<token>/replay", order=0, title="Your unit's journey · Transparent Factory"
)


def layout(token=None, lang=None, **_query):
    """Return the time-lapse of the order behind ``token``, or the 404 content."""
    lang = language(lang)
    t = texts(lang)
    svc = services()
    _status, view = svc.queries.find_order(token, client_key())
    if view is None:
        return not_found(t)
    names = svc.queries.names(view["line"], lang)
    settings = {"token": token, "texts": t, "names": names, "locale": t["locale"]}
    return html.Main(
        className="page track journey",
        lang=t["locale"],
        children=[
            dcc.Store(id=ids.JOURNEY_SETTINGS, data=settings),
            html.Div(id=ids.JOURNEY_SINK, hidden=True),
            html.H1(t["journey_title"]),
            html.P([html.Span(t["unit_code"] + " ", className="muted"), html.Strong(view["unit_code"])]),
            html.Button(t["journey_play"], id="journey-play", className="button", disabled=True),
            stepper({"steps": [{**step, "state": "pending"} for step in view["steps"]]}, names),
            html.Ol(id="journey-log", className="journey-log"),
            html.A(t["journey_back"], href=f"/track/{token}?lang={lang}", className="journey-back"),
        ],
    )


clientside_callback(
    ClientsideFunction(namespace="tf_journey", function_name="start"),
    Output(ids.JOURNEY_SINK, "children"),
    Input(ids.JOURNEY_SETTINGS, "data"),
)
