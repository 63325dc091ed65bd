"""The alarm journal (/alarms, managers and executives): what alarmed, who took note, what was shelved.

Rows come from the same function as ``GET /api/alarms`` (web.alarm_queries.read_journal), so
the page, its CSV link and the API agree. Times are the line's site time. Managers may shelve a
nuisance alarm point for a while with a reason, and unshelve it; the buttons call the same
checks as the REST API (web.alarm_actions). Every callback decides access again on the server.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard import ids
from dashboard.components.hourly_chart import chart_layout
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from factory.alarms import ALARM_STATES
from factory.layout_schema import PRIORITIES
from streams.codec import parse_time
from web import alarm_actions, auth
from web.alarm_queries import MAX_LINE_DAYS, Filters, JournalError, read_journal, resolve_range, visible_lines
from web.services import current_who, services

dash.register_page(__name__, path="/alarms", title="Alarm journal · Transparent Factory")

SPANS = {"8": "last 8 hours", "24": "last 24 hours", "72": "last 3 days", "168": "last 7 days"}
KIND_NAMES = {"down": "Breakdown", "blocked": "Blocked", "starved": "Starved"}
STATE_NAMES = {
    "unacknowledged": "Active, unacknowledged",
    "acknowledged": "Active, acknowledged",
    "cleared unacknowledged": "Cleared, unacknowledged",
    "normal": "Cleared",
}
SETTLE_S = 2.0  # how long an action waits for the live state to hold it, so the list shown is true
COLUMNS = [
    {"field": "raised", "headerName": "Raised", "sort": "desc", "width": 150},
    {"field": "line", "headerName": "Line", "width": 90},
    {"field": "station", "headerName": "Station"},
    {"field": "kind", "headerName": "Alarm", "width": 110},
    {"field": "priority", "headerName": "Priority", "width": 100},
    {"field": "reason", "headerName": "Reason"},
    {"field": "state", "headerName": "State", "width": 190},
    {"field": "lasted", "headerName": "Lasted", "width": 100},
    {"field": "cleared", "headerName": "Cleared", "width": 150},
    {"field": "acknowledged", "headerName": "Acknowledged", "width": 200},
    {"field": "shelved", "headerName": "Raised while shelved"},
]


def _allowed() -> bool:
    return auth.may(current_who(), "alarms")


def _options(values, names=None) -> list[dict[str, str]]:
    return [{"label": (names or {}).get(v, v), "value": v} for v in values]


def layout(line: str | None = None, **_query):
    """Return the journal's frame (its rows load by callback), to managers, executives and admins."""
    if not _allowed():
        return sign_in_needed()
    svc = services()
    who = current_who()
    lines = visible_lines(svc, who, False, None)
    chosen = line if line in lines else (lines[0] if lines else None)
    may_shelve = auth.may(who, "acknowledge")
    return html.Main(
        className="page alarms",
        children=[
            office_header("Alarm journal"),
            html.Div(
                className="exec-controls",
                children=[
                    dcc.Dropdown(
                        id=ids.ALARMS_LINE,
                        options=[{"label": svc.plant.line(i).name, "value": i} for i in lines],
                        value=chosen,
                        placeholder="Every line",
                        clearable=True,
                        className="alarms-dropdown",
                    ),
                    dcc.Dropdown(
                        id=ids.ALARMS_SPAN,
                        options=_options(SPANS, SPANS),
                        value="24",
                        clearable=False,
                        className="alarms-dropdown",
                    ),
                    dcc.Dropdown(
                        id=ids.ALARMS_PRIORITY,
                        options=_options(PRIORITIES),
                        placeholder="Any priority",
                        className="alarms-dropdown",
                    ),
                    dcc.Dropdown(
                        id=ids.ALARMS_KIND,
                        options=_options(ALARM_STATES, KIND_NAMES),
                        placeholder="Any alarm",
                        className="alarms-dropdown",
                    ),
                    html.Button("Refresh", id=ids.ALARMS_REFRESH, className="button"),
                    html.A("CSV", id=ids.ALARMS_CSV, href="/api/alarms?format=csv", className="button"),
                ],
            ),
            html.P(id=ids.ALARMS_STATUS, className="muted", role="status"),
            dcc.Loading(
                [
                    dcc.Graph(
                        id=ids.ALARMS_HOURLY,
                        figure={"data": [], "layout": chart_layout()},
                        config={"displayModeBar": False, "responsive": True},
                        className="alarms-hourly",
                    ),
                    dag.AgGrid(
                        id=ids.ALARMS_GRID,
                        rowData=[],
                        columnDefs=COLUMNS,
                        defaultColDef={"sortable": True, "resizable": True, "filter": True},
                        dashGridOptions={
                            "pagination": True,
                            "paginationPageSize": 50,
                            "animateRows": False,
                            "enableCellTextSelection": True,
                        },
                        style={"height": "60vh"},
                        className="ag-theme-alpine",
                    ),
                ]
            ),
            _shelving(svc, chosen) if may_shelve and chosen else None,
        ],
    )


def _shelving(svc, line_id: str) -> html.Section:
    line = svc.plant.line(line_id)
    return html.Section(
        className="panel shelving",
        children=[
            dcc.Store(id=ids.SHELVE_LINE, data=line_id),
            html.H2(f"Shelve a nuisance alarm on {line.name}"),
            html.P(
                f"Shelving hides one station's alarms of one kind from the floor for a while "
                f"(at most {svc.plant.spec.alarms.max_shelve_h:g} h), with a reason. The journal keeps them.",
                className="muted",
            ),
            html.Div(
                className="exec-controls",
                children=[
                    dcc.Dropdown(
                        id=ids.SHELVE_STATION,
                        options=[{"label": s.name, "value": s.id} for s in line.stations],
                        placeholder="Station",
                        className="alarms-dropdown",
                    ),
                    dcc.RadioItems(
                        id=ids.SHELVE_KIND,
                        options=_options(ALARM_STATES, KIND_NAMES),
                        value="down",
                        inline=True,
                        className="shelve-kind",
                    ),
                    dcc.Input(id=ids.SHELVE_MINUTES, type="number", min=1, value=60, placeholder="minutes"),
                    dcc.Input(
                        id=ids.SHELVE_REASON,
                        type="text",
                        maxLength=alarm_actions.MAX_REASON,
                        placeholder="Why (required)",
                        className="shelve-reason",
                    ),
                    html.Button("Shelve", id=ids.SHELVE_BUTTON, className="button"),
                ],
            ),
            html.P(id=ids.SHELVE_RESULT, role="status"),
            html.Ul(_shelved_items(svc, line_id), id=ids.SHELVED_LIST, className="shelved-list"),
        ],
    )


def _local(svc, line_id: str, value: str | None) -> str:
    if not value:
        return ""
    return parse_time(value).astimezone(svc.plant.tz_of(line_id)).strftime("%Y-%m-%d %H:%M:%S")


def _lasted(seconds: float) -> str:
    minutes, s = divmod(int(seconds), 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min {s:02d} s"


def _row(svc, names: dict[tuple[str, str], str], r: dict[str, Any]) -> dict[str, Any]:
    line = r["line"]
    return {
        "raised": _local(svc, line, r["raised"]),
        "line": line,
        "station": names.get((line, r["station"]), r["station"]),
        "kind": KIND_NAMES.get(r["kind"], r["kind"]),
        "priority": r["priority"],
        "reason": r["reason"] or "",
        "state": STATE_NAMES.get(r["state"], r["state"]),
        "lasted": _lasted(r["lasted_s"]),
        "cleared": _local(svc, line, r["cleared"]),
        "acknowledged": f"{r['acknowledged_by']} · {_local(svc, line, r['acknowledged'])}" if r["acknowledged"] else "",
        "shelved": f"{r['shelved_by']}: {r['shelved_reason']}" if r["shelved_by"] else "",
    }


def _figure(svc, found: dict[str, Any]) -> dict[str, Any]:
    bars = []
    for line_id, hours in found["per_hour"].items():
        bars.append(
            {
                "type": "bar",
                "name": svc.plant.line(line_id).name,
                "x": [_local(svc, line_id, h["hour"])[:13] + "h" for h in hours],
                "y": [h["alarms"] for h in hours],
            }
        )
    layout = {**chart_layout(), "barmode": "stack", "showlegend": len(bars) > 1, "xaxis": {"type": "category"}}
    return {"data": bars, "layout": layout}


def _status(found: dict[str, Any]) -> str:
    rows = found["alarms"]
    active = sum(1 for r in rows if r["state"] == "unacknowledged")
    floods = sum(len(f) for f in found["floods"].values())
    rule = found["flood_rule"]
    flood_text = ""
    if floods:
        plural = "s" if floods != 1 else ""
        flood_text = f" · {floods} alarm flood{plural} (more than {rule['more_than']} in {rule['window_min']:g} min)"
    return f"{len(rows):,} alarms · {active} active and unacknowledged{flood_text}"


@callback(
    Output(ids.ALARMS_GRID, "rowData"),
    Output(ids.ALARMS_HOURLY, "figure"),
    Output(ids.ALARMS_STATUS, "children"),
    Output(ids.ALARMS_CSV, "href"),
    Input(ids.ALARMS_LINE, "value"),
    Input(ids.ALARMS_SPAN, "value"),
    Input(ids.ALARMS_PRIORITY, "value"),
    Input(ids.ALARMS_KIND, "value"),
    Input(ids.ALARMS_REFRESH, "n_clicks"),
)
def load(line, span, priority, kind, _clicks):
    """Read the journal for the chosen line(s) and range, for managers, executives and admins only."""
    empty = {"data": [], "layout": chart_layout()}
    if not _allowed():
        return [], empty, "Sign in as a manager or an executive to see the alarm journal.", "/api/alarms"
    svc = services()
    hours = int(span) if isinstance(span, str) and span in SPANS else 24
    priority = priority if priority in PRIORITIES else None
    kind = kind if kind in ALARM_STATES else None
    try:
        lines = visible_lines(svc, current_who(), False, line if isinstance(line, str) else None)
        start, end = resolve_range(svc, None, None, len(lines), timedelta(hours=hours))
        found = read_journal(svc, lines, start, end, Filters(priority=priority, kind=kind))
    except JournalError as exc:
        hint = (
            f" Choose one line, or a shorter range ({MAX_LINE_DAYS} line-days at most)."
            if exc.reason == "range_too_long"
            else ""
        )
        return [], empty, str(exc) + (hint if exc.reason == "range_too_long" else ""), "/api/alarms"
    names = {(i, s.id): s.name for i in lines for s in svc.plant.line(i).stations}
    chosen = {"line": line if isinstance(line, str) else None, "priority": priority, "kind": kind}
    query = {"from": start.isoformat(), "to": end.isoformat(), "format": "csv"} | {k: v for k, v in chosen.items() if v}
    rows = [_row(svc, names, r) for r in found["alarms"]]
    return rows, _figure(svc, found), _status(found), "/api/alarms?" + urlencode(query)


def _shelved_items(svc, line_id: str) -> list:
    names = {s.id: s.name for s in svc.plant.line(line_id).stations}
    items = [
        html.Li(
            [
                html.Span(
                    f"{names.get(p['station'], p['station'])}: {KIND_NAMES.get(p['kind'], p['kind'])} shelved by "
                    f"{p['by']} until {_local(svc, line_id, p['until'])} ({p['reason']}) "
                ),
                html.Button(
                    "Unshelve", id=ids.unshelve_button(f"{p['line']}/{p['station']}/{p['kind']}"), className="button"
                ),
            ]
        )
        for p in alarm_actions.shelved_points(svc, current_who())
        if p["line"] == line_id
    ]
    return items or [html.Li("Nothing is shelved on this line.", className="muted")]


def _settle(svc, point: str, shelved: bool) -> None:
    """Wait (briefly) until the live state holds the action just published, so the list shown is true."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        held = any(
            f"{p['line']}/{p['station']}/{p['kind']}" == point for p in alarm_actions.shelved_points(svc, current_who())
        )
        if held == shelved:
            return
        time.sleep(0.05)


@callback(
    Output(ids.SHELVE_RESULT, "children"),
    Output(ids.SHELVED_LIST, "children"),
    Input(ids.SHELVE_BUTTON, "n_clicks"),
    Input({"type": ids.UNSHELVE, "point": ALL}, "n_clicks"),
    State(ids.SHELVE_LINE, "data"),
    State(ids.SHELVE_STATION, "value"),
    State(ids.SHELVE_KIND, "value"),
    State(ids.SHELVE_MINUTES, "value"),
    State(ids.SHELVE_REASON, "value"),
    prevent_initial_call=True,
)
def shelve(_shelve, _unshelve, line, station, kind, minutes, reason):
    """Shelve or unshelve a point of the chosen line, for managers of its site only (web.alarm_actions)."""
    svc = services()
    who = current_who()
    if not auth.may(who, "acknowledge"):
        return "Sign in as a manager to shelve alarms.", []
    if not any(t.get("value") for t in ctx.triggered):
        return dash.no_update, dash.no_update  # buttons drawn anew, not a click
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == ids.UNSHELVE:
        point = str(trigger.get("point", ""))
        parts = point.split("/")
        body = dict(zip(("line", "station", "kind"), parts)) if len(parts) == 3 else {}
        outcome = alarm_actions.unshelve(svc, who, body)
        done = "Unshelved: the floor shows these alarms again."
    else:
        body = {"line": line, "station": station, "kind": kind, "minutes": minutes, "reason": reason}
        outcome = alarm_actions.shelve(svc, who, body)
        done = f"Shelved until {_local(svc, line, outcome.body.get('until'))}." if outcome.status < 400 else ""
    if outcome.status >= 400:
        message = outcome.detail
    else:
        _settle(svc, "/".join(str(body[k]) for k in ("line", "station", "kind")), shelved=outcome.status == 201)
        message = done
    shown = line
    if not (svc.plant.has_line(shown) and auth.may_see_line(who, shown, lambda i: svc.plant.line(i).site_id)):
        return message, []
    return message, _shelved_items(svc, shown)
