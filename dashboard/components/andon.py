"""The andon banner: a line's active alarms, how long each has lasted, and who acknowledged it.

assets/live.js (andonRows) builds the same rows from each pushed frame; this builds the first
paint so the banner is right before the socket connects.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import ids
from streams.codec import parse_time

KIND_LABEL = {"down": "DOWN", "blocked": "BLOCKED", "starved": "STARVED"}
NO_ALARMS = "No active alarms"


def lasted_text(seconds: float) -> str:
    """Return how long an alarm has lasted, as read from across the hall ("12 min", "1 h 05")."""
    minutes = max(0, int(seconds // 60))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d}"


def alarm_row(alarm: dict[str, Any], as_of: str, can_ack: bool) -> html.Li:
    """Return one alarm of the banner; managers get an acknowledge button until someone acknowledges it."""
    lasted = (parse_time(as_of) - parse_time(alarm["since"])).total_seconds()
    what = f"{alarm['station_name']}: {KIND_LABEL[alarm['kind']]}" + (
        f" ({alarm['reason']})" if alarm["reason"] else ""
    )
    ack = alarm.get("ack")
    if ack:
        tail = html.Span(f"✓ {ack['by']}", className="andon-acked")
    elif can_ack:
        tail = html.Button("Acknowledge", id=ids.andon_ack(alarm["id"]), className="andon-ack")
    else:
        tail = html.Span("unacknowledged", className="andon-unacked")
    return html.Li(
        [html.Span(what, className="andon-what"), html.Span(lasted_text(lasted), className="andon-lasted"), tail],
        className=f"andon-alarm kind-{alarm['kind']}" + (" acked" if ack else ""),
    )


def andon_rows(view: dict[str, Any], can_ack: bool) -> list:
    """Return the banner's rows for a floor view."""
    if not view["alarms"]:
        return [html.Li(NO_ALARMS, className="andon-none")]
    return [alarm_row(a, view["as_of"], can_ack) for a in view["alarms"]]
