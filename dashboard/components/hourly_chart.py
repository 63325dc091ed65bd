"""Hour-by-hour plan vs actual of a line: completed units per hour against what the open time allowed.

The window is the KPI tiles' (the shift under way, else the last 8 h), so the chart never holds
more than a dozen bars however long a wall screen runs. Python owns the look (``chart_layout``);
the traces travel with the KPIs in each floor frame and assets/live.js only swaps them in.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

INK, MUTED, PLAN = "#1d1f21", "#5f6368", "#1a5fb4"


def chart_layout() -> dict[str, Any]:
    """Return the chart's Plotly layout: large type, no chrome, grey bars and a blue plan line."""
    return {
        "margin": {"l": 48, "r": 12, "t": 8, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"size": 16, "color": INK},
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.12, "font": {"size": 14}},
        "xaxis": {"type": "category", "fixedrange": True},
        "yaxis": {"fixedrange": True, "gridcolor": "#d5d7d9", "rangemode": "tozero"},
        "barmode": "overlay",
        "bargap": 0.2,
        "autosize": True,
        "uirevision": "fixed",
    }


def chart_traces(hourly: list[dict[str, Any]], tz: tzinfo) -> list[dict[str, Any]]:
    """Return the chart's traces for the hourly rows of a KPI document, hours labelled in plant time."""
    labels = [datetime.fromisoformat(h["hour"]).astimezone(tz).strftime("%H:00") for h in hourly]
    return [
        # the plan as an outlined bar behind a narrower filled one: "how full is the hour"
        {
            "type": "bar",
            "name": "plan",
            "x": labels,
            "y": [h["plan"] for h in hourly],
            "marker": {"color": "rgba(26,95,180,0.08)", "line": {"color": PLAN, "width": 2}},
        },
        {
            "type": "bar",
            "name": "actual",
            "x": labels,
            "y": [h["actual"] for h in hourly],
            "width": 0.5,
            "marker": {"color": MUTED},
            "text": [h["actual"] for h in hourly],
            "textposition": "outside",
        },
    ]
