"""The audit log (/admin/audit, admins): people's actions, newest first, a page at a time, with a CSV export.

Rows come from the history's control events (web.audit), so every worker shows the same log and
a restart loses none of it. The log grows for years: a page holds 100 rows, read from where the
previous page ended; "Older" and "Newer" walk the pages. The export link asks GET /api/audit
for the same filters as CSV. Access is decided in the layout and again in the callback.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, ctx, dcc, html

from config import parse_timestamp
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from web import audit, auth
from web.admin_api import filters_of, format_cursor, parse_cursor
from web.services import current_who, services

dash.register_page(__name__, path="/admin/audit", title="Audit log · Transparent Factory")

P = "admin-audit-"
FROM, TO, USER, ACTION = P + "from", P + "to", P + "user", P + "action"
OLDER, NEWER, PAGES = P + "older", P + "newer", P + "pages"
TABLE, NOTE, CSV, ERROR = P + "table", P + "note", P + "csv", P + "error"
HEADER = ["Time (UTC)", "Who", "Action", "Target", "Details"]


def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(label), control], className="admin-field")


def layout(**_query):
    """Return the audit log's page, to admins only (its rows arrive through the callback)."""
    if not auth.may(current_who(), "admin"):
        return sign_in_needed()
    actions = [{"label": label, "value": kind} for kind, label in audit.ACTIONS.items()]
    return html.Main(
        className="page admin",
        children=[
            office_header("Audit log", (("Users and wall screens", "/admin/users"), ("Home", "/"))),
            html.Div(
                className="exec-controls",
                children=[
                    _field("From", dcc.Input(id=FROM, type="text", placeholder="2026-03-01", debounce=True)),
                    _field(
                        "To (excluded)", dcc.Input(id=TO, type="text", placeholder="2026-04-01T00:00Z", debounce=True)
                    ),
                    _field("User", dcc.Input(id=USER, type="text", maxLength=100, debounce=True)),
                    _field("Action", dcc.Dropdown(id=ACTION, options=actions, placeholder="every action")),
                    html.A("Download CSV", id=CSV, href="/api/audit?format=csv", className="button"),
                ],
            ),
            html.P(id=ERROR, className="error"),
            dcc.Store(id=PAGES, data={"pages": [None], "next": None}),
            html.Div(id=TABLE),
            html.Div(
                className="exec-controls",
                children=[
                    html.Button("Newer", id=NEWER, className="button", disabled=True),
                    html.Button("Older", id=OLDER, className="button", disabled=True),
                    html.Span(id=NOTE, className="muted"),
                ],
            ),
        ],
    )


def _time(text) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return parse_timestamp(text.strip()[:64])


def _table(rows: list[dict]) -> html.Table | html.P:
    if not rows:
        return html.P("Nothing recorded for these filters.", className="muted")
    return html.Table(
        className="demand-table admin-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in HEADER])),
            html.Tbody(
                [
                    html.Tr(
                        [html.Td(row[c] if c != "action" else audit.ACTIONS.get(row[c], row[c])) for c in audit.COLUMNS]
                    )
                    for row in rows
                ]
            ),
        ],
    )


def _walk(store, trigger) -> list:
    pages = store.get("pages") if isinstance(store, dict) else None
    if not isinstance(pages, list) or not pages or not all(p is None or isinstance(p, str) for p in pages):
        return [None]
    if trigger == OLDER and isinstance(store.get("next"), str):
        return [*pages, store["next"]][-1000:]
    if trigger == NEWER and len(pages) > 1:
        return pages[:-1]
    if trigger in (OLDER, NEWER):
        return pages
    return [None]  # new filters: from the newest again


@callback(
    Output(TABLE, "children"),
    Output(NOTE, "children"),
    Output(CSV, "href"),
    Output(PAGES, "data"),
    Output(NEWER, "disabled"),
    Output(OLDER, "disabled"),
    Output(ERROR, "children"),
    Input(FROM, "value"),
    Input(TO, "value"),
    Input(USER, "value"),
    Input(ACTION, "value"),
    Input(OLDER, "n_clicks"),
    Input(NEWER, "n_clicks"),
    State(PAGES, "data"),
)
def show(start, end, user, action, _older, _newer, store):
    """Show one page of the log for the filters, for admins only."""
    if not auth.may(current_who(), "admin"):
        return html.P("Sign in as an admin to read the audit log.", className="muted"), "", "", None, True, True, ""
    try:
        filters = filters_of(
            _time(start),
            _time(end),
            user.strip()[:100] if isinstance(user, str) else None,
            action if isinstance(action, str) and action in audit.ACTIONS else None,
        )
    except ValueError as exc:
        return dash.no_update, "", dash.no_update, dash.no_update, True, True, str(exc)
    pages = _walk(store, ctx.triggered_id)
    try:
        after = parse_cursor(pages[-1]) if pages[-1] else None
    except ValueError:
        pages, after = [None], None
    svc = services()
    rows, cursor = svc.run(lambda: audit.page(svc.history, filters, after))
    query = {
        "from": start.strip() if filters.start else None,
        "to": end.strip() if filters.end else None,
        "user": filters.user,
        "action": filters.action,
        "format": "csv",
    }
    href = "/api/audit?" + urlencode({k: v for k, v in query.items() if v})
    note = f"page {len(pages)}, {len(rows)} rows"
    store = {"pages": pages, "next": format_cursor(cursor)}
    return _table(rows), note, href, store, len(pages) == 1, cursor is None, ""
