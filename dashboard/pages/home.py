"""Landing page: what this is and where the floor screens are."""
import dash
from dash import html

from dashboard.realtime import current_live

dash.register_page(__name__, path="/", title="Transparent Factory")


def layout(**_query):
    """Return the landing page with a link to each line's floor screen."""
    plant = current_live().plant
    return html.Main(
        className="page home",
        children=[
            html.H1("Transparent Factory"),
            html.P(f"{plant.site_name}: every custom-made unit, live, station by station."),
            html.H2("Floor screens"),
            html.Ul([html.Li(html.A(line.name, href=f"/floor?line={line.id}")) for line in plant.lines]),
            html.P("Customers follow their own unit through the private link they received with the order.",
                   className="muted"),
        ],
    )
