"""What a page shows instead of data: not found (unknown paths and tokens alike), or sign in needed."""
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


def sign_in_needed() -> html.Main:
    """Return what a protected page shows to someone not entitled to it (no factory data)."""
    return html.Main(className="page not-found", children=[
        html.H1("Sign in to see this page"),
        html.P(html.A("Sign in", href="/login")),
    ])
