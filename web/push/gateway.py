"""The Socket.IO gateway: who may join which room, the snapshot on join, resync on request, sign-outs.

A socket names the view it wants in its handshake; web.auth decides the room from that and the
session, checked on every connection (a revoked wall screen reconnecting is refused). On join
the socket gets the room's whole view; on a gap in sequence numbers the browser asks ``resync``
and gets it again. Both go through the join pace (web.push.join_pace): a join in normal operation
is served at once, and the viewers of a restarted worker are served at a steady rate. When the
control log revokes a session, disables a user, changes a password or revokes a wall screen, that
socket is disconnected here, on every worker.
"""

from __future__ import annotations

import logging
from typing import Any

import flask
from flask_socketio import SocketIO, disconnect

from streams import events as ev
from web import auth
from web.accounts import Who, session_who
from web.push.join_pace import JoinPace
from web.push.rooms import Member, Rooms
from web.ratelimit import client_key

log = logging.getLogger(__name__)


class Gateway:
    def __init__(self, socketio: SocketIO, rooms: Rooms, pace: JoinPace | None = None) -> None:
        self.socketio = socketio
        self.rooms = rooms
        self.queries = rooms.queries
        self.pace = pace or JoinPace(rate=0)  # none given: unpaced
        self.refused = 0

    def on_connect(self, sid: str, payload: Any) -> bool:
        """Admit a socket to the room its handshake and session allow, and send it the room's view."""
        live = self.queries.live
        with live.lock:
            who = session_who(live.accounts, dict(flask.session))
        plant = self.queries.plant

        def knows(token: str) -> bool:
            finder = self.queries.find_order
            return finder(token, client_key())[0] == 200

        room = auth.room_for_socket(payload, who, plant.has_line, lambda line: plant.line(line).site_id, knows)
        if room is None:
            self.refused += 1
            return False
        delay = self.pace.reserve()
        if delay > 0:
            # A storm: accept the socket now and send its view at its turn. Holding the handshake
            # instead would make clients give up (python-socketio's waits 1 s for it, then backs
            # off for up to 10 s), and the storm would come back as a second one.
            self.socketio.start_background_task(self._join_later, sid, room, who, delay)
            return True
        frame = self.rooms.snapshot(room, joining=True)
        if frame is None:
            self.refused += 1
            return False
        self._join(sid, room, who, frame)
        return True

    def _join_later(self, sid: str, room: str, who: Who | None, delay: float) -> None:
        """Join a socket accepted during a storm to its room once its turn has come."""
        self.pace.sleep(delay)
        if not self._connected(sid):
            return  # it left while waiting: no frame to build, and no membership to leak
        frame = self.rooms.snapshot(room, joining=True)
        if frame is None:  # its order went away while it waited: refused, as it would be now
            self.refused += 1
            self.socketio.server.disconnect(sid)
            return
        if self._connected(sid):  # checked again: building the frame may have yielded
            self._join(sid, room, who, frame)

    def _join(self, sid: str, room: str, who: Who | None, frame: dict[str, Any]) -> None:
        self.socketio.server.enter_room(sid, room, namespace="/")
        self.rooms.join(sid, room, who)
        self.socketio.emit(room.partition(":")[0], frame, to=sid)

    def _connected(self, sid: str) -> bool:
        return bool(self.socketio.server.manager.is_connected(sid, "/"))

    def on_resync(self, sid: str) -> None:
        """Send a socket its room's whole view again (it saw a gap), at the join pace."""
        if sid not in self.rooms.members:
            return
        self.pace.wait()  # in this event's own task, holding no lock
        member = self.rooms.members.get(sid)  # looked up again: it may have left while waiting
        if member is None:
            return
        frame = self.rooms.snapshot(member.room)
        if frame is not None:
            self.socketio.emit(member.room.partition(":")[0], frame, to=sid)

    def on_control(self, event: ev.Event) -> None:
        """Disconnect the sockets a control event takes access from (told by the pump, on every worker)."""

        def test(member: Member) -> bool:
            who = member.who
            if who is None:
                return False
            if isinstance(event, ev.SessionRevoked):
                return who.session_id == event.session_id
            if isinstance(event, ev.KioskRevoked):
                return who.user == f"kiosk:{event.label}"
            if isinstance(event, ev.AccountChanged):
                return who.user == event.user
            return False

        if not isinstance(event, (ev.SessionRevoked, ev.KioskRevoked, ev.AccountChanged)):
            return
        for sid in self.rooms.sids_where(test):
            log.info("signing out socket %s (%s)", sid, event.KIND)
            self.rooms.leave(sid)
            self.socketio.start_background_task(self.socketio.server.disconnect, sid)

    def register(self) -> None:
        """Wire the default namespace's events to this gateway."""

        @self.socketio.on("connect")
        def _connect(payload=None):
            return self.on_connect(flask.request.sid, payload)  # type: ignore[attr-defined]

        @self.socketio.on("resync")
        def _resync(*_args):
            self.on_resync(flask.request.sid)  # type: ignore[attr-defined]

        @self.socketio.on("disconnect")
        def _disconnect(*_reason):
            self.rooms.leave(flask.request.sid)  # type: ignore[attr-defined]


__all__ = ["Gateway", "disconnect"]
