"""The /spc page's figure and table from a chart document (web/spc_api.py's), pure functions."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html
from plotly.subplots import make_subplots

RULE_TEXT = {
    "1": "1: beyond 3σ",
    "2": "2: nine on one side",
    "3": "3: six rising or falling",
    "5": "5: two of three beyond 2σ",
}


def _level(fig: go.Figure, y: float | None, name: str, color: str, dash: str, row: int) -> None:
    if y is not None:
        fig.add_hline(
            y=y,
            line={"color": color, "dash": dash, "width": 1},
            row=row,
            col=1,
            annotation_text=name,
            annotation_position="right",
        )


def imr_figure(doc: dict[str, Any]) -> go.Figure:
    """Return the individuals chart over the moving-range chart, with limits, specs and violations."""
    points = doc["points"]
    times = [p["time"] for p in points]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.06,
        subplot_titles=(f"{doc['label']} ({doc['unit']}), {doc['product']}", "Moving range"),
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=[p["value"] for p in points],
            mode="lines+markers",
            name="value",
            text=[p["unit_code"] for p in points],
            line={"color": "#4a5a6a", "width": 1},
            marker={"size": 4},
        ),
        row=1,
        col=1,
    )
    broken = [p for p in points if p["rules"]]
    fig.add_trace(
        go.Scatter(
            x=[p["time"] for p in broken],
            y=[p["value"] for p in broken],
            mode="markers",
            name="rule broken",
            text=[", ".join(RULE_TEXT[r] for r in p["rules"]) for p in broken],
            marker={"color": "#c62828", "size": 9, "symbol": "x"},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=times[1:],
            y=[p["mr"] for p in points[1:]],
            mode="lines+markers",
            name="MR",
            line={"color": "#4a5a6a", "width": 1},
            marker={"size": 3},
        ),
        row=2,
        col=1,
    )
    limits, spec = doc["limits"], doc["spec"]
    if limits is not None:
        _level(fig, limits["center"], "X̄", "#2e7d32", "solid", 1)
        _level(fig, limits["ucl"], "UCL", "#ef6c00", "dash", 1)
        _level(fig, limits["lcl"], "LCL", "#ef6c00", "dash", 1)
        _level(fig, limits["mr_bar"], "MR̄", "#2e7d32", "solid", 2)
        _level(fig, limits["mr_ucl"], "UCL", "#ef6c00", "dash", 2)
    _level(fig, spec["lower"], "LSL", "#c62828", "dot", 1)
    _level(fig, spec["upper"], "USL", "#c62828", "dot", 1)
    fig.update_layout(
        height=520,
        margin={"l": 50, "r": 60, "t": 40, "b": 30},
        showlegend=False,
        plot_bgcolor="#ffffff",
        uirevision=f"{doc['line']}/{doc['measurement']}/{doc['product']}",
    )
    return fig


def _figure(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def capability_table(doc: dict[str, Any]) -> html.Table:
    """Return Cp, Cpk, Pp and Ppk per shift, then per day."""
    rows = [("shift", r) for r in doc["capability"]["shifts"]] + [("day", r) for r in doc["capability"]["days"]]
    head = html.Tr([html.Th(h) for h in ("Day", "Shift", "n", "Mean", "Cp", "Cpk", "Pp", "Ppk", "Note")])
    body = [
        html.Tr(
            className=f"spc-{kind}",
            children=[
                html.Td(r["day"]),
                html.Td(r.get("shift", "whole day")),
                html.Td(str(r["n"])),
                html.Td(_figure(r["mean"])),
                *(html.Td(_figure(r[k])) for k in ("cp", "cpk", "pp", "ppk")),
                html.Td((r["note"] or "").replace("_", " ")),
            ],
        )
        for kind, r in rows
    ]
    return html.Table(className="spc-table", children=[html.Thead(head), html.Tbody(body)])
