"""Hour-by-hour plan vs actual of a line: completed units per hour against what the open time allowed.

The window is the KPI tiles' (the shift under way, else the last 8 h), so the chart never holds
more than a dozen bars however long a wall screen runs. Python owns the look (``chart_layout``);
assets/tf-floor.js draws the bars from each frame's KPIs, hours in the site's own zone.
"""

from __future__ import annotations

from typing import Any

INK = "#1d1f21"


def chart_layout() -> dict[str, Any]:
    """Return the chart's Plotly layout: large type, no chrome, grey bars and a blue plan line."""
    return {
        "margin": {"l": 48, "r": 12, "t": 8, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"size": 16, "color": INK},
        "showlegend": True, "legend": {"orientation": "h", "x": 0, "y": 1.12, "font": {"size": 14}},
        "xaxis": {"type": "category", "fixedrange": True},
        "yaxis": {"fixedrange": True, "gridcolor": "#d5d7d9", "rangemode": "tozero"},
        "barmode": "overlay", "bargap": 0.2, "autosize": True, "uirevision": "fixed",
    }  # fmt: skip
