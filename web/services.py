"""The running app's parts, as one object request handlers, callbacks and pages reach through Flask.

``app.create_app`` builds :class:`Services` once and hangs it on the Flask app; code that serves
a request calls :func:`services` (and :func:`current_who` for access) instead of importing the
app, so no arrow points from a page back to ``app.py``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import flask

from config import Settings
from factory.history import History
from factory.layout import Plant
from streams.bus import Bus
from streams.events import Event
from web.accounts import Who, session_who
from web.customer_orders import OpenOrders, OrderLimits
from web.sign_in_failures import FailedSignIns

EXTENSION_KEY = "transparent_factory"


@dataclass
class Services:
    settings: Settings
    plant: Plant
    bus: Bus  # the event stream
    control: Bus  # the control log: what people do
    history: History
    live: Any  # web.push.pump.LivePlant
    queries: Any  # web.push.queries.LiveQueries
    rooms: Any  # web.push.rooms.Rooms
    ingestor: Any  # streams.ingest.Ingestor
    supervisor: Any  # web.supervisor.Supervisor
    run: Callable[[Callable[[], Any]], Any]  # blocking work off the event loop
    dash_app: Any = None  # dash.Dash
    socketio: Any = None  # flask_socketio.SocketIO
    extras: dict[str, Any] = field(default_factory=dict)  # optional parts (MQTT bridge, emulator, …)
    replay: Any = None  # web.push.replay.FloorReplay: the floor at past moments
    order_limits: OrderLimits = field(default_factory=OrderLimits)  # customers' orders and drafts per client
    open_orders: OpenOrders = field(default_factory=OpenOrders)  # customers' units not shipped yet
    sign_in_failures: FailedSignIns = field(default_factory=FailedSignIns)  # this worker's, for the audit log

    def publish_control(self, cls: type[Event], **data: Any) -> Event:
        """Put a person's action on the control log (every worker applies it) and return it."""
        event = cls(id=secrets.token_hex(12), source=f"/app/{self.settings.port}", time=datetime.now(UTC), **data)
        self.control.publish(event)
        return event


def services() -> Services:
    """Return the Services of the Flask app handling this request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def current_who() -> Who | None:
    """Return who makes this request (None: anonymous or a session that is no longer valid).

    Checked on every request: a revoked session, a disabled account, a changed password or a
    revoked wall screen ends access at the next request or reconnection, on every worker.
    """
    live = services().live
    with live.lock:
        who = session_who(live.accounts, dict(flask.session))
    if who is None and flask.session.get("sid"):
        flask.session.clear()
    return who


def current_role() -> str | None:
    """Return the role of the current request's session (None: anonymous)."""
    who = current_who()
    return who.role if who is not None else None
