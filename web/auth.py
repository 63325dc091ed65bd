"""Who may see what: the one place that turns a request or a socket handshake into access.

Roles: a customer has only an order's token; a wall screen (kiosk link), a manager, an executive
and an admin sign in and carry a session (web.accounts decides whether it is still valid, on
every request and every socket connection). Managers, executives and wall screens may be bound
to one site (a wall screen even to one line); they see only that. Every page layout, socket
room and API that returns factory data asks this module, on the server, each time: a client can
call any callback with any inputs and any pathname.

A socket names the view it wants in its handshake ``auth`` payload; this module decides which
room (if any) it may join. Tracker rooms are keyed by the order's token, so knowing the token is
the customer's proof of access; anything malformed or unknown is refused the same way.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable
from typing import Any

from web.accounts import Who

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_well_formed_token(token: object) -> bool:
    """Tell whether ``token`` could be a tracking token (cheap check before any lookup)."""
    return isinstance(token, str) and TOKEN_PATTERN.fullmatch(token) is not None


# What each area needs. A customer's tracker needs no role: its token is the key.
AREAS = {
    "floor": {"wall", "manager", "executive", "admin"},
    "kpis": {"manager", "executive", "admin"},
    "exec": {"executive", "admin"},
    "replay": {"manager", "executive", "admin"},  # a line's floor at a past moment (not wall screens)
    "demand": {"executive", "admin"},  # the enterprise's demand: accounts bound to a site see none of it
    "orders": {"manager", "admin"},
    "acknowledge": {"manager", "admin"},  # andon alarms, from the floor screen; shelving them
    "alarms": {"manager", "executive", "admin"},  # the alarm journal
    "inbox": {"manager", "admin"},  # customers' feedback
    "dead_letters": {"manager", "admin"},  # refused input, and re-submitting it fixed
    "reports": {"manager", "admin"},  # end-of-shift reports (web.shift_reports)
    "downtime": {"manager", "admin"},  # classifying a line's stops
    "health": {"manager", "executive", "admin"},  # the floor's banner when something is wrong
    "admin": {"admin"},
    "spc": {"manager", "executive", "admin"},  # control charts of the test measurements, of one's own site
}
PROTECTED_PATHS = {
    "/floor": "floor",
    "/exec": "exec",
    "/whatif": "exec",
    "/demand": "demand",
    "/orders": "orders",
    "/inbox": "inbox",
    "/alarms": "alarms",
    "/spc": "spc",
    "/dead-letters": "dead_letters",
    "/admin/users": "admin",
    "/admin/audit": "admin",
    "/reports": "reports",
    "/downtime": "downtime",
}


def may(who: Who | str | None, area: str) -> bool:
    """Tell whether someone (or a role) may see ``area``."""
    role = who.role if isinstance(who, Who) else who
    return role in AREAS[area]


def may_see_demand(who: Who | None) -> bool:
    """Tell whether someone may see the demand page: an executive or admin bound to no site.

    Demand is the enterprise's: a configurator visit that did not order belongs to no site, and
    a product's demand with one site's orders but every site's visits would mislead.
    """
    return who is not None and may(who, "demand") and who.site_id is None and who.line_id is None


def may_see_line(who: Who | None, line_id: str, site_of: Callable[[str], str]) -> bool:
    """Tell whether someone may see one line: their site's, or the one line a wall screen is bound to."""
    if who is None:
        return False
    if who.line_id is not None and who.line_id != line_id:
        return False
    return who.site_id is None or site_of(line_id) == who.site_id


def floor_room(line_id: str) -> str:
    """Return the Socket.IO room of a line's floor screens."""
    return f"floor:{line_id}"


def order_room(token: str) -> str:
    """Return the Socket.IO room of one order's trackers."""
    return f"order:{token}"


def room_for_socket(
    payload: Any,
    who: Who | None,
    has_line: Callable[[str], bool],
    site_of: Callable[[str], str],
    knows_token: Callable[[str], bool],
) -> str | None:
    """Return the room a connecting socket may join, or None to refuse the connection.

    A floor room needs a floor role for that line's site; a tracker room needs a known token.
    """
    if not isinstance(payload, dict):
        return None
    view = payload.get("view")
    if view == "floor":
        line_id = payload.get("line")
        ok = (
            isinstance(line_id, str) and has_line(line_id) and may(who, "floor") and may_see_line(who, line_id, site_of)
        )
        return floor_room(line_id) if ok else None  # type: ignore[arg-type]
    if view == "track":
        token = payload.get("token")
        return order_room(token) if is_well_formed_token(token) and knows_token(token) else None  # type: ignore[arg-type]
    return None


def bearer_key_ok(authorization: str | None, keys: Iterable[str]) -> bool:
    """Tell whether an ``Authorization: Bearer KEY`` header names one of ``keys`` (constant-time compare)."""
    if not authorization or not authorization.startswith("Bearer "):
        return False
    offered = authorization[len("Bearer ") :].strip().encode()
    return any(hmac.compare_digest(offered, key.encode()) for key in keys)
