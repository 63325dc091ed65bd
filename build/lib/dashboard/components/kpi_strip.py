"""The floor screen's KPI tiles: OEE with its factors, this hour against plan, yield, WIP and pace."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.components.data_attrs import data

# (KPI name, label); values are filled by assets/tf-floor.js from each frame's "kpis".
HEADLINE = ("oee", "OEE")
FACTORS = (("availability", "A"), ("performance", "P"), ("quality", "Q"))
OTHERS = (
    ("throughput_per_hour", "Units / hour"),
    ("first_pass_yield", "First pass yield"),
    ("units_completed", "Completed"),
    ("takt_time_s", "Takt"),
    ("actual_cycle_time_s", "Actual cycle"),
)


def kpi_tile(
    label: str, value: str = "…", value_id: str | None = None, kpi: str | None = None, class_name: str = "kpi"
) -> html.Div:
    """Return one KPI tile: a small label over a large value (``kpi`` names the value a live page fills in)."""
    attributes: dict[str, Any] = {"id": value_id} if value_id else {}
    if kpi:
        attributes |= data(kpi=kpi)
    return html.Div(
        [html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value", **attributes)],
        className=class_name,
    )


def kpi_strip() -> html.Section:
    """Return the KPI tiles, empty until the first frame."""
    return html.Section(
        className="panel kpis",
        **data(panel="kpis"),
        children=[
            html.Div(
                [
                    kpi_tile(HEADLINE[1], kpi=HEADLINE[0], class_name="kpi-main"),
                    html.Div(
                        [kpi_tile(label, kpi=name, class_name="kpi-factor") for name, label in FACTORS],
                        className="kpi-factors",
                    ),
                ],
                className="kpi-oee",
            ),
            kpi_tile("This hour / plan", value_id="floor-this-hour"),
            *[kpi_tile(label, kpi=name) for name, label in OTHERS],
            kpi_tile("WIP", value_id="floor-wip"),
            html.Div(
                [html.Div(id="floor-kpi-period"), html.Div(className="panel-age", **data(age="kpis"))],
                className="kpi-period",
            ),
        ],
    )
