"""REST endpoints declared once: the route, its parameters (parsed and checked here), its answers.

Handlers receive their parameters already parsed (a bad one is a 400 naming it, never a 500),
and ``/api/openapi.json`` (with ``/api/docs``, the same for people) is generated from the same
declarations (:func:`openapi`, :func:`docs_page`), so the description cannot drift from what the
handlers accept. tests/test_openapi.py validates the document and sends one request per
documented answer to the real handler; an endpoint with query parameters documents the 400 its
parsing gives.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flask
from markupsafe import escape

from config import parse_timestamp
from web.hardening import error


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "string"  # string, integer, date-time, boolean
    where: str = "query"  # query or path
    required: bool = False
    description: str = ""
    enum: tuple[str, ...] = ()
    maximum: int | None = None


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # OpenAPI form: /api/orders/{token}
    summary: str
    params: tuple[Param, ...]
    responses: dict[int, str]
    auth: str  # public, api_key_or_session, api_key, session
    body: str | None = None  # the request body's media type and meaning
    tags: tuple[str, ...] = field(default_factory=tuple)


ENDPOINTS: list[Endpoint] = []


def _parse(param: Param, raw: str) -> Any:
    if param.kind == "integer":
        value = int(raw)
        if param.maximum is not None and not 0 <= value <= param.maximum:
            raise ValueError(f"must be between 0 and {param.maximum}")
        return value
    if param.kind == "date-time":
        return parse_timestamp(raw)
    if param.kind == "boolean":
        if raw not in ("0", "1", "true", "false"):
            raise ValueError("must be true or false")
        return raw in ("1", "true")
    if len(raw) > 200:
        raise ValueError("is too long")
    if param.enum and raw not in param.enum:
        raise ValueError(f"must be one of {', '.join(param.enum)}")
    return raw


def api(
    blueprint: flask.Blueprint,
    method: str,
    rule: str,
    summary: str,
    responses: dict[int, str],
    params: tuple[Param, ...] = (),
    auth: str = "public",
    body: str | None = None,
    tags: tuple[str, ...] = (),
) -> Callable:
    """Register a REST endpoint: Flask route plus its declaration; query parameters arrive parsed as keywords."""
    path = blueprint.url_prefix or ""
    openapi_path = path + _openapi_rule(rule)
    query = [p for p in params if p.where == "query"]
    if query and 400 not in responses:  # the wrapper below answers it for any query parameter
        responses = {**responses, 400: "a parameter that does not parse (the error names it)"}
    ENDPOINTS.append(Endpoint(method.upper(), openapi_path, summary, params, responses, auth, body, tags))

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def wrapper(**path_args: Any) -> Any:
            args = flask.request.args
            values: dict[str, Any] = {}
            for p in query:
                raw = args.get(p.name)
                if raw in (None, ""):
                    if p.required:
                        return error(400, "missing_parameter", f"{p.name} is required")
                    values[p.name] = None
                    continue
                try:
                    values[p.name] = _parse(p, raw)
                except ValueError as exc:
                    return error(400, f"bad_{p.name}", f"{p.name}: {exc}")
            return handler(**path_args, **values)

        blueprint.add_url_rule(rule, view_func=wrapper, methods=[method.upper()], endpoint=handler.__name__)
        return wrapper

    return decorate


def _openapi_rule(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


_TYPES = {"string": {"type": "string"}, "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
          "date-time": {"type": "string", "format": "date-time"}}  # fmt: skip
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
   "public": [], "api_key": [{"bearer": []}], "api_key_or_session": [{"bearer": []}, {"session": []}],
             "session": [{"session": []}]}  # fmt: skip


def openapi(title: str, version: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every declared endpoint."""
    paths: dict[str, dict[str, Any]] = {}
    for e in ENDPOINTS:
        operation: dict[str, Any] = {
            "summary": e.summary,
            "operationId": e.method.lower() + "_" + re.sub(r"[^a-z0-9]+", "_", e.path.strip("/")).strip("_"),
            "parameters": [{"name": p.name, "in": p.where, "required": p.required or p.where == "path",
                            "description": p.description,
                            "schema": {**_TYPES[p.kind], **({"enum": list(p.enum)} if p.enum else {})}}
                           for p in e.params],
            "responses": {str(code): {"description": text, "content": {"application/json": {}}}
                          for code, text in e.responses.items()},
            "security": _SECURITY[e.auth],
        }  # fmt: skip
        if e.tags:
            operation["tags"] = list(e.tags)
        if e.body:
            media, _, meaning = e.body.partition(" ")
            operation["requestBody"] = {
                "required": True,
                "description": meaning,
                "content": {m: {} for m in media.split("|")},
            }
        paths.setdefault(e.path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (TF_API_KEYS)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session", "description": "a signed-in session"},
            }
        },
    }


_AUTH_TEXT = {"public": "no sign-in", "api_key": "API key", "api_key_or_session": "API key or a signed-in session",
              "session": "a signed-in session"}  # fmt: skip


def docs_page(title: str) -> str:
    """Return the API's reference as one HTML page, from the same declarations (no script, no outside asset)."""
    rows = []
    for e in sorted(ENDPOINTS, key=lambda e: (e.path, e.method)):
        params = "".join(
            f"<li><code>{escape(p.name)}</code> ({escape(p.where)}, {escape(p.kind)}"
            f"{', required' if p.required or p.where == 'path' else ''}) {escape(p.description)}</li>"
            for p in e.params
        )
        answers = "".join(f"<li><b>{code}</b> {escape(text)}</li>" for code, text in sorted(e.responses.items()))
        body = f"<p>Body: <code>{escape(e.body)}</code></p>" if e.body else ""
        rows.append(
            f'<section id="{escape(e.method.lower() + e.path)}"><h2><code>{e.method} {escape(e.path)}</code></h2>'
            f"<p>{escape(e.summary)}. <i>{escape(_AUTH_TEXT[e.auth])}</i></p>{body}"
            f"{'<ul>' + params + '</ul>' if params else ''}<ul>{answers}</ul></section>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} API</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body><h1>{escape(title)} API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>'
        f" (OpenAPI 3.1).</p>{''.join(rows)}</body></html>"
    )
