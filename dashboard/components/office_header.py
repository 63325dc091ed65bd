"""The heading of an office page: its title, links to the pages next to it, and signing out."""

from __future__ import annotations

from collections.abc import Iterable

from dash import html

FLOOR = (("Floor", "/floor"),)


def office_header(title: str, links: Iterable[tuple[str, str]] = FLOOR) -> html.Header:
    """Return the page's heading with its links (text, href) and a last one that signs out."""
    return html.Header(
        className="exec-header",
        children=[
            html.H1(title),
            html.Nav(
                [*(html.A(text, href=href) for text, href in links), html.A("Sign out", href="/logout")],
                className="exec-nav",
            ),
        ],
    )
