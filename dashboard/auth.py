"""Who may see what: the one place that turns a request or a socket handshake into access.

A socket names the view it wants in its handshake ``auth`` payload; this module decides which
room (if any) it may join. Tracker rooms are keyed by the order's token, so knowing the token is
the customer's proof of access; anything malformed or unknown is refused the same way.
"""
from __future__ import annotations

import hmac
import re
from typing import Any, Callable, Iterable

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_well_formed_token(token: object) -> bool:
    """Tell whether ``token`` could be a tracking token (cheap check before any lookup)."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


def floor_room(line_id: str) -> str:
    """Return the Socket.IO room of a line's floor screens."""
    return f"floor:{line_id}"


def order_room(token: str) -> str:
    """Return the Socket.IO room of one order's trackers."""
    return f"order:{token}"


def room_for_socket(auth: Any, has_line: Callable[[str], bool], knows_token: Callable[[str], bool]) -> str | None:
    """Return the room a connecting socket may join, or None to refuse the connection.

    Floor screens are open in this version (login and kiosk tokens are planned); the tracker
    room is granted only for a known token.
    """
    if not isinstance(auth, dict):
        return None
    view = auth.get("view")
    if view == "floor":
        line_id = auth.get("line")
        return floor_room(line_id) if isinstance(line_id, str) and has_line(line_id) else None
    if view == "track":
        token = auth.get("token")
        return order_room(token) if is_well_formed_token(token) and knows_token(token) else None
    return None


def bearer_key_ok(authorization: str | None, keys: Iterable[str]) -> bool:
    """Tell whether an ``Authorization: Bearer KEY`` header names one of ``keys`` (constant-time compare)."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    offered = authorization[len("Bearer "):].strip().encode()
    return any(hmac.compare_digest(offered, key.encode()) for key in keys)
