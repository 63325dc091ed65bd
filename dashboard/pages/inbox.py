"""Customers' feedback (/inbox, managers): ratings and comments from the trackers, newest first.

Feedback is an event on the control log, so every worker's inbox holds the same messages.
A manager bound to a site sees that site's orders only.
"""

import dash
from dash import html

from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/inbox", title="Feedback · Transparent Factory")


def layout(**_query):
    """Return the inbox, to managers and admins only."""
    who = current_who()
    if not auth.may(who, "inbox"):
        return sign_in_needed()
    svc = services()
    plant = svc.plant
    with svc.live.lock:
        items = [
            f
            for f in reversed(svc.live.operations.feedback)
            if plant.has_line(f.line_id) and auth.may_see_line(who, f.line_id, lambda i: plant.line(i).site_id)
        ]
    rows = [
        html.Li(
            className="inbox-item",
            children=[
                html.Div(
                    [
                        html.Strong(f.unit_code),
                        html.Span(f"  {plant.line(f.line_id).name}", className="muted"),
                        html.Span(f"  {f.at:%Y-%m-%d %H:%M} UTC", className="muted"),
                    ]
                ),
                html.Div("★" * f.rating if f.rating else "", className="inbox-rating"),
                html.P(f.comment, className="inbox-comment"),
            ],
        )
        for f in items
    ]
    return html.Main(
        className="page inbox",
        children=[
            office_header("Customer feedback"),
            html.P(f"{len(items):,} messages", className="muted"),
            html.Ul(rows or [html.Li("No feedback yet.", className="muted")], className="inbox-list"),
        ],
    )
