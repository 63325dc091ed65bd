"""Dead letters (/dead-letters, managers and admins): refused input with its reason, and re-submitting it fixed.

Every letter's text came from outside (a line, a broker, a bus entry that did not decode), so it
is only ever shown as text: React writes strings as text nodes, never as markup. The list is
filtered by reason, source and time and paged newest first; "Fix" puts the whole text in the
editor, and "Re-submit" sends it through the ingest gate (web.dead_letters), which takes it or
refuses it again with its reason. Each layout and callback asks web.auth on the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from config import parse_timestamp
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from streams.dead_letters import SOURCES
from web import auth
from web import dead_letters as letters
from web.services import current_who, services

dash.register_page(__name__, path="/dead-letters", title="Dead letters · Transparent Factory")

PAGE_SIZE = 25
REASON, SOURCE, START, END = "dl-reason", "dl-source", "dl-from", "dl-to"
APPLY, OLDER, NEWER, PAGING, LIST, CSV = "dl-apply", "dl-older", "dl-newer", "dl-paging", "dl-list", "dl-csv"
FIX, SELECTED, EDITING, RAW, SEND, RESULT, DONE = (
    "dl-fix", "dl-selected", "dl-editing", "dl-raw", "dl-send", "dl-result", "dl-done"
)  # fmt: skip


def _allowed() -> bool:
    return auth.may(current_who(), "dead_letters")


def _filters(reason: Any, source: Any, start: Any, end: Any) -> letters.Filters:
    """Read the filter inputs (whatever a client sends); raises ValueError naming a bad one."""
    reason = reason.strip()[:200] if isinstance(reason, str) and reason.strip() else None
    source = source if source in SOURCES else None
    times: list[datetime | None] = []
    for name, text in (("from", start), ("to", end)):
        if isinstance(text, str) and text.strip():
            try:
                times.append(parse_timestamp(text.strip()))
            except ValueError:
                raise ValueError(f"{name}: not a time like 2026-03-02T08:00Z") from None
        else:
            times.append(None)
    return letters.Filters(reason, source, times[0], times[1])


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ") + " UTC"


def _item(letter: dict) -> html.Li:
    done = letter["resubmitted"]
    status = (
        html.Span(f"re-submitted by {done['by']} at {_when(done['at'])}", className="dl-done")
        if done
        else html.Button("Fix", id={"type": FIX, "id": letter["id"]}, className="button", n_clicks=0)
    )
    note = f" (first {len(letter['raw']):,} of {letter['raw_chars']:,} characters)" if letter["raw_truncated"] else ""
    return html.Li(
        className="dl-item",
        children=[
            html.Div(
                [
                    html.Strong(letter["reason"], className="dl-reason"),
                    html.Span(f"  {letter['source']}", className="muted"),
                    html.Span(f"  line {letter['line']}" if letter["line"] else "  no line", className="muted"),
                    html.Span(f"  {_when(letter['at'])}", className="muted"),
                    html.Span("  "),
                    status,
                ]
            ),
            html.Div(letter["message"], className="muted dl-message"),
            html.Pre(
                letter["raw"] + ("…" if letter["raw_truncated"] else ""),
                className="dl-raw-text",
                style={"whiteSpace": "pre-wrap", "wordBreak": "break-all", "maxHeight": "12rem", "overflow": "auto"},
            ),
            html.Div(note, className="muted") if note else None,
        ],
    )


def _list(filters: letters.Filters, before: str | None) -> tuple[list, str | None]:
    svc = services()
    found = letters.page(svc, current_who(), filters, before, PAGE_SIZE)
    rows = [_item(i) for i in found["items"]] or [html.Li("No dead letters here.", className="muted")]
    return rows, found["next"]


def _csv_href(filters: letters.Filters) -> str:
    query = {"format": "csv", "limit": str(letters.PAGE_MAX)}
    query |= {key: value for key, value in (("reason", filters.reason), ("source", filters.source)) if value}
    query |= {key: when.isoformat() for key, when in (("from", filters.start), ("to", filters.end)) if when}
    return "/api/dead-letters?" + urlencode(query)


def layout(**_query):
    """Return the dead letters, to managers and admins only."""
    if not _allowed():
        return sign_in_needed()
    filters = letters.Filters()
    rows, cursor = _list(filters, None)
    return html.Main(
        className="page dead-letters",
        children=[
            office_header("Dead letters"),
            html.P(
                "Input the plant refused, newest first, with the reason. Fix an event's text and re-submit it: "
                "it passes the same checks as a line's events.",
                className="muted",
            ),
            html.Div(
                className="exec-controls",
                style={"display": "flex", "flexWrap": "wrap", "gap": "0.5rem", "alignItems": "center"},
                children=[
                    dcc.Input(id=REASON, type="text", placeholder="reason code", debounce=True),
                    dcc.Dropdown(
                        id=SOURCE,
                        options=[{"label": s, "value": s} for s in SOURCES],
                        placeholder="any source",
                        clearable=True,
                        style={"minWidth": "10rem"},
                    ),
                    dcc.Input(id=START, type="text", placeholder="from (UTC), 2026-03-02T08:00", debounce=True),
                    dcc.Input(id=END, type="text", placeholder="to (UTC)", debounce=True),
                    html.Button("Show", id=APPLY, className="button", n_clicks=0),
                    html.Button("Newer", id=NEWER, className="button", n_clicks=0),
                    html.Button("Older", id=OLDER, className="button", n_clicks=0),
                    html.A("Download CSV", id=CSV, href=_csv_href(filters)),
                ],
            ),
            dcc.Store(id=PAGING, data={"pages": [None], "next": cursor}),
            dcc.Store(id=DONE, data=0),
            html.Ul(rows, id=LIST, className="dl-list"),
            html.Section(
                className="dl-editor",
                children=[
                    html.H2("Fix and re-submit"),
                    dcc.Store(id=SELECTED, data=None),
                    html.Div("Choose a letter with “Fix”.", id=EDITING, className="muted"),
                    dcc.Textarea(id=RAW, value="", style={"width": "100%", "height": "14rem"}, spellCheck=False),
                    html.Button("Re-submit", id=SEND, className="button", n_clicks=0),
                    html.Div(id=RESULT, role="status"),
                ],
            ),
        ],
    )


@callback(
    Output(LIST, "children"),
    Output(PAGING, "data"),
    Output(CSV, "href"),
    Input(APPLY, "n_clicks"),
    Input(OLDER, "n_clicks"),
    Input(NEWER, "n_clicks"),
    Input(DONE, "data"),
    State(REASON, "value"),
    State(SOURCE, "value"),
    State(START, "value"),
    State(END, "value"),
    State(PAGING, "data"),
    prevent_initial_call=True,
)
def show(_apply, _older, _newer, _done, reason, source, start, end, paging):
    """Show a page of letters for the filters: the first, the next older or the previous one."""
    if not _allowed():
        return [html.Li("Sign in as a manager to see dead letters.")], {"pages": [None], "next": None}, ""
    try:
        filters = _filters(reason, source, start, end)
    except ValueError as exc:
        return [html.Li(str(exc), className="dl-error")], {"pages": [None], "next": None}, ""
    pages = paging.get("pages") if isinstance(paging, dict) else None
    pages = (
        [p for p in pages if p is None or isinstance(p, str)][-1000:] if isinstance(pages, list) and pages else [None]
    )
    following = paging.get("next") if isinstance(paging, dict) and isinstance(paging.get("next"), str) else None
    if ctx.triggered_id == OLDER and following:
        pages.append(following)
    elif ctx.triggered_id == NEWER and len(pages) > 1:
        pages.pop()
    elif ctx.triggered_id == APPLY:
        pages = [None]
    rows, cursor = _list(filters, pages[-1])
    return rows, {"pages": pages, "next": cursor}, _csv_href(filters)


@callback(
    Output(SELECTED, "data"),
    Output(RAW, "value"),
    Output(EDITING, "children"),
    Input({"type": FIX, "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(clicks):
    """Put the whole text of the chosen letter in the editor."""
    trigger = ctx.triggered_id
    if not _allowed() or not isinstance(trigger, dict) or not any(isinstance(c, int) and c > 0 for c in clicks or []):
        return None, "", "Choose a letter with “Fix”."
    letter_id = trigger.get("id")
    letter = letters.find_visible(services(), current_who(), letter_id) if isinstance(letter_id, str) else None
    if letter is None:
        return None, "", "That letter is gone, or not yours."
    return (
        letter.id,
        letter.raw,
        f"Fixing {letter.reason} from {letter.source}, refused {letter.at:%Y-%m-%d %H:%M:%S} UTC",
    )


@callback(
    Output(RESULT, "children"),
    Output(DONE, "data"),
    Input(SEND, "n_clicks"),
    State(SELECTED, "data"),
    State(RAW, "value"),
    State(DONE, "data"),
    prevent_initial_call=True,
)
def send(_clicks, letter_id, raw, done):
    """Re-submit the edited text through the gate; say whether it was taken, or why not."""
    count = done if isinstance(done, int) else 0
    if not _allowed():
        return "Sign in as a manager to re-submit.", count
    if not isinstance(letter_id, str):
        return "Choose a letter with “Fix” first.", count
    outcome = letters.resubmit(services(), current_who(), letter_id, raw)
    if outcome.status == 200:
        return html.Span(f"Accepted: {outcome.event}", className="dl-accepted"), count + 1
    return html.Span(f"Refused ({outcome.reason}): {outcome.message}", className="dl-refused"), count
