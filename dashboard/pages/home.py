"""Landing page: what this is and where the floor screens are."""

import dash
from dash import html

from dashboard import auth
from dashboard.realtime import current_live

dash.register_page(__name__, path="/", title="Transparent Factory")


def layout(**_query):
    """Return the landing page; the list of lines only to those who may see the floor."""
    plant = current_live().plant
    role = auth.current_role()
    offices = [
        html.Li(html.A(label, href=path))
        for area, label, path in (("exec", "Plant performance (KPI history)", "/exec"), ("orders", "Orders", "/orders"))
        if auth.may(role, area)
    ]
    staff = (
        [
            html.H2("Floor screens"),
            html.Ul([html.Li(html.A(line.name, href=f"/floor?line={line.id}")) for line in plant.lines]),
            *([html.H2("Office"), html.Ul(offices)] if offices else []),
            html.P(html.A("Sign out", href="/logout")),
        ]
        if auth.may(role, "floor")
        else [html.P(html.A("Staff sign in", href="/login"))]
    )
    return html.Main(
        className="page home",
        children=[
            html.H1("Transparent Factory"),
            html.P("Every custom-made unit, live, station by station."),
            html.P(
                "Customers follow their own unit through the private link they received with the order.",
                className="muted",
            ),
            *staff,
        ],
    )
