"""Users and wall screens (/admin/users, admins): the accounts and screens, and the forms that change them.

Every action is a control event made by web.account_admin (the same checks and events as ``tf
users`` and ``tf kiosks``) with ``by`` = the signed-in admin, so it takes effect on every worker
and lands in the audit log. A generated password and a new screen's link are shown once, in the
answer to the action, and kept nowhere else. Access is decided in the layout and again in each
callback: a client may call any callback with any inputs.
"""

from __future__ import annotations

from dataclasses import replace

import dash
import flask
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from web import account_admin, auth
from web.account_admin import Refused
from web.accounts import PERSON_ROLES, AccountsState
from web.services import current_who, services

dash.register_page(__name__, path="/admin/users", title="Users and wall screens · Transparent Factory")

P = "admin-users-"
MESSAGE, CHANGED, TICK = P + "message", P + "changed", P + "tick"
USERS, SCREENS = P + "users", P + "screens"
NEW_NAME, NEW_ROLE, NEW_SITE, NEW_PASSWORD, CREATE = (
    P + s for s in ("new-name", "new-role", "new-site", "new-password", "create")
)
WHO, ROLE, SITE = P + "who", P + "role", P + "site"
SAVE, DISABLE, ENABLE, RESET, SIGN_OUT = (P + s for s in ("save", "disable", "enable", "reset", "sign-out"))
LABEL, LINE, SCREEN_SITE, REGISTER = P + "label", P + "line", P + "screen-site", P + "register"
SCREEN, REVOKE = P + "screen", P + "revoke"
BUTTONS = (CREATE, SAVE, DISABLE, ENABLE, RESET, SIGN_OUT, REGISTER, REVOKE)
KEEP = "keep"  # the site dropdown's "unchanged"
EVERY = ""  # every site


def _admin():
    who = current_who()
    return who if auth.may(who, "admin") else None


def _time(value) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "never"


def _table(header: list[str], rows: list[list[str]], empty: str) -> html.Table | html.P:
    if not rows:
        return html.P(empty, className="muted")
    return html.Table(
        className="demand-table admin-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
    )


def _views(state: AccountsState):
    users = sorted(state.users.items())
    screens = sorted(state.kiosks.items())
    user_rows = [
        [name, u.role, u.site_id or "every site", "disabled" if u.disabled else "enabled", _time(u.last_sign_in)]
        for name, u in users
    ]
    screen_rows = [
        [label, k.line_id or "every line", k.site_id or "every site", "revoked" if k.revoked else "active"]
        for label, k in screens
    ]
    return (
        _table(["User", "Role", "Site", "Status", "Last sign-in"], user_rows, "No users."),
        _table(["Wall screen", "Line", "Site", "Status"], screen_rows, "No wall screens."),
        [{"label": name, "value": name} for name, _ in users],
        [{"label": label, "value": label} for label, k in screens if not k.revoked],
    )


def _snapshot():
    live = services().live
    with live.lock:
        return _views(live.accounts)


def _sites() -> list[dict]:
    return [{"label": s.name, "value": s.id} for s in services().plant.sites]


def _lines() -> list[dict]:
    return [{"label": f"{ln.name} ({ln.site_id})", "value": ln.id} for ln in services().plant.lines]


def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(label), control], className="admin-field")


def layout(**_query):
    """Return the accounts page, to admins only."""
    if _admin() is None:
        return sign_in_needed()
    users, screens, user_options, screen_options = _snapshot()
    every = [{"label": "every site", "value": EVERY}]
    roles = [{"label": r, "value": r} for r in PERSON_ROLES]
    return html.Main(
        className="page admin",
        children=[
            office_header("Users and wall screens", (("Audit log", "/admin/audit"), ("Home", "/"))),
            html.Div(id=MESSAGE, role="status"),
            dcc.Store(id=CHANGED, data=0),
            dcc.Interval(id=TICK, interval=3000),
            html.H2("Users"),
            html.Div(users, id=USERS),
            html.H3("Create a user"),
            html.Div(
                className="exec-controls",
                children=[
                    _field("Name", dcc.Input(id=NEW_NAME, type="text", maxLength=64, autoComplete="off")),
                    _field("Role", dcc.Dropdown(id=NEW_ROLE, options=roles, value="manager", clearable=False)),
                    _field("Site", dcc.Dropdown(id=NEW_SITE, options=every + _sites(), value=EVERY, clearable=False)),
                    _field(
                        f"Password (at least {account_admin.MIN_PASSWORD} characters; empty: one is generated)",
                        dcc.Input(id=NEW_PASSWORD, type="password", autoComplete="new-password"),
                    ),
                    html.Button("Create", id=CREATE, className="button"),
                ],
            ),
            html.H3("Change a user"),
            html.Div(
                className="exec-controls",
                children=[
                    _field("User", dcc.Dropdown(id=WHO, options=user_options, clearable=False)),
                    _field(
                        "Role",
                        dcc.Dropdown(
                            id=ROLE,
                            options=[{"label": "(unchanged)", "value": KEEP}, *roles],
                            value=KEEP,
                            clearable=False,
                        ),
                    ),
                    _field(
                        "Site",
                        dcc.Dropdown(
                            id=SITE,
                            options=[{"label": "(unchanged)", "value": KEEP}, *every, *_sites()],
                            value=KEEP,
                            clearable=False,
                        ),
                    ),
                    html.Button("Save role and site", id=SAVE, className="button"),
                    html.Button("Disable", id=DISABLE, className="button"),
                    html.Button("Enable", id=ENABLE, className="button"),
                    html.Button("Reset password", id=RESET, className="button"),
                    html.Button("Sign out everywhere", id=SIGN_OUT, className="button"),
                ],
            ),
            html.H2("Wall screens"),
            html.Div(screens, id=SCREENS),
            html.H3("Register a wall screen"),
            html.Div(
                className="exec-controls",
                children=[
                    _field("Label", dcc.Input(id=LABEL, type="text", maxLength=account_admin.MAX_LABEL)),
                    _field("Line (empty: every line)", dcc.Dropdown(id=LINE, options=_lines())),
                    _field("Site (empty: every site)", dcc.Dropdown(id=SCREEN_SITE, options=_sites())),
                    html.Button("Register", id=REGISTER, className="button"),
                ],
            ),
            html.H3("Revoke a wall screen"),
            html.Div(
                className="exec-controls",
                children=[
                    _field("Wall screen", dcc.Dropdown(id=SCREEN, options=screen_options, clearable=False)),
                    html.Button("Revoke", id=REVOKE, className="button"),
                ],
            ),
        ],
    )


def _text(value, limit: int = 1000) -> str | None:
    return str(value).strip()[:limit] if isinstance(value, (str, int)) and str(value).strip() else None


def _secret(value) -> str | None:
    return value[:1000] if isinstance(value, str) and value else None  # a password as typed, spaces and all


def _change(action: str, values: dict, by: str, state: AccountsState) -> tuple[account_admin.Change, str]:
    """Return the change an action asks for, and what to tell the admin (Refused when it may not be)."""
    plant = services().plant
    sites = {s.id for s in plant.sites}
    name = _text(values["who"], 64) or ""
    if action == CREATE:
        new = _text(values["new_name"], 64) or ""
        role = _text(values["new_role"]) or ""
        change = account_admin.create_user(
            state, new, role, by, site=_text(values["new_site"]), password=_secret(values["new_password"]), sites=sites
        )
        return change, f"User {new} ({role}) created."
    if action == SAVE:
        new_role = _text(values["role"]) if values["role"] != KEEP else None
        site = values["site"][:100] if isinstance(values["site"], str) and values["site"] != KEEP else None
        if new_role is None and site is None:
            raise Refused("choose a new role or site first")
        change = account_admin.change_user(state, name, by, role=new_role, site=site, sites=sites)
        return change, f"User {name} changed."
    if action in (DISABLE, ENABLE):
        change = account_admin.change_user(state, name, by, disabled=action == DISABLE)
        return change, f"User {name} {'disabled: their sessions end' if action == DISABLE else 'enabled'}."
    if action == RESET:
        return account_admin.reset_password(state, name, by), f"Password of {name} reset: their sessions end."
    if action == SIGN_OUT:
        return account_admin.end_sessions(state, name, by), f"User {name} signed out everywhere."
    if action == REGISTER:
        lines = {ln.id: ln.site_id for ln in plant.lines}
        label = _text(values["label"], account_admin.MAX_LABEL + 1) or ""
        change = account_admin.register_kiosk(
            state, label, by, line=_text(values["line"]), site=_text(values["screen_site"]), lines=lines
        )
        return change, f"Wall screen {label!r} registered."
    if action == REVOKE:
        label = _text(values["screen"], account_admin.MAX_LABEL + 1) or ""
        return account_admin.revoke_kiosk(state, label, by), f"Wall screen {label!r} revoked: its screens sign out."
    raise Refused("unknown action")


def _once(change: account_admin.Change) -> list:
    if change.secret is None:
        return []
    if change.cls.KIND == "kiosk_registered":
        link = f"{flask.request.host_url}kiosk/{change.secret}"
        return [html.P(["Open this link on the screen (shown only now): ", html.Code(link, className="admin-secret")])]
    return [html.P(["Password (shown only now): ", html.Code(change.secret, className="admin-secret")])]


@callback(
    Output(MESSAGE, "children"),
    Output(CHANGED, "data"),
    *(Input(b, "n_clicks") for b in BUTTONS),
    State(NEW_NAME, "value"),
    State(NEW_ROLE, "value"),
    State(NEW_SITE, "value"),
    State(NEW_PASSWORD, "value"),
    State(WHO, "value"),
    State(ROLE, "value"),
    State(SITE, "value"),
    State(LABEL, "value"),
    State(LINE, "value"),
    State(SCREEN_SITE, "value"),
    State(SCREEN, "value"),
    State(CHANGED, "data"),
    prevent_initial_call=True,
)
def act(*args):
    """Carry out the action whose button was pressed, for admins only."""
    who = _admin()
    if who is None:
        return html.P("Sign in as an admin to manage accounts.", className="error"), dash.no_update
    values = dict(
        zip(
            ("new_name", "new_role", "new_site", "new_password", "who", "role", "site", "label", "line", "screen_site",
             "screen", "changed"),
            args[len(BUTTONS) :],
            strict=True,
        )
    )  # fmt: skip
    action = ctx.triggered_id
    if action not in BUTTONS:
        return dash.no_update, dash.no_update
    svc = services()
    with svc.live.lock:  # a copy: hashing a password must not hold the pump
        state = AccountsState(
            users={n: replace(u) for n, u in svc.live.accounts.users.items()},
            kiosks={label: replace(k) for label, k in svc.live.accounts.kiosks.items()},
        )
    try:
        change, told = _change(action, values, who.user, state)
    except Refused as exc:
        return html.P(str(exc), className="error"), dash.no_update
    svc.publish_control(change.cls, **change.data)
    changed = values["changed"] if isinstance(values["changed"], int) else 0
    return [html.P(told), *_once(change)], changed + 1


@callback(
    Output(USERS, "children"),
    Output(SCREENS, "children"),
    Output(WHO, "options"),
    Output(SCREEN, "options"),
    Input(TICK, "n_intervals"),
    Input(CHANGED, "data"),
    prevent_initial_call=True,
)
def refresh(_ticks, _changed):
    """Redraw the tables from the accounts every worker folds (changes from the command line show too)."""
    if _admin() is None:
        refused = html.P("Sign in as an admin to see accounts.", className="muted")
        return refused, refused, [], []
    return _snapshot()
