"""Sign-in and sign-out, and the kiosk link that signs a wall screen in.

Plain server-rendered HTML forms (no script), so they work under the strict CSP and before any
JavaScript loads. Attempts are limited per client and per account (a password guesser on one
account cannot lock out everyone, nor hide behind many addresses). A sign-in starts a session
with an id of its own, recorded on the control log; signing out (or an admin) revokes it there,
so it ends on every worker.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode, urlsplit

import flask

from streams import events as ev
from web import auth
from web.accounts import SESSION_DAYS, hash_password, kiosk_for_token, needs_rehash, verify
from web.ratelimit import SIGN_INS_PER_MINUTE, account_key, client_key, limiter
from web.services import current_who, services

login = flask.Blueprint("login", __name__)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · Transparent Factory</title>
<link rel="stylesheet" href="/assets/style.css"></head><body><main class="page login">
<h1>Sign in</h1>{message}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>User <input name="user" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main></body></html>"""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else "/": never send a signed-in user elsewhere.

    Refused: anything with a scheme or a host, a second slash or a backslash at the start (a
    browser reads ``//host`` and ``/\\host`` as another site), and control characters anywhere,
    before or after percent-decoding (browsers drop tabs and newlines from URLs, so
    ``/%09/evil.example`` would become ``//evil.example``).
    """
    if not target or not isinstance(target, str) or len(target) > 2048:
        return "/"
    decoded = unquote(target)
    for text in (target, decoded):
        if _CONTROL.search(text) or "\\" in text or not text.startswith("/") or text.startswith("//"):
            return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
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
    return _page(next_path=safe_next(flask.request.args.get("next")))


def _failed(response: flask.Response) -> bool:
    return response.status_code == 401


@login.post("/login")
@limiter.limit(
    f"{SIGN_INS_PER_MINUTE}/minute",
    key_func=client_key,
    deduct_when=_failed,
    error_message="Too many attempts from here. Wait a minute and try again.",
)
@limiter.limit(
    f"{SIGN_INS_PER_MINUTE}/minute",
    key_func=account_key,
    deduct_when=_failed,
    error_message="Too many attempts for this account. Wait a minute and try again.",
)
def sign_in():
    next_path = safe_next(flask.request.form.get("next"))
    name = str(flask.request.form.get("user", ""))[:100]
    password = str(flask.request.form.get("password", ""))[:1000]
    svc = services()
    with svc.live.lock:
        user = verify(svc.live.accounts, name, password)
        known = name in svc.live.accounts.users
    if user is None:
        now = datetime.now(UTC)
        svc.sign_in_failures.note(name, known, client_key(), now)
        if (failed := svc.sign_in_failures.take(now)) is not None:
            svc.publish_control(ev.SignInsFailed, **failed)
        return _page("User or password is wrong.", next_path, 401)
    if needs_rehash(user.password_hash):  # an older hash: keep the same password, with argon2
        svc.publish_control(
            ev.AccountChanged, user=name, by=name, password_hash=hash_password(password), keep_sessions=True
        )
    _start_session(user=name, role=user.role)
    return flask.redirect(next_path, 303)


def _start_session(user: str, role: str, **extra: str) -> None:
    svc = services()
    sid = secrets.token_urlsafe(18)
    flask.session.clear()
    flask.session.update(sid=sid, user=user, role=role, issued=time.time(), **extra)
    flask.session.permanent = True
    svc.publish_control(ev.SessionStarted, session_id=sid, user=user, role=role, client=client_key())


@login.get("/logout")
def sign_out():
    sid = flask.session.get("sid")
    who = current_who()
    if isinstance(sid, str):
        services().publish_control(ev.SessionRevoked, session_id=sid, by=who.user if who else "anonymous")
    flask.session.clear()
    return flask.redirect("/login", 303)


@login.get("/kiosk/<token>")
def kiosk(token: str):
    """Sign a wall screen in with its long-lived token, then show its line in kiosk mode."""
    svc = services()
    with svc.live.lock:
        found = kiosk_for_token(svc.live.accounts, token)
    if found is None:
        flask.abort(404)
    label, entry = found
    _start_session(user=f"kiosk:{label}", role="wall", kiosk=token)
    # A screen given a line stays on it; one without shows every line (of its site) in turn.
    rotate_s = 0 if entry.line_id else svc.settings.kiosk_rotate_s
    line = entry.line_id or next((line.id for line in svc.plant.lines if entry.site_id in (None, line.site_id)), None)
    query = {"line": line, "kiosk": 1, "rotate": f"{rotate_s:g}" if rotate_s else None}
    return flask.redirect("/floor?" + urlencode({k: v for k, v in query.items() if v}), 303)


@login.get("/api/session")
def session_state():
    """Tell a page whether its session is still valid (a revoked wall screen goes to the sign-in page)."""
    who = current_who()
    if who is None:
        return flask.jsonify({"signed_in": False}), 401
    return flask.jsonify({"signed_in": True, "role": who.role, "user": who.user, "site": who.site_id})


def install_guard(server: flask.Flask) -> None:
    """Send anonymous or unentitled visitors of protected pages to the sign-in form."""

    @server.before_request
    def _guard():
        area = auth.PROTECTED_PATHS.get(flask.request.path)
        if area is None or auth.may(current_who(), area):
            return None
        return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}", 303)


__all__ = ["SESSION_DAYS", "install_guard", "login", "safe_next"]
