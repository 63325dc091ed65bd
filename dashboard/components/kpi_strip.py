"""The floor screen's KPI tiles: OEE with its factors, output, yield and pace of the shift."""
from __future__ import annotations

from dash import html

from dashboard import ids

# (KPI name, label); values are filled by assets/live.js from each frame's "kpis".
HEADLINE = ("oee", "OEE")
FACTORS = (("availability", "A"), ("performance", "P"), ("quality", "Q"))
OTHERS = (("throughput_per_hour", "Units / hour"), ("first_pass_yield", "First pass yield"),
          ("units_completed", "Completed"), ("takt_time_s", "Takt"), ("actual_cycle_time_s", "Actual cycle"))


def _value(name: str, label: str, class_name: str) -> html.Div:
    return html.Div([html.Div(label, className="kpi-label"), html.Div("…", id=ids.floor_kpi(name), className="kpi-value")],
                    className=class_name)


def kpi_strip() -> html.Section:
    """Return the KPI tiles, empty until the first frame arrives."""
    return html.Section(
        className="kpi-strip",
        children=[
            html.Div([_value(*HEADLINE, "kpi-main"),
                      html.Div([_value(name, label, "kpi-factor") for name, label in FACTORS], className="kpi-factors")],
                     className="kpi-oee"),
            *[_value(name, label, "kpi") for name, label in OTHERS],
            html.Div(id=ids.FLOOR_KPI_PERIOD, className="kpi-period"),
        ],
    )
