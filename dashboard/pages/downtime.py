"""Downtime classification (/downtime, managers): a line's recent stops, newest first, each with a
picker from the reason tree and a note.

A stop nobody classified is marked and counts under its machine code's default place in the
tree. Saving publishes a classification on the control log (web.downtime_api.classify), so
every worker and the history agree, and a later one replaces it. Access is decided here, in the
layout and in the callback, from the session alone: the stop a callback names carries its line,
which is checked again.
"""

from __future__ import annotations

from datetime import timedelta

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard import ids
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from factory.downtime import MAX_NOTE
from web import auth
from web.downtime_api import DEFAULT_RANGE, access, classify, role_refusal, stops
from web.services import current_who, services

dash.register_page(__name__, path="/downtime", title="Downtime · Transparent Factory")

SHOWN = 200  # the newest stops of the range; older ones are in the API's CSV


def _key(line_id: str, stop: dict) -> str:
    return f"{line_id}|{stop['station']}|{stop['machine']}|{stop['start']}"


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:,.1f} min"


def _status(stop: dict) -> str:
    if not stop["classified"]:
        return "unclassified"
    return f"classified by {stop['by']}"


def _row(line_id: str, stop: dict, station_names: dict[str, str], choices: list[dict[str, str]]) -> html.Tr:
    key = _key(line_id, stop)
    return html.Tr(
        className="dt-stop" + ("" if stop["classified"] else " dt-unclassified"),
        children=[
            html.Td(stop["start"].replace("T", " ").rstrip("Z")[:19]),
            html.Td(station_names.get(stop["station"], stop["station"])),
            html.Td(str(stop["machine"])),
            html.Td(_minutes(stop["duration_s"]) + (" (still down)" if stop["open"] else "")),
            html.Td(f"{stop['machine_code']} · {stop['machine_reason']}"),
            html.Td(
                [
                    html.Span(stop["reason_name"], className="dt-reason-name"),
                    html.Span(_status(stop), className="dt-mark muted"),
                ]
            ),
            html.Td(
                dcc.Dropdown(
                    id={"type": ids.DOWNTIME_REASON, "stop": key},
                    options=choices,
                    value=stop["reason"],
                    clearable=False,
                    style={"minWidth": "16rem"},
                )
            ),
            html.Td(
                dcc.Input(
                    id={"type": ids.DOWNTIME_NOTE, "stop": key},
                    value=stop["note"],
                    maxLength=MAX_NOTE,
                    placeholder="note",
                    debounce=False,
                )
            ),
            html.Td(
                [
                    html.Button("Save", id={"type": ids.DOWNTIME_SAVE, "stop": key}, n_clicks=0),
                    html.Span(id={"type": ids.DOWNTIME_STATUS, "stop": key}, className="dt-status"),
                ]
            ),
        ],
    )


def layout(line: str | None = None, **_query):
    """Return the page, to managers and admins of the line's site only."""
    who = current_who()
    if role_refusal(who) is not None:
        return sign_in_needed()
    svc = services()
    plant = svc.plant
    mine = [ln for ln in plant.lines if auth.may_see_line(who, ln.id, lambda i: plant.line(i).site_id)]
    if not mine:
        return sign_in_needed()
    line_id = line if isinstance(line, str) else mine[0].id
    if access(who, line_id, svc) is not None:
        return sign_in_needed()
    with svc.live.lock:
        latest = svc.live.state.last_event_time
    end = latest or svc.history.last_time(line_events_only=True)
    found = []
    if end is not None:
        end += timedelta(milliseconds=1)
        found = stops(svc, line_id, end - DEFAULT_RANGE, end)[:SHOWN]
    stations = {s.id: s.name for s in plant.line(line_id).stations}
    choices = plant.downtime.choices()
    open_n = sum(1 for s in found if not s["classified"])
    return html.Main(
        className="page downtime",
        children=[
            office_header(
                f"Downtime · {plant.line(line_id).name}",
                [*((ln.name, f"/downtime?line={ln.id}") for ln in mine), ("Floor", f"/floor?line={line_id}")],
            ),
            html.P(
                f"{len(found):,} stops in the last {DEFAULT_RANGE.days} days, {open_n:,} unclassified. "
                "An unclassified stop counts under its machine code's default reason in the downtime Pareto.",
                className="muted",
            ),
            html.P(id=ids.DOWNTIME_FLASH, className="dt-flash", role="status"),
            html.Table(
                className="dt-table",
                children=[
                    html.Thead(
                        html.Tr(
                            [
                                html.Th(h)
                                for h in (
                                    "Began (UTC)",
                                    "Station",
                                    "Machine",
                                    "Duration",
                                    "Machine code",
                                    "Counts as",
                                    "Reason",
                                    "Note",
                                    "",
                                )
                            ]
                        )
                    ),
                    html.Tbody(
                        [_row(line_id, s, stations, choices) for s in found]
                        or [html.Tr(html.Td("No stops in this range.", colSpan=9, className="muted"))]
                    ),
                ],
            ),
        ],
    )


def _parse_key(key: object) -> dict | None:
    if not isinstance(key, str):
        return None
    parts = key.split("|")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return {"line": parts[0], "station": parts[1], "machine": int(parts[2]), "down_since": parts[3]}


@callback(
    Output({"type": ids.DOWNTIME_STATUS, "stop": ALL}, "children"),
    Output(ids.DOWNTIME_FLASH, "children"),
    Input({"type": ids.DOWNTIME_SAVE, "stop": ALL}, "n_clicks"),
    State({"type": ids.DOWNTIME_REASON, "stop": ALL}, "value"),
    State({"type": ids.DOWNTIME_NOTE, "stop": ALL}, "value"),
    State({"type": ids.DOWNTIME_SAVE, "stop": ALL}, "id"),
    prevent_initial_call=True,
)
def save(_clicks, reasons, notes, buttons):
    """Classify the stop whose Save was pressed (for a manager of its line's site only)."""
    listed = dash.callback_context.outputs_list
    count = len(listed[0]) if isinstance(listed, list) and listed and isinstance(listed[0], list) else 0
    unchanged = [dash.no_update] * count
    who = current_who()
    if role_refusal(who) is not None:
        return unchanged, "Sign in as a manager to classify stops."
    triggered = dash.callback_context.triggered_id
    if not isinstance(triggered, dict) or not isinstance(buttons, list):
        return unchanged, dash.no_update
    key = triggered.get("stop")
    positions = [n for n, b in enumerate(buttons) if isinstance(b, dict) and b.get("stop") == key]
    stop = _parse_key(key)
    if stop is None or not positions or positions[0] >= count:
        return unchanged, dash.no_update
    n = positions[0]
    reason = reasons[n] if isinstance(reasons, list) and n < len(reasons) else None
    note = notes[n] if isinstance(notes, list) and n < len(notes) else ""
    svc = services()
    refused, published = classify(svc, who, {**stop, "reason": reason, "note": note or ""})
    out: list[object] = list(unchanged)
    if refused is not None:
        out[n] = f"Not saved: {refused.detail}"
    elif published is not None:
        out[n] = f"Saved: {svc.plant.downtime.name(published['reason'])} (by {published['by']})"
    return out, out[n]
