"""A station on the floor map: its name, state, the units at it, the queue in front of it.

Drawn once by the page; assets/tf-floor.js fills state, chips and queue from every frame.
"""

from __future__ import annotations

from dash import html

from dashboard.components.data_attrs import data
from factory.layout import Line

# Grey is normal (ISA-101): only states that need someone's attention (factory.alarms) get a
# colour (style.css).
STATUS_LABEL = {
    "running": "running",
    "blocked": "blocked",
    "starved": "starved",
    "down": "DOWN",
    "changeover": "changeover",
    "idle": "planned stop",
}
KIND_LABEL = {"down": "DOWN", "blocked": "BLOCKED", "starved": "STARVED", "spc": "SPC"}


def station_tile(station_id: str, name: str, position: int) -> html.Div:
    """Return the empty tile of one station (its contents arrive with the first frame)."""
    return html.Div(
        className="station-tile",
        children=[
            html.Div([html.Span(f"{position}", className="station-pos"), name], className="station-name"),
            html.Div("…", className="station-status"),
            html.Div(className="station-units"),
            html.Div(["queue ", html.Span("0", className="station-queue-n")], className="station-queue"),
        ],
        **data(station=station_id),
    )


def line_map(line: Line) -> html.Div:
    """Return the stations of a line as tiles in flow order."""
    return html.Div(
        [station_tile(s.id, s.name, i + 1) for i, s in enumerate(line.stations)],
        className="line-map",
        style={"--stations": len(line.stations)},
    )
