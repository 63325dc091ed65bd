"""Floor screen of one line (/floor?line=<id>[&kiosk=1][&rotate=<s>][&at=<time>]): andon, KPIs, line map, hour by hour.

Everything on it is pushed over the line's Socket.IO room and drawn by assets/tf-floor.js, which
touches only what changed; a one-second timer there ages each panel, greys out stale ones and,
in kiosk mode, moves on to the next line. Managers acknowledge alarms from here (REST, checked
on the server). A viewer bound to a site (or a wall screen to a line) sees only those lines.

With ``at`` the same page shows the line at that past moment (managers and executives): views
come from ``GET /api/floor/<line>?at=`` instead of the socket (assets/tf-replay.js), under a bar
that plays, steps event by event and seeks, in a marked replay state.
"""

from datetime import timedelta

import dash
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

from config import parse_timestamp
from dashboard import ids
from dashboard.components.data_attrs import data
from dashboard.components.hourly_chart import chart_layout
from dashboard.components.kpi_strip import kpi_strip
from dashboard.components.not_found import not_found, sign_in_needed
from dashboard.components.station_tile import KIND_LABEL, STATUS_LABEL, line_map
from dashboard.i18n import FLOOR_TEXTS, PRIORITY_TEXTS
from streams.codec import format_time
from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/floor", title="Floor · Transparent Factory")


def _rotate_s(value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if 5 <= seconds <= 24 * 3600 else 0.0  # nonsense values mean "stay"


def _panel(name: str, title: str, *children, class_name: str = "") -> html.Section:
    return html.Section(
        className=f"panel {name} {class_name}".strip(),
        **data(panel=name),
        children=[
            html.Div([html.H2(title), html.Span(className="panel-age", **data(age=name))], className="panel-head"),
            *children,
        ],
    )


REPLAY_SPEEDS = (1, 10, 60, 600, 3600)


def _replay_bar(at: str, speed: int) -> html.Div:
    return html.Div(
        className="replay-bar",
        role="group",
        title=FLOOR_TEXTS["replay"],
        children=[
            html.Strong(FLOOR_TEXTS["replay"], className="replay-badge"),
            html.Span(at, id="replay-at", className="replay-at"),
            html.Button(FLOOR_TEXTS["previous_event"], id="replay-previous", className="replay-step"),
            html.Button(FLOOR_TEXTS["play"], id="replay-play", className="replay-play"),
            html.Button(FLOOR_TEXTS["next_event"], id="replay-next", className="replay-step"),
            html.Select(
                [html.Option(f"{n}×", value=str(n), selected=n == speed) for n in REPLAY_SPEEDS],
                id="replay-speed",
                title=FLOOR_TEXTS["speed"],
            ),
            html.Label(
                [
                    html.Span(FLOOR_TEXTS["seek"], className="visually-hidden"),
                    dcc.Input(type="range", id="replay-seek"),
                ],
                className="replay-seek",
            ),
            html.Span(id="replay-error", className="replay-error", role="status"),
        ],
    )


def layout(line=None, kiosk=None, rotate=None, at=None, speed=None, **_query):
    """Return the floor screen of ``line`` (default: the first the viewer may see), to entitled roles only."""
    who = current_who()
    if who is None or not auth.may(who, "floor"):
        return sign_in_needed()
    replay_at = None
    if at is not None:
        if not auth.may(who, "replay"):
            return sign_in_needed()  # a wall screen shows the floor now; replays are for people
        try:
            replay_at = format_time(parse_timestamp(at))
        except ValueError:
            return not_found()
    svc = services()
    plant = svc.plant

    def site_of(line_id: str) -> str:
        return plant.line(line_id).site_id

    visible = [ln for ln in plant.lines if auth.may_see_line(who, ln.id, site_of)]
    line_id = line or (visible[0].id if visible else None)
    if line_id is None or not plant.has_line(line_id) or not auth.may_see_line(who, line_id, site_of):
        return not_found()
    the_line = plant.line(line_id)
    site = plant.site(the_line.site_id)
    is_kiosk = kiosk == "1"
    settings = {
        "line": line_id, "site": site.id, "tz": site.timezone, "locale": "en-GB",
        "labels": STATUS_LABEL, "kinds": KIND_LABEL, "texts": FLOOR_TEXTS, "priorities": PRIORITY_TEXTS,
        "names": svc.queries.names(line_id, "en"),
        "can_ack": auth.may(who, "acknowledge"),
        "stale_after_s": svc.settings.stale_after_s, "kpi_interval_s": svc.queries.kpi_interval_s,
        "rotate_s": _rotate_s(rotate) if is_kiosk else 0.0,
        "lines": [ln.id for ln in visible if ln.site_id == site.id or who.site_id is None],
    }  # fmt: skip
    replay_speed = int(speed) if speed in {str(n) for n in REPLAY_SPEEDS} else 60
    if replay_at is not None:
        settings.update(can_ack=False, rotate_s=0.0, replay={"at": replay_at, "speed": replay_speed})
    last = svc.live.state.last_event_time
    replay_link = (
        html.A(
            FLOOR_TEXTS["replay_last_hour"],
            href=f"/floor?line={line_id}&at={format_time(last - timedelta(hours=1))}",
            className="replay-link",
        )
        if replay_at is None and not is_kiosk and last is not None and auth.may(who, "replay")
        else None
    )
    return html.Main(
        className="page floor" + (" kiosk" if is_kiosk else "") + (" replaying" if replay_at else ""),
        children=[
            dcc.Store(id=ids.FLOOR_SETTINGS, data=settings),
            html.Div(id=ids.FLOOR_SINK, hidden=True),
            html.Header(
                className="floor-header",
                children=[
                    html.H1(the_line.name),
                    html.Span(site.name, className="floor-site muted"),
                    html.Nav(
                        [
                            html.A(
                                ln.name, href=f"/floor?line={ln.id}", className="current" if ln.id == line_id else ""
                            )
                            for ln in visible
                            if ln.site_id == site.id
                        ],
                        className="line-links",
                    ),
                    replay_link,
                    html.A(FLOOR_TEXTS["journal"], href=f"/alarms?line={line_id}", className="replay-link")
                    if replay_at is None and not is_kiosk and auth.may(who, "alarms")
                    else None,
                    html.A(FLOOR_TEXTS["back_to_live"], href=f"/floor?line={line_id}", className="replay-link")
                    if replay_at is not None
                    else None,
                    html.Div("Connecting…", id="floor-status", className="freshness"),
                ],
            ),
            _replay_bar(replay_at, replay_speed) if replay_at is not None else None,
            html.Div(id="floor-banner", className="connection-banner hidden"),
            html.Div(id="floor-health", className="health-banner hidden") if auth.may(who, "health") else None,
            html.Section(
                className="panel andon",
                **data(panel="andon"),
                children=[
                    html.Ul([html.Li("…", className="andon-none")], id="floor-andon", className="andon-list"),
                    html.Span(id="floor-shelved", className="andon-shelved muted"),
                    html.Span(className="panel-age", **data(age="andon")),
                    html.Div(id="andon-ack-result", className="andon-result", role="status"),
                ],
            ),
            kpi_strip(),
            _panel("map", "Line", line_map(the_line)),
            _panel(
                "orders",
                "Orders arriving",
                html.Ol([html.Li("…", className="orders-none")], id="floor-orders", className="orders-list"),
            ),
            _panel(
                "hourly",
                "Hour by hour: completed vs plan",
                dcc.Graph(
                    id=ids.FLOOR_HOURLY,
                    figure={"data": [], "layout": chart_layout()},
                    config={"staticPlot": True, "responsive": True},
                    className="hourly-graph",
                ),
            ),
        ],
    )


# Frames are drawn in the browser, straight from the page's own socket (assets/tf-floor.js): no
# server round trip and no Dash store update per frame and per screen; Dash only starts the
# renderer once per drawn page.
clientside_callback(
    ClientsideFunction(namespace="tf_floor", function_name="start"),
    Output(ids.FLOOR_SINK, "children"),
    Input(ids.FLOOR_SETTINGS, "data"),
)
