"""What if (/whatif, executives): a changed line run side by side with its baseline, in the background.

The form asks for a line and its changes (``STATION.FIELD=VALUE``, ``*F`` scales), the simulated
days, replications and demand; the study runs in the background (web/whatif_studies.py), its
progress bar follows it, and its result stays listed for everyone who may see the executive
view, after a restart too. Every callback asks auth on the server: an executive or admin, and
an executive bound to a site studies that site's lines only.
"""

import tempfile
from pathlib import Path

import dash
import redis
from dash import Input, Output, State, callback, dcc, html

from dashboard import ids
from dashboard.components.not_found import sign_in_needed
from web import auth
from web.services import current_who, services
from web.whatif_studies import FileStore, RedisStore, Request, Studies, StudyRefused

dash.register_page(__name__, path="/whatif", title="What if · Transparent Factory")


def _studies() -> Studies:
    svc = services()
    found = svc.extras.get("whatif")
    if found is None:
        # Where the workers share state: Redis, else the data directory; with neither, this run only.
        data_dir = svc.settings.data_dir
        if svc.settings.redis_url:
            store: FileStore | RedisStore = RedisStore(redis.Redis.from_url(svc.settings.redis_url))
        elif data_dir is not None:
            store = FileStore(data_dir / "whatif")
        else:
            store = FileStore(Path(tempfile.mkdtemp(prefix="tf-whatif-")))
        found = svc.extras["whatif"] = Studies(store, svc.settings.config)
    return found


def _lines(who) -> list:
    return [ln for site in services().plant.sites if who.site_id in (None, site.id) for ln in site.lines]


def _may_see(who, study: dict) -> bool:
    return any(ln.id == study["request"]["line"] for ln in _lines(who))


def layout(study=None, **_query):
    """Return the what-if page, to executives and admins only."""
    who = current_who()
    if who is None or not auth.may(who, "exec"):
        return sign_in_needed()
    lines = _lines(who)
    view, running = _view(who, study if isinstance(study, str) else None)
    return html.Main(
        className="page exec whatif",
        children=[
            html.Header(
                className="exec-header",
                children=[
                    html.H1("What if"),
                    html.Nav([html.A("Executive view", href="/exec"), html.A("Sign out", href="/logout")],
                             className="exec-nav"),
                ],
            ),
            html.P(
                "Change a line's stations and run it beside the baseline on the same seeds and the same "
                "orders. Fields: cycle_s, machines, buffer, mtbf_h, mttr_min; *0.8 scales the present value.",
                className="whatif-help",
            ),
            html.Div(
                className="exec-controls whatif-form",
                children=[
                    dcc.Dropdown(id=ids.WHATIF_LINE, options=[{"label": ln.name, "value": ln.id} for ln in lines],
                                 value=lines[0].id if lines else None, clearable=False, className="exec-dropdown"),
                    dcc.Input(id=ids.WHATIF_CHANGES, type="text", placeholder="vacuum_charge.cycle_s=*0.8",
                              debounce=False, className="whatif-changes"),
                    html.Label(["Days ", dcc.Input(id=ids.WHATIF_DAYS, type="number", value=1, min=0.25, max=7,
                                                   step=0.25)]),
                    html.Label(["Replications ", dcc.Input(id=ids.WHATIF_REPLICATIONS, type="number", value=5,
                                                           min=2, max=10, step=1)]),
                    html.Label(["Demand × ", dcc.Input(id=ids.WHATIF_DEMAND, type="number", value=1, min=0.2,
                                                       max=3, step=0.1)]),
                    html.Button("Run", id=ids.WHATIF_RUN, n_clicks=0, className="whatif-run"),
                ],
            ),
            html.P(id=ids.WHATIF_MESSAGE, className="whatif-message", role="status"),
            dcc.Store(id=ids.WHATIF_STUDY, data=study if isinstance(study, str) else None),
            # Polled once a second while a study runs, and not at all otherwise: a study's
            # progress is not the plant's live state, so it does not ride the push tier.
            dcc.Interval(id=ids.WHATIF_TICK, interval=1000, disabled=not running),
            html.Div(id=ids.WHATIF_VIEW, children=view),
        ],
    )  # fmt: skip


@callback(
    Output(ids.WHATIF_STUDY, "data"),
    Output(ids.WHATIF_MESSAGE, "children"),
    Output(ids.WHATIF_TICK, "disabled", allow_duplicate=True),
    Input(ids.WHATIF_RUN, "n_clicks"),
    State(ids.WHATIF_LINE, "value"),
    State(ids.WHATIF_CHANGES, "value"),
    State(ids.WHATIF_DAYS, "value"),
    State(ids.WHATIF_REPLICATIONS, "value"),
    State(ids.WHATIF_DEMAND, "value"),
    prevent_initial_call=True,
)
def run(_clicks, line_id, changes, days, replications, demand):
    """Start a study; refuse with the reason what cannot be run."""
    who = current_who()
    if who is None or not auth.may(who, "exec"):
        return dash.no_update, "Sign in as an executive to run a study.", dash.no_update
    try:
        request = Request.parse(line_id, changes, days, replications, demand)
        if not any(ln.id == request.line_id for ln in _lines(who)):
            raise StudyRefused(f"no line {request.line_id!r} for you to study")
        study_id = _studies().start(request, who.user)
    except StudyRefused as exc:
        return dash.no_update, f"Not started: {exc}.", dash.no_update
    return study_id, f"Study {study_id} started.", False


@callback(
    Output(ids.WHATIF_VIEW, "children"),
    Output(ids.WHATIF_TICK, "disabled"),
    Input(ids.WHATIF_TICK, "n_intervals"),
    Input(ids.WHATIF_STUDY, "data"),
)
def refresh(_n, study_id):
    """The chosen study's progress or result, and the kept studies; polling stops when none runs."""
    who = current_who()
    if who is None or not auth.may(who, "exec"):
        return sign_in_needed(), True
    view, running = _view(who, study_id)
    return view, not running


def _view(who, study_id) -> tuple[list, bool]:
    """The page's study part, and whether a study it shows is running."""
    studies = [s for s in _studies().list() if _may_see(who, s)]
    chosen = next((s for s in studies if s["id"] == study_id), studies[0] if studies else None)
    out: list = []
    if chosen is not None:
        out.append(_study(chosen))
    out.append(html.H2("Kept studies"))
    out.append(
        html.Ul(
            [html.Li(html.A(_title(s), href=f"/whatif?study={s['id']}")) for s in studies]
            or [html.Li("None yet.")],
            className="whatif-list",
        )
    )  # fmt: skip
    return out, any(s["status"] == "running" for s in studies)


def _title(study: dict) -> str:
    req = study["request"]
    return f"{study['id']} · {req['line']} · {', '.join(req['changes'])} · {study['status']}"


def _neck(x: dict) -> str:
    return f"{x['bottleneck']} ({x['bottleneck_share']:.0%} of runs)"


def _study(study: dict):
    req = study["request"]
    head = html.H2(f"{req['line']}: {', '.join(req['changes'])}")
    what = html.P(
        f"{req['replications']} replications of {req['days']:g} days, demand ×{req['demand']:g}, "
        f"by {study['by']} · {study['status']}",
        className="whatif-what",
    )
    children = [head, what]
    if study["status"] == "running":
        children.append(html.Progress(value=str(study["done"]), max=str(study["total"]), className="whatif-progress"))
        children.append(html.Span(f"{study['done']} / {study['total']} runs", className="whatif-count"))
    elif study["status"] == "failed":
        children.append(html.P(study.get("error", "failed"), className="whatif-error"))
    elif study["status"] == "interrupted":
        children.append(html.P("Interrupted: the server running it stopped. Run it again.", className="whatif-error"))
    else:
        children.append(_result(study["result"]))
    return html.Section(children, className="whatif-study", **{"data-status": study["status"]})


def _ci(x: dict, digits: int = 1) -> str:
    if x["low"] is None:
        return f"{x['mean']:.{digits}f}"
    return f"{x['mean']:.{digits}f} [{x['low']:.{digits}f}, {x['high']:.{digits}f}]"


def _result(result: dict):
    b, c, gain = result["baseline"], result["changed"], result["throughput_gain_per_day"]
    rows = [
        ("Throughput (units/day)", _ci(b["throughput_per_day"]), _ci(c["throughput_per_day"])),
        ("Lead time (h)", _ci(b["lead_time_h"], 2), _ci(c["lead_time_h"], 2)),
        ("WIP (units)", _ci(b["wip"]), _ci(c["wip"])),
        (
            "Bottleneck",
            f"{b['bottleneck']} ({b['bottleneck_share']:.0%})",
            f"{c['bottleneck']} ({c['bottleneck_share']:.0%})",
        ),
    ] + [(f"  {sid}", f"{b['utilisation'][sid]:.1%}", f"{c['utilisation'][sid]:.1%}") for sid in b["utilisation"]]
    table = html.Table(
        [html.Thead(html.Tr([html.Th(""), html.Th("Baseline"), html.Th("Changed")])),
         html.Tbody([html.Tr([html.Td(a), html.Td(x), html.Td(y)]) for a, x, y in rows])],
        className="whatif-table",
    )  # fmt: skip
    return html.Div(
        [
            html.P(f"Throughput gain (paired, same seeds, 95 %): {_ci(gain)} units/day · "
                   f"{result['orders_per_day']:.0f} orders a day", className="whatif-gain"),
            table,
        ]
    )  # fmt: skip
