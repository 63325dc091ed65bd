"""Figures of the executive page, as plain Plotly dicts built from an exec view (factory/exec_view.py).

Each chart is also a list of (series, x, y) rows, so the CSV export is exactly what is shown.
Grey carries the data; blue marks the one series a chart is about; no chart uses red, which the
floor keeps for alarms.
"""

from __future__ import annotations

from typing import Any

from web.csv_safe import csv_text

GREY, BLUE, LIGHT = "#5f6368", "#1a5fb4", "#9aa0a6"
FACTOR_COLOURS = {"oee": BLUE, "availability": "#7a869a", "performance": "#a7b0be", "quality": "#3c4043"}
LABELS = {
    "oee": "OEE",
    "availability": "Availability",
    "performance": "Performance",
    "quality": "Quality",
    "first_pass_yield": "First pass yield",
    "throughput_per_hour": "Units / hour",
    "units_completed": "Completed",
    "on_time_delivery": "On-time delivery",
    "utilisation": "Utilisation",
}
LEAD_BINS = 24


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "height": 300,
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"gridcolor": "#d5d7d9"},
        **extra,
    }


def _pct_axis() -> dict[str, Any]:
    return {"tickformat": ".0%", "rangemode": "tozero", "gridcolor": "#d5d7d9"}


def charts(view: dict[str, Any], names: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return every chart of the page: name -> {"figure": ..., "rows": [(series, x, y), ...]}."""
    days = view["days"]
    out: dict[str, dict[str, Any]] = {}

    def chart(name: str, title: str, traces: list[dict[str, Any]], **layout: Any) -> None:
        rows = [(t["name"], x, y) for t in traces for x, y in zip(t["x"], t["y"])]
        out[name] = {"figure": {"data": traces, "layout": _layout(title, **layout)}, "rows": rows}

    chart(
        "oee_trend",
        "OEE and its factors per day",
        [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": LABELS[k],
                "x": days,
                "y": view["trend"][k],
                "line": {"color": FACTOR_COLOURS[k], "width": 3 if k == "oee" else 1.5},
            }
            for k in FACTOR_COLOURS
        ],
        yaxis=_pct_axis(),
    )
    chart(
        "throughput_day",
        "Units completed per day",
        [{"type": "bar", "name": "completed", "x": days, "y": view["completed_per_day"], "marker": {"color": GREY}}],
    )
    hours = sorted(view["completed_per_hour"])
    chart(
        "throughput_hour",
        "Units completed per hour",
        [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "completed",
                "x": hours,
                "y": [view["completed_per_hour"][h] for h in hours],
                "line": {"color": GREY, "shape": "hv"},
            }
        ],
    )
    chart(
        "on_time",
        "On-time delivery per day (shipped by the promised date)",
        [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "on time",
                "x": days,
                "y": view["on_time_per_day"],
                "line": {"color": BLUE},
            }
        ],
        yaxis={**_pct_axis(), "range": [0, 1.05]},
    )
    edges, counts = histogram(view["lead_time_h"], LEAD_BINS)
    chart(
        "lead_time",
        "Lead time, order to completion (hours)",
        [
            {
                "type": "bar",
                "name": "units",
                "x": [f"{a:g}–{b:g}" for a, b in edges],
                "y": counts,
                "marker": {"color": GREY},
            }
        ],
        bargap=0.05,
    )
    share = view.get("downtime_classified_share")
    downtime_title = "Downtime Pareto (hours)" + (
        f" · {share:.0%} classified by people, the rest by machine code" if share is not None else ""
    )
    for name, title, key, unit in (
        ("defects", "Defect Pareto", "defect_pareto", "defects"),
        ("downtime", downtime_title, "downtime_pareto_s", "hours"),
    ):
        items = view[key]
        scale = 1 / 3600 if unit == "hours" else 1
        values = [round(i["value"] * scale, 2) for i in items]
        total = sum(values) or 1
        cumulative = [round(sum(values[: i + 1]) / total, 4) for i in range(len(values))]
        keys = [i["key"] for i in items]
        chart(
            name,
            title,
            [
                {
                    "type": "bar",
                    "name": unit,
                    "x": keys,
                    "y": values,
                    "marker": {"color": GREY},
                    **({"hovertext": [names.get("reasons", {}).get(k, k) for k in keys]} if name == "downtime" else {}),
                },
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": "cumulative share",
                    "x": keys,
                    "y": cumulative,
                    "yaxis": "y2",
                    "line": {"color": BLUE},
                },
            ],
            yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "range": [0, 1.05], "showgrid": False},
            margin={"l": 50, "r": 45, "t": 40, "b": 40},
        )
    mix_rows = []  # one horizontal bar per (product,) option and choice, as a share of that option's orders
    for product, options in view["option_mix"].items():
        for option, choices in options.items():
            total = sum(choices.values()) or 1
            for choice, n in choices.items():
                label = (f"{names['products'].get(product, product)} · " if len(view["option_mix"]) > 1 else "") + (
                    f"{names['options'].get(product, {}).get(option, option)}: "
                    f"{names['choices'].get(product, {}).get(option, {}).get(choice, choice)}"
                )
                mix_rows.append((label, round(n / total, 4), n))
    chart(
        "option_mix",
        "Option mix (share of orders placed, per option)",
        [
            {
                "type": "bar",
                "orientation": "h",
                "name": "share",
                "y": [r[0] for r in mix_rows],
                "x": [r[1] for r in mix_rows],
                "text": [f"{r[2]:,}" for r in mix_rows],
                "textposition": "auto",
                "marker": {"color": GREY},
            }
        ],
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed", "automargin": True},
        height=max(300, 22 * len(mix_rows) + 80),
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        showlegend=False,
    )
    site_ids = list(view["sites"])
    chart(
        "sites",
        "Site comparison (click a site to drill down)",
        [
            {
                "type": "bar",
                "name": LABELS[k],
                "x": [names["sites"].get(i, i) for i in site_ids],
                "customdata": site_ids,
                "y": [view["sites"][i][k] for i in site_ids],
                "marker": {"color": FACTOR_COLOURS.get(k, LIGHT)},
            }
            for k in ("oee", "availability", "performance", "quality", "first_pass_yield")
        ],
        yaxis=_pct_axis(),
        barmode="group",
    )
    line_ids = list(view["lines"])
    chart(
        "lines",
        "Line comparison (click a line to drill down)",
        [
            {
                "type": "bar",
                "name": LABELS[k],
                "x": [names["lines"].get(i, i) for i in line_ids],
                "customdata": line_ids,
                "y": [view["lines"][i][k] for i in line_ids],
                "marker": {"color": FACTOR_COLOURS.get(k, LIGHT)},
            }
            for k in ("oee", "availability", "performance", "quality", "first_pass_yield")
        ],
        yaxis=_pct_axis(),
        barmode="group",
    )
    station_ids = list(view["stations"])
    chart(
        "stations",
        "Stations: OEE and utilisation (click a station to drill down)",
        [
            {
                "type": "bar",
                "name": LABELS[k],
                "x": [names["stations"].get(i, i) for i in station_ids],
                "customdata": station_ids,
                "y": [view["stations"][i][k] for i in station_ids],
                "marker": {"color": FACTOR_COLOURS.get(k, LIGHT)},
            }
            for k in ("oee", "utilisation")
        ],
        yaxis=_pct_axis(),
        barmode="group",
    )
    return out


def histogram(values: list[float], bins: int) -> tuple[list[tuple[float, float]], list[int]]:
    """Return ``bins`` equal-width bins over round edges covering ``values``, and their counts."""
    if not values:
        return [], []
    top = max(values)
    width = next(w for w in (0.25, 0.5, 1, 2, 4, 6, 12, 24, 48, 96, 168, 10**9) if w * bins >= top)
    counts = [0] * bins
    for v in values:
        counts[min(int(v // width), bins - 1)] += 1
    while counts and counts[-1] == 0:
        counts.pop()
    return [(i * width, (i + 1) * width) for i in range(len(counts))], counts


def to_csv(view: dict[str, Any], shown: dict[str, dict[str, Any]]) -> str:
    """Return the shown charts and headline figures as one CSV (chart, series, x, y), every cell formula-safe."""
    scope = view["scope"]
    rows: list[list[Any]] = [
        [
            "# scope",
            scope["first"],
            scope["last"],
            scope.get("site") or "",
            scope["line"] or "",
            scope["station"] or "",
        ],
        ["chart", "series", "x", "y"],
    ]
    rows += [["headline", name, "", "" if value is None else value] for name, value in view["headline"].items()]
    rows += [
        [name, series, x, "" if y is None else y] for name, chart in shown.items() for series, x, y in chart["rows"]
    ]
    return csv_text(rows)
