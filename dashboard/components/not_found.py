"""The one "not found" content, shared by unknown paths and unknown or malformed tokens."""
from dash import html


def not_found() -> html.Main:
    """Return the 404 content; it says nothing about why, so tokens cannot be probed."""
    return html.Main(
        className="page not-found",
        children=[
            html.H1("Page not found"),
            html.P("This link does not lead to an order. Check that you copied the whole link."),
        ],
    )
