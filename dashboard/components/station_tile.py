"""A station on the floor map: name, the units at it, the queue in front of it."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids


def unit_chip(unit_code: str) -> html.Span:
    """Return the chip of one unit: its code, serial emphasised (assets/live.js builds the same)."""
    prefix, _, serial = unit_code.rpartition("-")
    return html.Span(
        [
            html.Span(f"{prefix}-" if prefix else "", className="chip-prefix"),
            html.Span(serial, className="chip-serial"),
        ],
        className="unit-chip",
        title=unit_code,
        key=unit_code,
    )


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


def tile_class(station: dict[str, Any]) -> str:
    """Return the tile's class: its state, and ``alert`` while the station raises an alarm (assets/live.js does the same)."""
    return f"station-tile state-{station['status']}" + (" alert" if station["alert"] else "")


def status_text(station: dict[str, Any]) -> str:
    """Return the tile's state label, with the breakdown reason when down."""
    label = STATUS_LABEL[station["status"]]
    return f"{label}: {station['down_reason']}" if station["status"] == "down" and station["down_reason"] else label


def station_tile(station: dict[str, Any], position: int) -> html.Div:
    """Return the tile of one station of a floor view."""
    return html.Div(
        id=ids.station_tile(station["id"]),
        className=tile_class(station),
        children=[
            html.Div([html.Span(f"{position}", className="station-pos"), station["name"]], className="station-name"),
            html.Div(status_text(station), id=ids.station_status(station["id"]), className="station-status"),
            html.Div(
                [unit_chip(code) for code in station["units"]],
                id=ids.station_units(station["id"]),
                className="station-units",
            ),
            html.Div(
                ["queue ", html.Span(str(station["queue"]), id=ids.station_queue(station["id"]))],
                className="station-queue",
            ),
        ],
        **{"data-station": station["id"]},
    )


def line_map(view: dict[str, Any]) -> html.Div:
    """Return the stations of a line as tiles in flow order."""
    return html.Div(
        [station_tile(s, i + 1) for i, s in enumerate(view["stations"])],
        className="line-map",
        style={"--stations": len(view["stations"])},
    )
