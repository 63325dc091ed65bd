"""The floor screen's KPI tiles: OEE with its factors, this hour against plan, yield, WIP and pace."""

from __future__ import annotations

from dash import html

from dashboard import ids

# (KPI name, label); values are filled by assets/live.js from each frame's "kpis".
HEADLINE = ("oee", "OEE")
FACTORS = (("availability", "A"), ("performance", "P"), ("quality", "Q"))
OTHERS = (
    ("throughput_per_hour", "Units / hour"),
    ("first_pass_yield", "First pass yield"),
    ("units_completed", "Completed"),
    ("takt_time_s", "Takt"),
    ("actual_cycle_time_s", "Actual cycle"),
)


def kpi_tile(label: str, value: str = "…", value_id=None, class_name: str = "kpi") -> html.Div:
    """Return one KPI tile: a small label over a large value (``value_id`` when it is updated live)."""
    value_div = (
        html.Div(value, className="kpi-value")
        if value_id is None
        else html.Div(value, id=value_id, className="kpi-value")
    )
    return html.Div([html.Div(label, className="kpi-label"), value_div], className=class_name)


def kpi_strip(wip: int) -> html.Section:
    """Return the KPI tiles: shift figures empty until the first frame, WIP live from the floor view."""
    return html.Section(
        id=ids.panel("kpis"),
        className="panel kpis",
        children=[
            html.Div(
                [
                    kpi_tile(HEADLINE[1], value_id=ids.floor_kpi(HEADLINE[0]), class_name="kpi-main"),
                    html.Div(
                        [
                            kpi_tile(label, value_id=ids.floor_kpi(name), class_name="kpi-factor")
                            for name, label in FACTORS
                        ],
                        className="kpi-factors",
                    ),
                ],
                className="kpi-oee",
            ),
            kpi_tile("This hour / plan", value_id=ids.FLOOR_THIS_HOUR),
            *[kpi_tile(label, value_id=ids.floor_kpi(name)) for name, label in OTHERS],
            kpi_tile("WIP", str(wip), ids.FLOOR_WIP),
            html.Div(
                [html.Div(id=ids.FLOOR_KPI_PERIOD), html.Div(id=ids.panel_age("kpis"), className="panel-age")],
                className="kpi-period",
            ),
        ],
    )
