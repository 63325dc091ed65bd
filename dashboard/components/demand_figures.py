"""What the demand page draws for one product (factory/demand.py), as Dash tables and Plotly dicts.

House style of the executive figures: grey carries the data, blue marks what the chart is
about, no red (the floor keeps it for alarms). Option and choice names come from the factory
file in the viewer's language; the page's own words from dashboard/i18n.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import dcc, html

from dashboard.components.exec_figures import BLUE, GREY, LIGHT, _layout, _pct_axis
from dashboard.components.kpi_strip import kpi_tile
from factory.demand import TOP, ProductDemand
from factory.layout import Product

SHADES = (BLUE, GREY, "#7a869a", "#a7b0be", "#3c4043")


def describe(product: Product, options: dict[str, str], lang: str, missing: str = "—") -> str:
    """Return a configuration in words: "Model: 12,000 BTU/h · Front panel: Pearl white"."""
    parts = []
    for option in product.options:
        chosen = options.get(option.id, "")
        label, choice = product.choice_label(option.id, chosen, lang)
        parts.append(f"{label}: {choice if chosen else missing}")
    return " · ".join(parts)


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def headline(d: ProductDemand, t: dict[str, str]) -> list:
    """Return the tiles over the product's demand."""
    n = lambda count: "—" if count is None else t["variants_n"].format(n=count)  # noqa: E731
    return [
        kpi_tile(t["wishes"], f"{d.wishes:,}"),
        kpi_tile(t["orders"], f"{d.orders:,}"),
        kpi_tile(t["abandoned"], f"{d.abandoned:,}"),
        kpi_tile(t["distinct"], f"{len(d.combinations):,}"),
        kpi_tile(t["cover_orders"], n(d.cover_orders)),
        kpi_tile(t["cover_wishes"], n(d.cover_wishes)),
        kpi_tile(t["served"], f"{_pct(d.served)} · {n(len(d.variants))}"),
    ]


def _table(headers: list[str], rows: list[list[Any]]) -> html.Table:
    return html.Table(
        className="demand-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
    )


def top_table(d: ProductDemand, product: Product, t: dict[str, str], lang: str) -> html.Table:
    """Return the most frequent combinations with their wishes, share and orders."""
    rows = [
        [i + 1, describe(product, c.options, lang, t["missing"]), f"{c.wishes:,}", _pct(c.share), f"{c.orders:,}"]
        for i, c in enumerate(d.combinations[:TOP])
    ]
    return _table([t["rank"], t["configuration"], t["wishes"], t["share"], t["orders"]], rows)


def variants_table(d: ProductDemand, product: Product, t: dict[str, str], lang: str) -> html.Table:
    """Return the suggested variants with the wishes each serves, exactly and in all."""
    rows = [
        [i + 1, describe(product, v.options, lang, t["missing"]), f"{v.wishes:,}", _pct(v.share), f"{v.exact:,}"]
        for i, v in enumerate(d.variants)
    ]
    return _table([t["rank"], t["configuration"], t["serves"], t["share"], t["exactly"]], rows)


def concentration(d: ProductDemand, t: dict[str, str]) -> dict[str, Any]:
    """Return the cumulative share of wishes and of orders against the number of combinations, with the 80 % mark."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t["of_wishes"],
            "x": list(range(1, len(d.cumulative_wishes) + 1)),
            "y": d.cumulative_wishes,
            "line": {"color": GREY, "shape": "hv"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t["of_orders"],
            "x": list(range(1, len(d.cumulative_orders) + 1)),
            "y": d.cumulative_orders,
            "line": {"color": BLUE, "shape": "hv", "width": 3},
        },
    ]
    mark = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": 0.8,
        "y1": 0.8,
        "line": {"color": LIGHT, "dash": "dash"},
    }
    note = {"xref": "paper", "x": 1, "y": 0.8, "text": t["mark"], "showarrow": False, "yanchor": "bottom"}
    return {
        "data": traces,
        "layout": _layout(
            t["concentration"],
            yaxis={**_pct_axis(), "range": [0, 1.02]},
            xaxis={"title": {"text": t["combinations_axis"]}, "dtick": 1 if len(d.combinations) <= 30 else None},
            shapes=[mark],
            annotations=[note],
        ),
    }


def variant_shares(d: ProductDemand, product: Product, t: dict[str, str], lang: str) -> dict[str, Any]:
    """Return each suggested variant's share of demand: exactly as wished, and within one option."""
    names = [f"#{i + 1}" for i in range(len(d.variants))]  # the table beside it says what each is
    described = [describe(product, v.options, lang, t["missing"]) for v in d.variants]
    exact = [v.exact / d.wishes for v in d.variants]
    near = [(v.wishes - v.exact) / d.wishes for v in d.variants]
    bar = {"type": "bar", "orientation": "h", "y": names, "hovertext": described}
    return {
        "data": [
            {**bar, "name": t["exactly"], "x": exact, "marker": {"color": BLUE}},
            {**bar, "name": t["within"], "x": near, "marker": {"color": LIGHT}},
        ],
        "layout": _layout(
            t["variant_shares"],
            barmode="stack",
            xaxis={"tickformat": ".0%", "range": [0, 1]},
            yaxis={"autorange": "reversed", "automargin": True},
            height=max(220, 40 * len(names) + 110),
            margin={"l": 40, "r": 10, "t": 40, "b": 30},
        ),
    }


def trend(d: ProductDemand, product: Product, t: dict[str, str], lang: str) -> dict[str, Any]:
    """Return wishes per day of the most frequent combinations (and the rest together)."""
    days = [day.isoformat() for day in d.trend.days]
    traces = []
    for i, (options, counts) in enumerate(d.trend.series):
        name = t["other"] if options is None else describe(product, options, lang, t["missing"])
        colour = LIGHT if options is None else SHADES[i % len(SHADES)]
        line = {"color": colour, "width": 3 if i == 0 else 1.5, **({"dash": "dot"} if options is None else {})}
        traces.append({"type": "scatter", "mode": "lines+markers", "name": name, "x": days, "y": counts, "line": line})
    # Whole days on the axis: left to itself, Plotly spreads one or two days over milliseconds.
    xaxis: dict[str, Any] = {"type": "date", "tickformat": "%e %b"}
    if len(days) <= 14:
        xaxis["dtick"] = 86_400_000
    if d.trend.days:
        first, last = d.trend.days[0], d.trend.days[-1]
        xaxis["range"] = [(first - timedelta(days=1)).isoformat(), (last + timedelta(days=1)).isoformat()]
    layout = _layout(t["trend"], height=360, legend={"orientation": "h", "y": -0.25, "font": {"size": 11}})
    layout["xaxis"] = {**layout.get("xaxis", {}), **xaxis}
    layout["yaxis"] = {**layout.get("yaxis", {}), "rangemode": "tozero"}
    return {"data": traces, "layout": layout}


def content(d: ProductDemand, product: Product, t: dict[str, str], lang: str) -> list:
    """Return everything the page shows about one product's demand."""

    def graph(figure: dict[str, Any]) -> dcc.Graph:
        return dcc.Graph(figure=figure, config={"displaylogo": False}, className="exec-chart")

    return [
        html.Div(headline(d, t), className="exec-headline"),
        html.Div(
            className="demand-grid",
            children=[
                html.Section([html.H2(t["top"]), top_table(d, product, t, lang)], className="demand-panel"),
                graph(concentration(d, t)),
                html.Section(
                    [
                        html.H2(t["suggested"]),
                        variants_table(d, product, t, lang),
                        html.P(t["serve_note"] if d.tolerance else t["serve_exact"], className="muted"),
                    ],
                    className="demand-panel",
                ),
                graph(variant_shares(d, product, t, lang)),
                graph(trend(d, product, t, lang)),
            ],
        ),
    ]
