"""Landing page: what this is and where the screens are, for each role."""

import dash
from dash import html

from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/", title="Transparent Factory")


def layout(**_query):
    """Return the landing page; the lines only to those who may see the floor, and only their site's."""
    plant = services().plant
    who = current_who()
    offices = [
        html.Li(html.A(label, href=path))
        for area, label, path in (
            ("exec", "Performance (KPI history)", "/exec"),
            ("demand", "Demand (what customers wish for)", "/demand"),
            ("orders", "Orders", "/orders"),
            ("alarms", "Alarm journal", "/alarms"),
            ("downtime", "Downtime: classify stops", "/downtime"),
            ("spc", "SPC: test measurements", "/spc"),
            ("reports", "End-of-shift reports", "/reports"),
            ("inbox", "Customer feedback", "/inbox"),
            ("dead_letters", "Refused events (dead letters)", "/dead-letters"),
            ("admin", "Users and wall screens", "/admin/users"),
            ("admin", "Audit log", "/admin/audit"),
        )
        if (auth.may_see_demand(who) if area == "demand" else auth.may(who, area))
    ]
    if auth.may(who, "floor"):
        sites = []
        for site in plant.sites:
            lines = [ln for ln in site.lines if auth.may_see_line(who, ln.id, lambda i: plant.line(i).site_id)]
            if lines:
                sites.append(
                    html.Li(
                        [
                            html.Strong(site.name),
                            html.Span(f"  {site.timezone}", className="muted"),
                            html.Ul([html.Li(html.A(ln.name, href=f"/floor?line={ln.id}")) for ln in lines]),
                        ]
                    )
                )
        staff = [
            html.H2("Floor screens"),
            html.Ul(sites),
            *([html.H2("Office"), html.Ul(offices)] if offices else []),
            html.P(html.A("Sign out", href="/logout")),
        ]
    else:
        staff = [html.P(html.A("Staff sign in", href="/login"))]
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
