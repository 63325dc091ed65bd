"""A station on the floor map: name, the units at it, the queue in front of it."""
from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids


def unit_chip(unit_code: str) -> html.Span:
    """Return the chip of one unit: its code, serial emphasised (assets/live.js builds the same)."""
    prefix, _, serial = unit_code.rpartition("-")
    return html.Span(
        [html.Span(f"{prefix}-" if prefix else "", className="chip-prefix"), html.Span(serial, className="chip-serial")],
        className="unit-chip", title=unit_code, key=unit_code,
    )


def station_tile(station: dict[str, Any], position: int) -> html.Div:
    """Return the tile of one station of a floor view."""
    return html.Div(
        className="station-tile",
        children=[
            html.Div([html.Span(f"{position}", className="station-pos"), station["name"]],
                     className="station-name"),
            html.Div([unit_chip(code) for code in station["units"]], id=ids.station_units(station["id"]),
                     className="station-units"),
            html.Div(["queue ", html.Span(str(station["queue"]), id=ids.station_queue(station["id"]))],
                     className="station-queue"),
        ],
        **{"data-station": station["id"]},
    )


def line_map(view: dict[str, Any]) -> html.Div:
    """Return the stations of a line as tiles in flow order."""
    return html.Div([station_tile(s, i + 1) for i, s in enumerate(view["stations"])], className="line-map",
                    style={"--stations": len(view["stations"])})
