"""The customer's view of one order: configuration card and the station stepper."""

from __future__ import annotations

from typing import Any

import segno
from dash import html

from dashboard.components.data_attrs import data


def headline(view: dict[str, Any], names: dict[str, Any], t: dict[str, str]) -> str:
    """Return the one-line status shown above the stepper (assets/tf-track.js words updates the same)."""
    if view["current_station"]:
        return t["at"].format(names["stations"].get(view["current_station"], view["current_station"]))
    if view["waiting_for"]:
        return t["next"].format(names["stations"].get(view["waiting_for"], view["waiting_for"]))
    return t[view["status"]]


def configuration_card(view: dict[str, Any], names: dict[str, Any], t: dict[str, str]) -> html.Div:
    """Return what the customer ordered and the unit's code, in the viewer's language."""
    return html.Div(
        className="card",
        children=[
            html.H2(names["product"]),
            html.Dl(
                [
                    item
                    for option, choice in view["options"].items()
                    for item in (
                        html.Dt(names["options"].get(option, option)),
                        html.Dd(names["choices"].get(option, {}).get(choice, choice)),
                    )
                ]
            ),
            html.Div([f"{t['unit_code']} ", html.Code(view["unit_code"], className="unit-code")], className="unit-id"),
            html.Div([f"{t['order']} ", html.Span(view["order_id"])], className="muted"),
        ],
    )


def stepper(view: dict[str, Any], names: dict[str, Any]) -> html.Ol:
    """Return the stations in flow order, each marked done, current or pending."""
    return html.Ol(
        className="stepper",
        children=[
            html.Li(
                className=f"step step-{step['state']}",
                children=[
                    html.Span(className="step-dot"),
                    html.Span(names["stations"].get(step["id"], step["id"]), className="step-name"),
                    html.Span(className="step-time"),
                ],
                **data(station=step["id"]),
            )
            for step in view["steps"]
        ],
    )


def report_links(token: str, lang: str, t: dict[str, str]) -> html.Div:
    """Return the download links of the unit's test report and its signed birth certificate."""
    return html.Div(
        className="card report",
        children=[
            html.H2(t["report"]),
            html.P(t["report_note"], className="muted"),
            html.P(id="track-tests"),
            html.A(t["pdf"], href=f"/api/orders/{token}/report.pdf?lang={lang}", className="button", download=""),
            html.A(t["csv"], href=f"/api/orders/{token}/report.csv?lang={lang}", className="button", download=""),
            html.H3(t["certificate"]),
            html.P(t["certificate_note"], className="muted"),
            html.A(t["pdf"], href=f"/track/{token}/certificate.pdf?lang={lang}", className="button", download=""),
            html.A("JSON", href=f"/track/{token}/certificate.json?lang={lang}", className="button", download=""),
            html.A(t["verify"], href=f"/verify?lang={lang}", className="button"),
        ],
    )


def parts_card(t: dict[str, str]) -> html.Div:
    """Return the card listing the unit's main components as they are fitted (filled by tf-track.js)."""
    return html.Div(
        className="card parts",
        children=[html.H2(t["parts"]), html.P(t["parts_none"], id="track-parts-none", className="muted"),
                  html.Ul(id="track-parts", className="parts-list")],
    )  # fmt: skip


def share_card(link: str, t: dict[str, str]) -> html.Div:
    """Return the QR code of this tracking link, to open it on another device."""
    svg = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    return html.Div(
        className="card share",
        children=[
            html.H2(t["share"]),
            html.Img(src=svg, alt=t["qr_alt"], className="qr"),
        ],
    )


def feedback_card(token: str, thanked: bool, t: dict[str, str]) -> html.Div:
    """Return a plain form (it works without script) to rate the order and leave a comment."""
    if thanked:
        return html.Div(className="card feedback", children=[html.H2(t["thanks"]), html.P(t["thanks_note"])])
    return html.Div(
        className="card feedback",
        children=[
            html.H2(t["feedback"]),
            html.Form(
                method="post",
                action=f"/api/orders/{token}/feedback",
                children=[
                    html.Label(
                        [
                            f"{t['rating']} ",
                            html.Select(
                                name="rating",
                                children=[
                                    html.Option("–", value=""),
                                    *[html.Option("★" * n, value=str(n)) for n in range(5, 0, -1)],
                                ],
                            ),
                        ]
                    ),
                    html.Textarea(name="comment", maxLength=2000, rows=3, placeholder=t["comment"]),
                    html.Button(t["send"], type="submit", className="button"),
                ],
            ),
        ],
    )
