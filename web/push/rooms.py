"""Socket.IO rooms: who watches what, and one frame per changed room per beat, sent alike to every member.

A tracker room (``order:<token>``) changes a few times an hour: its frame goes out with the next
batch of events. A line's floor room (``floor:<line>``) changes all the time: its frames are
coalesced to one per ``frame_interval_s``, and a watched floor gets one at least every
``HEARTBEAT_S`` so its screens can tell a quiet line from a dead connection. Each frame is built
once per room and per beat (web.push.frames) and emitted once to the room; building a room's
frame can fail on its own without stopping the others.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web.accounts import Who
from web.auth import floor_room, order_room
from web.push.frames import RoomFrames
from web.push.queries import LiveQueries

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0
PAUSE_EVERY_S = 0.005  # of frame building, before the sockets may send what was emitted
Emit = Callable[[str, Any, str], None]  # (event name, payload, room or sid)


@dataclass
class Member:
    room: str
    who: Who | None


class Rooms:
    """Membership and frames of every room of this process."""

    def __init__(
        self,
        queries: LiveQueries,
        emit: Emit,
        health: Callable[[], dict[str, Any]] = dict,
        pause: Callable[[], None] = lambda: None,
    ) -> None:
        self.queries = queries
        self.frames = RoomFrames()
        self._emit = emit
        self._health = health
        self._pause = pause  # lets the sockets send what was emitted (under gevent: a yield)
        self.members: dict[str, Member] = {}  # sid -> membership
        self.watchers: Counter[str] = Counter()  # room -> sockets
        self._floor_sent: dict[str, float] = {}  # floor room -> monotonic time of its last frame
        self.frames_sent: Counter[str] = Counter()  # room kind -> frames
        self.frames_failed = 0

    @property
    def epoch(self) -> str:
        return self.frames.epoch

    # --- membership -----------------------------------------------------------------------------
    def join(self, sid: str, room: str, who: Who | None) -> None:
        self.leave(sid)
        self.members[sid] = Member(room, who)
        self.watchers[room] += 1

    def leave(self, sid: str) -> None:
        member = self.members.pop(sid, None)
        if member is None:
            return
        self.watchers[member.room] -= 1
        if self.watchers[member.room] <= 0:
            del self.watchers[member.room]
            self.frames.forget(member.room)
            self._floor_sent.pop(member.room, None)

    def sids_where(self, test: Callable[[Member], bool]) -> list[str]:
        """Return the sockets whose membership passes ``test`` (e.g. one user's sessions)."""
        return [sid for sid, member in self.members.items() if test(member)]

    def viewers_by_kind(self) -> dict[str, int]:
        """Return how many sockets watch floors and trackers."""
        out: Counter[str] = Counter()
        for room, n in self.watchers.items():
            out[room.partition(":")[0]] += n
        return dict(out)

    # --- frames ---------------------------------------------------------------------------------
    def view(self, room: str, cache: dict | None = None) -> Any:
        """Return what a room shows now (None when its subject is gone)."""
        kind, _, key = room.partition(":")
        if kind == "floor":
            view = self.queries.floor(key, cache)
            view["kpis"] = self.queries.line_kpis_cache.get(key)
            return view
        return self.queries.order(key)

    def snapshot(self, room: str, joining: bool = False, view: Any = None) -> dict[str, Any] | None:
        """Return the whole frame of ``room`` now: for a socket ``joining`` it, or an API reader.

        ``view`` is the room's view when the caller has just built it (the token's lookup did).
        """
        if view is None:
            view = self.view(room)
        if view is None:
            return None
        watched = self.watchers[room] > 0
        if not watched:
            # Frames go out only to watched rooms, so the last view of an unwatched one is old:
            # it starts again from now, and is kept only for the socket that joins it (a poller
            # of many tokens would otherwise grow the memory with rooms nobody watches).
            self.frames.forget(room)
        frame = self.frames.whole(room, view)
        if not watched and not joining:
            self.frames.forget(room)
        return self._stamp(room, frame)

    def _stamp(self, room: str, frame: dict[str, Any]) -> dict[str, Any]:
        if room.startswith("floor:"):
            # Freshness: the browser adds the time since it received the frame to sent - fed.
            live = self.queries.live
            frame["t"] = {
                "sent": round(time.time() * 1000),
                "fed": round(live.fed_at * 1000) if live.fed_at else None,
                "quiet": self.queries.quiet(),
                "health": self._health(),
            }
        return frame

    def flush_orders(self, units: set[str]) -> int:
        """Send a frame to every watched tracker room whose unit changed; return how many were sent."""
        live = self.queries.live
        with live.lock:
            tokens = [u.tracking_token for code in units if (u := live.state.units.get(code)) and u.tracking_token]
        rooms = [room for token in tokens if self.watchers[room := order_room(token)] > 0]
        return self._send(rooms)

    def flush_floors(self, lines: set[str]) -> int:
        """Send a frame to every watched floor room that changed, or that is due a heartbeat."""
        due = time.monotonic() - HEARTBEAT_S
        rooms = [
            room
            for room in self.watchers
            if room.startswith("floor:") and (room.partition(":")[2] in lines or self._floor_sent.get(room, 0.0) <= due)
        ]
        for room in rooms:
            self._floor_sent[room] = time.monotonic()
        return self._send(rooms)

    def _send(self, rooms: list[str]) -> int:
        sent = 0
        cache: dict = {}  # each line's members, computed once for all the floor frames of this beat
        # An emitted frame waits in its sockets' queues until the pump lets them run: after a
        # backlog (a thousand rooms to send) the first ones would wait for the last. So the pump
        # pauses every PAUSE_EVERY_S of work, and no frame waits for more than that.
        paused_at = time.perf_counter()
        for room in rooms:
            if time.perf_counter() - paused_at >= PAUSE_EVERY_S:
                self._pause()
                paused_at = time.perf_counter()
            if self.watchers[room] <= 0:
                continue  # its last viewer left during a pause: a frame now would keep its view for ever
            try:
                view = self.view(room, cache)
                if view is None:
                    continue
                frame = self.frames.next(room, view)
                if frame is None and room.startswith("floor:"):
                    frame = {"e": self.frames.epoch, "s": self.frames.whole(room, view)["s"], "b": None, "p": None}
                if frame is None:
                    continue
                self._emit(room.partition(":")[0], self._stamp(room, frame), room)
                self.frames_sent[room.partition(":")[0]] += 1
                sent += 1
            except Exception:  # one room's frame must never stop the others
                self.frames_failed += 1
                log.exception("frame for %s not sent", room)
        return sent


__all__ = ["HEARTBEAT_S", "Member", "Rooms", "floor_room"]
