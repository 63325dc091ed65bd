"""HTTP hardening for every response and every request.

- Security headers: a Content-Security-Policy that allows only this origin's scripts plus the
  hashes of Dash's own inline scripts, no framing, no MIME sniffing, ``Referrer-Policy:
  no-referrer`` (a tracker link must never leak through a Referer), and ``no-store`` on pages
  behind a secret link so shared caches keep no copy.
- Behind a reverse proxy (``--trusted-proxies N``), Werkzeug's ProxyFix takes the client
  address, scheme and host from the last N hops of ``X-Forwarded-For``/``-Proto``/``-Host``; from nobody else.
- The session cookie is marked ``Secure`` whenever the request came over HTTPS (directly, or as a
  trusted proxy says), so a browser never sends it over plain HTTP.
- Clean JSON: every JSON answer is valid JSON (NaN and infinities become null).
- Bodies: Dash answers a malformed ``/_dash-update-component`` body with a 500; users expect a
  4xx. JSON bodies too deep or too large are refused with 400/413 before anything parses them.
- A path that is no page, no route and no asset answers 404 (Dash alone answers its page shell
  with 200 for any path).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from factory.history import HistoryUnavailable

MAX_CALLBACK_BODY = 256 * 1024  # bytes; the largest legitimate callback body here is a few kB
MAX_JSON_DEPTH = 32
SECRET_LINK_PREFIXES = ("/track/", "/api/orders/", "/verify")  # /verify?s=<signature> shows facts


def attachment(response: flask.Response, stem: str, unit_code: str, kind: str) -> flask.Response:
    """Mark a per-unit download: a file name cut to plain characters (the unit code comes from a
    line), and not cached (it sits behind a secret link)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", unit_code)[:100]
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-{name}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def clean(value: Any) -> Any:
    """Return ``value`` with NaN and infinities replaced by None, recursively (so JSON stays JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


class CleanJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing to write NaN: missing values are null."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(clean(obj), default=self.default, **kwargs)


def json_depth_ok(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Tell whether a JSON text nests at most ``limit`` levels (counted without parsing it)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return True  # too few brackets to nest that deep: no need to walk the text byte by byte
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, ``Secure`` on every answer to an HTTPS request."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return super().get_cookie_secure(app) or (flask.has_request_context() and flask.request.is_secure)


def error(status: int, reason: str, detail: str) -> flask.Response:
    """Return a JSON error answer."""
    response = flask.jsonify({"error": reason, "detail": detail})
    response.status_code = status
    return response


def forwarded_value(environ: dict, header: str, trusted: int) -> str | None:
    """The value ``trusted`` proxies vouch for, chosen as Werkzeug's ProxyFix chooses it.

    The socket server sees the request before ProxyFix does (it wraps the Flask app, not the
    Socket.IO middleware): each proxy appends a value, so the first of ours is the trusted-th
    from the end; with fewer values than proxies, nothing is believed.
    """
    values = [v.strip() for v in environ.get(header, "").split(",") if v.strip()]
    return values[-trusted] if len(values) >= trusted else None


def socket_origin_policy(allowed_origins: tuple[str, ...], trusted_proxies: int = 0) -> Callable:
    """Sockets may be opened by pages of this server only (its own origin, or one the operator allowed).

    Engine.IO's ``cors_allowed_origins``: called with the handshake's Origin and its environ.
    """
    allowed = set(allowed_origins)

    def allow(origin: str | None, environ: dict | None = None) -> bool:
        if origin is None or origin in allowed:
            return True
        if environ is None:
            return False
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        if trusted_proxies > 0:  # behind our proxies the public scheme and host are the forwarded ones
            scheme = forwarded_value(environ, "HTTP_X_FORWARDED_PROTO", trusted_proxies) or scheme
            host = forwarded_value(environ, "HTTP_X_FORWARDED_HOST", trusted_proxies) or host
        return origin == f"{scheme}://{host}"

    return allow


def install(dash_app: dash.Dash, trusted_proxies: int = 0, push_url: str | None = None) -> None:
    """Add the headers, proxy handling, JSON rules and request checks to ``dash_app``'s server."""
    server = dash_app.server
    server.json = CleanJSONProvider(server)
    server.session_interface = SessionCookies()
    if trusted_proxies > 0:
        server.wsgi_app = ProxyFix(
            server.wsgi_app,
            x_for=trusted_proxies,
            x_proto=trusted_proxies,
            x_host=trusted_proxies,
        )
    policy: list[str] = []

    def csp() -> str:
        # Built at the first response: Dash registers some inline scripts (the page title's
        # clientside callback) only when it sets itself up on the first request.
        if not policy:
            policy.append("; ".join([
                "default-src 'self'",
                f"script-src 'self' {' '.join(dash_app.csp_hashes())}",
                "style-src 'self' 'unsafe-inline'",  # React sets style attributes
                "img-src 'self' data:",
                " ".join(["connect-src 'self'", *_push_sources(push_url)]),
                "frame-ancestors 'none'",
                "base-uri 'none'",
                "form-action 'self'",
            ]))  # fmt: skip
        return policy[0]

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        response.headers.setdefault("Content-Security-Policy", csp())
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if flask.request.path.startswith(SECRET_LINK_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response

    @server.errorhandler(dash.exceptions.CallbackException)
    def _callback_mismatch(exc):
        # Raised while Dash matches the request's outputs to the callback: the client's fault.
        return error(400, "bad_callback_request", f"callback request does not match the callback: {exc}")

    @server.errorhandler(HistoryUnavailable)
    def _history_away(exc):
        # A shared history's server that is down: the live pages go on; what needs history waits.
        response = error(503, "history_unavailable", str(exc))
        response.headers["Retry-After"] = "10"
        return response

    @server.errorhandler(413)
    def _too_large(_exc):
        return error(413, "too_large", "the request body is too large")

    @server.before_request
    def _json_bodies():
        request = flask.request
        if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/json",
            "application/x-ndjson",
        ):
            limit = MAX_CALLBACK_BODY if request.path == "/_dash-update-component" else None
            if limit is not None and (request.content_length or 0) > limit:
                return error(413, "too_large", "callback body too large")
            # Ingested lines are judged one by one (streams.codec refuses a deep one into the dead
            # letter with the rest of the batch taken), so one bad line cannot refuse a whole batch.
            if request.path != "/api/events" and not json_depth_ok(request.get_data(cache=True)):
                return error(400, "too_deep", f"JSON nests more than {MAX_JSON_DEPTH} levels")
        if request.path == "/_dash-update-component" and request.method == "POST":
            return _check_callback_body(dash_app)
        return None

    pages: list[re.Pattern] = []

    @server.before_request
    def _unknown_paths():
        if not pages:
            pages.extend(_page_patterns())
        path = flask.request.path
        adapter = server.url_map.bind("")
        try:
            endpoint, _ = adapter.match(path, method=flask.request.method)
        except HTTPException:
            return None  # Flask answers 404 / 405 itself
        if endpoint != "/<path:path>" or any(p.fullmatch(path) for p in pages):
            return None
        return flask.make_response(dash_app.index(), 404)


def _push_sources(push_url: str | None) -> list[str]:
    """The push gateway's origin, for its resync requests and (as ws:/wss:) its sockets."""
    if not push_url:
        return []
    parts = urlsplit(push_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [origin, origin.replace("http", "ws", 1)]


def _page_patterns() -> list[re.Pattern]:
    patterns = []
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            patterns.append(re.compile(re.sub(r"<[^>]+>", "[^/]+", re.escape(template))))
        patterns.append(re.compile(re.escape(page["path"])))
    return patterns


def _check_callback_body(dash_app: dash.Dash) -> flask.Response | None:
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "bad_callback_request", "callback body must be a JSON object")
    output, inputs = body.get("output"), body.get("inputs", [])
    # Clientside callbacks are listed too, but have no server function to call.
    if not isinstance(output, str) or "callback" not in dash_app.callback_map.get(output, {}):
        return error(400, "bad_callback_request", "unknown callback output")
    if output.startswith("..") != isinstance(body.get("outputs"), list):  # Dash would fail on the return
        return error(400, "bad_callback_request", "callback outputs do not match the callback")
    if not isinstance(inputs, list) or not all(isinstance(i, (dict, list)) for i in inputs):
        return error(400, "bad_callback_request", "callback inputs must be a list of objects")
    if "_pages_content" in output and not _router_inputs_ok(inputs):
        return error(
            400, "bad_callback_request", "the page router needs a pathname starting with '/' and a text search"
        )
    return None


def _router_inputs_ok(inputs: list) -> bool:
    """Dash's page router raises (a 500) on a pathname it cannot map; refuse such input first."""
    for item in inputs:
        if not isinstance(item, dict):
            return False
        value = item.get("value")
        if item.get("property") == "pathname" and not (
            isinstance(value, str) and value.startswith("/") and len(value) < 2048
        ):
            return False
        if item.get("property") == "search" and not (value is None or (isinstance(value, str) and len(value) < 2048)):
            return False
    return True
