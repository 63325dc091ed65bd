"""The floor screen's KPI tiles: OEE with its factors, this hour against plan, yield, WIP and pace."""
from __future__ import annotations

from dash import html

from dashboard import ids

# (KPI name, label); values are filled by assets/live.js from each frame's "kpis".
HEADLINE = ("oee", "OEE")
FACTORS = (("availability", "A"), ("performance", "P"), ("quality", "Q"))
OTHERS = (("throughput_per_hour", "Units / hour"), ("first_pass_yield", "First pass yield"),
          ("units_completed", "Completed"), ("takt_time_s", "Takt"), ("actual_cycle_time_s", "Actual cycle"))


def _value(label: str, value_id, class_name: str, value: str = "…") -> html.Div:
    return html.Div([html.Div(label, className="kpi-label"), html.Div(value, id=value_id, className="kpi-value")],
                    className=class_name)


def kpi_strip(wip: int) -> html.Section:
    """Return the KPI tiles: shift figures empty until the first frame, WIP live from the floor view."""
    return html.Section(
        id=ids.panel("kpis"),
        className="panel kpis",
        children=[
            html.Div([_value(HEADLINE[1], ids.floor_kpi(HEADLINE[0]), "kpi-main"),
                      html.Div([_value(label, ids.floor_kpi(name), "kpi-factor") for name, label in FACTORS],
                               className="kpi-factors")],
                     className="kpi-oee"),
            _value("This hour / plan", ids.FLOOR_THIS_HOUR, "kpi"),
            *[_value(label, ids.floor_kpi(name), "kpi") for name, label in OTHERS],
            _value("WIP", ids.FLOOR_WIP, "kpi", str(wip)),
            html.Div([html.Div(id=ids.FLOOR_KPI_PERIOD), html.Div(id=ids.panel_age("kpis"), className="panel-age")],
                     className="kpi-period"),
        ],
    )
