"""HTTP hardening for every response and every callback request.

- Security headers: a Content-Security-Policy that allows only this origin's scripts plus the
  hashes of Dash's own inline scripts, no framing, no MIME sniffing, ``Referrer-Policy:
  no-referrer`` (a tracker link must never leak through a Referer), and ``no-store`` on pages
  behind a secret link so shared caches keep no copy.
- Callback requests: Dash answers a malformed ``/_dash-update-component`` body with a 500; users
  expect a 4xx. The body is checked for shape, size and a known callback before Dash sees it.
"""

from __future__ import annotations

import dash
import flask

MAX_CALLBACK_BODY = 256 * 1024  # bytes; the largest legitimate callback body here is a few kB


def install(dash_app: dash.Dash) -> None:
    """Add the headers and the callback-body check to ``dash_app``'s server."""
    server = dash_app.server
    policy: list[str] = []

    def csp() -> str:
        # Built at the first response: Dash registers some inline scripts (the page title's
        # clientside callback) only when it sets itself up on the first request.
        if not policy:
            policy.append(
                "; ".join(
                    [
                        "default-src 'self'",
                        f"script-src 'self' {' '.join(dash_app.csp_hashes())}",
                        "style-src 'self' 'unsafe-inline'",  # React sets style attributes
                        "img-src 'self' data:",
                        "connect-src 'self'",
                        "frame-ancestors 'none'",
                        "base-uri 'none'",
                        "form-action 'self'",
                    ]
                )
            )
        return policy[0]

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        response.headers.setdefault("Content-Security-Policy", csp())
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if flask.request.path.startswith(("/track/", "/api/orders/")):
            response.headers["Cache-Control"] = "no-store"
        return response

    @server.errorhandler(dash.exceptions.CallbackException)
    def _callback_mismatch(exc):
        # Raised while Dash matches the request's outputs to the callback: the client's fault.
        return _reject(400, f"callback request does not match the callback: {exc}")

    @server.before_request
    def _callback_body():
        if flask.request.path != "/_dash-update-component" or flask.request.method != "POST":
            return None
        if (flask.request.content_length or 0) > MAX_CALLBACK_BODY:
            return _reject(413, "callback body too large")
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return _reject(400, "callback body must be a JSON object")
        output, inputs = body.get("output"), body.get("inputs", [])
        # Clientside callbacks are listed too, but have no server function to call.
        if not isinstance(output, str) or "callback" not in dash_app.callback_map.get(output, {}):
            return _reject(400, "unknown callback output")
        if output.startswith("..") != isinstance(body.get("outputs"), list):  # Dash would fail on the return
            return _reject(400, "callback outputs do not match the callback")
        if not isinstance(inputs, list) or not all(isinstance(i, (dict, list)) for i in inputs):
            return _reject(400, "callback inputs must be a list of objects")
        if "_pages_content" in output and not _router_inputs_ok(inputs):
            return _reject(400, "the page router needs a pathname starting with '/' and a text search")
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


def _reject(status: int, detail: str) -> flask.Response:
    response = flask.jsonify({"error": "bad_callback_request", "detail": detail})
    response.status_code = status
    return response
