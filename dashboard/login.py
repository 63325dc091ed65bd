"""Sign-in and sign-out, and the kiosk link that signs a wall screen in.

Plain server-rendered HTML forms (no script), so they work under the strict CSP and before
any JavaScript loads. Failed attempts are throttled per client address.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict, deque
from urllib.parse import urlencode

import flask

from dashboard import auth

login = flask.Blueprint("login", __name__)
ACCOUNTS_EXTENSION = auth.ACCOUNTS_EXTENSION
FAILURES_PER_MINUTE = 10
_failures: dict[str, deque[float]] = defaultdict(deque)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · Transparent Factory</title>
<link rel="stylesheet" href="/assets/style.css"></head><body><main class="page login">
<h1>Sign in</h1>{message}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>User <input name="user" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>"""


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _page(message: str = "", next_path: str = "/", status: int = 200) -> flask.Response:
    body = _PAGE.format(
        message=f'<p class="error">{html.escape(message)}</p>' if message else "",
        next=html.escape(next_path, quote=True),
    )
    return flask.Response(body, status=status, mimetype="text/html")


@login.get("/login")
def form():
    return _page(next_path=_safe_next(flask.request.args.get("next")))


@login.post("/login")
def sign_in():
    client = flask.request.remote_addr or "?"
    recent = _failures[client]
    while recent and recent[0] < time.monotonic() - 60:
        recent.popleft()
    next_path = _safe_next(flask.request.form.get("next"))
    if len(recent) >= FAILURES_PER_MINUTE:
        return _page("Too many attempts. Wait a minute and try again.", next_path, 429)
    accounts = flask.current_app.extensions[ACCOUNTS_EXTENSION]
    role = accounts.verify(flask.request.form.get("user", ""), flask.request.form.get("password", ""))
    if role is None:
        recent.append(time.monotonic())
        return _page("User or password is wrong.", next_path, 401)
    flask.session.clear()
    flask.session.update(role=role, user=flask.request.form["user"])
    flask.session.permanent = True
    return flask.redirect(next_path, 303)


@login.get("/logout")
def sign_out():
    flask.session.clear()
    return flask.redirect("/login", 303)


@login.get("/kiosk/<token>")
def kiosk(token: str):
    """Sign a wall screen in with its long-lived token, then show its line in kiosk mode."""
    entry = flask.current_app.extensions[ACCOUNTS_EXTENSION].kiosk(token)
    if entry is None:
        flask.abort(404)
    flask.session.clear()
    flask.session.update(role="wall", user=f"kiosk:{entry['label']}", kiosk=token)
    flask.session.permanent = True
    # A screen given a line stays on it; one without shows every line in turn.
    rotate_s = 0 if entry["line"] else flask.current_app.config.get("TF_KIOSK_ROTATE_S", 0)
    query = {"line": entry["line"], "kiosk": 1, "rotate": f"{rotate_s:g}" if rotate_s else None}
    return flask.redirect("/floor?" + urlencode({k: v for k, v in query.items() if v}), 303)


def install_guard(server: flask.Flask) -> None:
    """Send anonymous or unentitled visitors of protected pages to the sign-in form."""

    @server.before_request
    def _guard():
        area = auth.PROTECTED_PATHS.get(flask.request.path)
        if area is None or auth.may(auth.current_role(), area):
            return None
        return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}", 303)
