"""What a page shows instead of data: not found (unknown paths and tokens alike), or sign in needed."""

from dash import html

from dashboard.i18n import texts


def not_found(t: dict[str, str] | None = None) -> html.Main:
    """Return the 404 content (in the tracker's language when given); it says nothing about why."""
    t = t or texts("en")
    return html.Main(className="page not-found", children=[html.H1(t["not_found"]), html.P(t["not_found_note"])])


def sign_in_needed() -> html.Main:
    """Return what a protected page shows to someone not entitled to it (no factory data)."""
    return html.Main(
        className="page not-found",
        children=[
            html.H1("Sign in to see this page"),
            html.P(html.A("Sign in", href="/login")),
        ],
    )
