"""Who may see what: the one place that turns a request or a socket handshake into access.

Roles: a customer has only an order's token; a wall screen (kiosk token), a manager, an
executive and an admin log in and carry their role in the signed session cookie. Every page
layout, socket room and API that returns factory data asks this module, on the server, each
time: a client can call any callback with any inputs and any pathname.

A socket names the view it wants in its handshake ``auth`` payload; this module decides which
room (if any) it may join. Tracker rooms are keyed by the order's token, so knowing the token is
the customer's proof of access; anything malformed or unknown is refused the same way.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable
from typing import Any

ACCOUNTS_EXTENSION = "transparent_factory.accounts"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_well_formed_token(token: object) -> bool:
    """Tell whether ``token`` could be a tracking token (cheap check before any lookup)."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


# What each area needs. A customer's tracker needs no role: its token is the key.
AREAS = {
    "floor": {"wall", "manager", "executive", "admin"},
    "kpis": {"manager", "executive", "admin"},
    "exec": {"executive", "admin"},
    "orders": {"manager", "admin"},
    "acknowledge": {"manager", "admin"},  # andon alarms, from the floor screen
}
PROTECTED_PATHS = {"/floor": "floor", "/exec": "exec", "/orders": "orders"}


def may(role: str | None, area: str) -> bool:
    """Tell whether ``role`` may see ``area``."""
    return role in AREAS[area]


def current_role() -> str | None:
    """Return the role of the session making this request (None: anonymous).

    A wall screen's session is only as good as its kiosk token: revoking the token ends it at
    the screen's next request or reconnection.
    """
    import flask

    kiosk = flask.session.get("kiosk")
    if kiosk is not None and flask.current_app.extensions[ACCOUNTS_EXTENSION].kiosk(kiosk) is None:
        flask.session.clear()
        return None
    return flask.session.get("role")


def floor_room(line_id: str) -> str:
    """Return the Socket.IO room of a line's floor screens."""
    return f"floor:{line_id}"


def order_room(token: str) -> str:
    """Return the Socket.IO room of one order's trackers."""
    return f"order:{token}"


def room_for_socket(
    auth: Any, has_line: Callable[[str], bool], knows_token: Callable[[str], bool], role: str | None = None
) -> str | None:
    """Return the room a connecting socket may join, or None to refuse the connection.

    A floor room needs a role allowed on the floor; a tracker room needs a known token.
    """
    if not isinstance(auth, dict):
        return None
    view = auth.get("view")
    if view == "floor":
        line_id = auth.get("line")
        ok = may(role, "floor") and isinstance(line_id, str) and has_line(line_id)
        return floor_room(line_id) if ok else None
    if view == "track":
        token = auth.get("token")
        return order_room(token) if is_well_formed_token(token) and knows_token(token) else None
    return None


def bearer_key_ok(authorization: str | None, keys: Iterable[str]) -> bool:
    """Tell whether an ``Authorization: Bearer KEY`` header names one of ``keys`` (constant-time compare)."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    offered = authorization[len("Bearer ") :].strip().encode()
    return any(hmac.compare_digest(offered, key.encode()) for key in keys)
