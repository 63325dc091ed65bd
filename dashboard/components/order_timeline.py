"""The customer's view of one order: configuration card and the station stepper."""
from __future__ import annotations

from typing import Any

import segno
from dash import html

from dashboard import ids

STATUS_TEXT = {
    "ordered": "Order received, waiting to start",
    "in_production": "Being built",  # shown only between events that name a station
    "in_rework": "Back for a re-check after a test",
    "completed": "Built, tested and loaded",
    "shipped": "On its way to you",
    "scrapped": "Did not pass its final tests",
}


# Sent to the browser with the page (assets/live.js words live updates with these), so the
# wording lives here only.
HEADLINE_TEXT = {
    "at": "Now at: {}", "next": "Next: {}", **STATUS_TEXT,
    "finish": "Ready around {expected}, by {latest} at the latest",
    "finish_one": "Ready around {expected}",
    "finished": "Finished {expected}",
    "ship": "Leaves the plant about {expected}",
    "ahead": "{n} orders ahead of yours",
    "ahead_one": "1 order ahead of yours",
}


def headline(view: dict[str, Any]) -> str:
    """Return the one-line status shown above the stepper."""
    if view["current_station"]:
        return HEADLINE_TEXT["at"].format(view["current_station"])
    if view["waiting_for"]:
        return HEADLINE_TEXT["next"].format(view["waiting_for"])
    return HEADLINE_TEXT[view["status"]]


def configuration_card(view: dict[str, Any]) -> html.Div:
    """Return what the customer ordered and the unit's code."""
    return html.Div(
        className="card",
        children=[
            html.H2(view["product"]),
            html.Dl([item for option in view["options"]
                     for item in (html.Dt(option["label"]), html.Dd(option["value"]))]),
            html.Div(["Unit code ", html.Code(view["unit_code"], className="unit-code")], className="unit-id"),
            html.Div(["Order ", html.Span(view["order_id"])], className="muted"),
        ],
    )


def stepper(view: dict[str, Any]) -> html.Ol:
    """Return the stations in flow order, each marked done, current or pending."""
    return html.Ol(
        className="stepper",
        children=[
            html.Li(
                id=ids.track_step(step["id"]),
                className=f"step step-{step['state']}",
                children=[
                    html.Span(className="step-dot"),
                    html.Span(step["name"], className="step-name"),
                    html.Span(id=ids.track_step_time(step["id"]), className="step-time"),
                ],
            )
            for step in view["steps"]
        ],
    )


def report_links(token: str) -> html.Div:
    """Return the download links of the unit's test report."""
    return html.Div(className="card report", children=[
        html.H2("Test report"),
        html.P("Every measurement of your unit's end-of-line tests, against its limits.", className="muted"),
        html.A("Download PDF", href=f"/api/orders/{token}/report.pdf", className="button", download=""),
        html.A("Download CSV", href=f"/api/orders/{token}/report.csv", className="button", download=""),
    ])


def share_card(link: str) -> html.Div:
    """Return the QR code of this tracking link, to open it on another device."""
    svg = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    return html.Div(className="card share", children=[
        html.H2("Open on another device"),
        html.Img(src=svg, alt="QR code of this tracking link", className="qr"),
    ])


def feedback_card(token: str, thanked: bool) -> html.Div:
    """Return a plain form (it works without script) to rate the order and leave a comment."""
    if thanked:
        return html.Div(className="card feedback", children=[html.H2("Thank you"),
                                                               html.P("Your feedback reached the factory.")])
    return html.Div(className="card feedback", children=[
        html.H2("How are we doing?"),
        html.Form(method="post", action=f"/api/orders/{token}/feedback", children=[
            html.Label(["Rating ", html.Select(name="rating", children=[
                html.Option("–", value=""), *[html.Option("★" * n, value=str(n)) for n in range(5, 0, -1)]])]),
            html.Textarea(name="comment", maxLength=2000, rows=3, placeholder="Anything you would like to tell us"),
            html.Button("Send", type="submit", className="button"),
        ]),
    ])
