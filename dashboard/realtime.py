"""The pump: bus -> projector -> coalesced frames -> Socket.IO rooms, with a snapshot on join.

One background task per process reads the bus and folds events into the plant's state. Every
``frame_interval_s`` it pushes one frame per changed room that has viewers, so a burst of events
becomes one update per screen. Frames carry the whole view of their room (a line is a few kB),
an ``epoch`` that changes when the server restarts and a ``seq`` that grows within it: a browser
drops anything older than what it has and needs no replay after a reconnect, because the server
sends a fresh snapshot to every socket that joins.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
from flask_socketio import SocketIO, join_room

from dashboard import auth
from dashboard.components.hourly_chart import chart_traces
from dashboard.ratelimit import MissLimiter
from factory import history_kpis
from factory.alarms import parse_alarm_id
from factory.derive import in_shift, line_members, planned_stop
from factory.history import History
from factory.layout import Plant
from factory.projector import apply
from factory.state import empty_state
from factory.views import floor_view, order_view, orders_rows
from streams.bus import Bus
from streams.codec import format_time

log = logging.getLogger(__name__)
EXTENSION_KEY = "transparent_factory.live"
FLOOR_KPIS = (
    "oee",
    "availability",
    "performance",
    "quality",
    "throughput_per_hour",
    "first_pass_yield",
    "takt_time_s",
    "actual_cycle_time_s",
    "units_completed",
    "hourly",
)
HEARTBEAT_S = 2.0  # a watched floor gets a frame at least this often, so its screen can tell "quiet" from "stale"
ACKS_KEPT = timedelta(days=7)  # acknowledgements loaded at start: longer than any alarm lasts
OFF_SHIFT_WINDOW = timedelta(hours=8)  # what the floor's KPI tiles cover when no shift is under way


class LiveFactory:
    """Holds this process's view of the plant and pushes its changes to watching sockets."""

    def __init__(
        self,
        plant: Plant,
        bus: Bus,
        socketio: SocketIO,
        frame_interval_s: float = 0.15,
        history: History | None = None,
        kpi_interval_s: float = 10.0,
        order_interval_s: float = 0.02,
    ) -> None:
        self.plant = plant
        self.bus = bus
        self.history = history
        self.kpi_interval_s = kpi_interval_s
        # A customer's room changes a few times an hour: push it at once (a 20 ms beat only
        # gathers what one burst of events did). A line's wall screen changes all the time:
        # coalesce it to a few frames a second.
        self.order_interval_s = order_interval_s
        self.misses = MissLimiter()
        self._line_kpis: dict[str, dict[str, Any]] = {}
        self.socketio = socketio
        self.frame_interval_s = frame_interval_s
        self.epoch = secrets.token_hex(4)
        self.state = empty_state(plant)
        self._lock = threading.RLock()
        self._offset: str | None = None
        self._dirty_lines: set[str] = set()
        self._dirty_units: set[str] = set()
        self._watchers: Counter[str] = Counter()  # room -> connected sockets
        self._room_of_sid: dict[str, str] = {}
        self._seq: Counter[str] = Counter()
        self._sent_at: dict[str, float] = {}  # floor room -> monotonic time of its last frame
        self._fed_at: float | None = None  # wall time the last event was applied (the stream's pulse)
        self._acks: dict[str, dict[str, str]] = {}
        if history is not None:
            since = datetime.now(UTC) - ACKS_KEPT
            self._acks = {
                alarm: {"by": user, "at": format_time(at)} for alarm, (user, at) in history.alarm_acks(since).items()
            }
        self._stop = threading.Event()

    # --- reading the stream -------------------------------------------------------------
    def catch_up(self, block_s: float = 0.0, limit: int = 5000) -> int:
        """Apply what the bus holds after our offset; return how many events were applied."""
        entries = self.bus.read(self._offset, limit=limit, block_s=block_s)
        if not entries:
            return 0
        with self._lock:
            for offset, event in entries:
                apply(self.state, event)
                line_id = getattr(event, "line_id", None)
                if line_id is not None:
                    self._dirty_lines.add(line_id)
                unit_code = getattr(event, "unit_code", None)
                if unit_code is not None:
                    self._dirty_units.add(unit_code)
                self._offset = offset
            self._fed_at = time.time()
        return len(entries)

    def run(self) -> None:
        """Pump until stop(): read, fold and flush frames; KPI tiles refresh beside it, in their own task."""
        self.socketio.start_background_task(self._refresh_kpis_forever)
        next_flush = time.monotonic()
        while not self._stop.is_set():
            try:
                while self.catch_up(block_s=self.order_interval_s) == 5000:
                    pass  # a backlog: drain it before drawing
                floors_due = time.monotonic() >= next_flush
                self.flush(floors=floors_due)
                if floors_due:
                    next_flush = time.monotonic() + self.frame_interval_s
            except Exception:  # keep screens alive; the error is logged with its traceback
                log.exception("realtime pump iteration failed")
                self.socketio.sleep(self.frame_interval_s)

    def _refresh_kpis_forever(self) -> None:
        # A KPI query over history can take a good part of a second; run in the pump, it
        # would hold every screen's frames back that long.
        while not self._stop.is_set():
            try:
                self.refresh_kpis()
                self._forget_old_acks()
            except Exception:
                log.exception("refreshing the floor KPI tiles failed")
            self._stop.wait(self.kpi_interval_s)

    def _forget_old_acks(self) -> None:
        # A screen running for months must not keep every acknowledgement ever given in memory.
        cutoff = format_time(datetime.now(UTC) - ACKS_KEPT)
        with self._lock:
            self._acks = {alarm: ack for alarm, ack in self._acks.items() if ack["at"] >= cutoff}

    def stop(self) -> None:
        """Ask run() to return after its current iteration."""
        self._stop.set()

    # --- views --------------------------------------------------------------------------
    def floor(self, line_id: str, cache: dict | None = None) -> dict[str, Any]:
        """Return the current floor view of a line."""
        with self._lock:
            return floor_view(self.state, self.plant, line_id, cache)

    def line_kpis(self, line_id: str) -> dict[str, Any] | None:
        """Return the KPIs of the shift under way on a line (else the last 8 h), from history like /api/kpis."""
        if self.history is None:
            return None
        with self._lock:
            line_state = self.state.lines[line_id]
            end = self.state.last_event_time
            start = line_state.shift_started if in_shift(line_state) else None
        if end is None:
            return None
        start = start if start is not None and start < end else end - OFF_SHIFT_WINDOW
        doc = history_kpis.kpis(self.history, self.plant, start, end, line_id)["lines"][line_id]
        return {
            "from": format_time(start),
            "to": format_time(end),
            "computed_at": _ms(time.time()),
            "chart": chart_traces(doc["hourly"], self.plant.tz),
            **{k: doc[k] for k in FLOOR_KPIS},
        }

    def refresh_kpis(self) -> None:
        """Recompute the KPI tiles of every line someone watches; they go out with the next frame."""
        with self._lock:
            watched = [line.id for line in self.plant.lines if self._watchers[auth.floor_room(line.id)] > 0]
        for line_id in watched:
            kpis = self.line_kpis(line_id)
            with self._lock:
                self._line_kpis[line_id] = kpis
                self._dirty_lines.add(line_id)

    def orders(self) -> list[dict[str, Any]]:
        """Return the managers' rows of every known order (factory.views.orders_rows)."""
        with self._lock:
            return orders_rows(self.state, self.plant, {})

    def acknowledge(self, alarm: object, user: str) -> str:
        """Acknowledge an active alarm for ``user``; return "ok", "already" or "unknown".

        Only an alarm a line raises right now can be acknowledged: a client cannot fill the
        store with made-up ids, and an alarm that cleared needs no acknowledgement.
        """
        parsed = parse_alarm_id(alarm)
        if parsed is None or not self.plant.has_line(parsed[0]):
            return "unknown"
        with self._lock:
            if alarm not in {a["id"] for a in self.floor(parsed[0])["alarms"]}:
                return "unknown"
            if alarm in self._acks:
                return "already"
            now = datetime.now(UTC)
            self._acks[alarm] = {"by": user, "at": format_time(now)}
            self._dirty_lines.add(parsed[0])
        if self.history is not None:
            self.history.add_alarm_ack(alarm, parsed[0], user, now)
        log.info("alarm %s acknowledged by %s", alarm, user)
        return "ok"

    def order(self, token: str, cache: dict | None = None) -> dict[str, Any] | None:
        """Return the current public view of the order behind ``token`` (from history if not live), or None."""
        if not auth.is_well_formed_token(token):
            return None
        with self._lock:
            view = order_view(self.state, self.plant, token, cache)
        return view if view is not None else self._archived_order(token)

    def find_order(self, token: str, client: str) -> tuple[int, dict[str, Any] | None]:
        """Look an order up for a public caller: (200, view), (404, None), or (429, None) once the
        client has missed too often this minute. Unknown and malformed tokens answer alike."""
        if self.misses.blocked(client):
            return 429, None
        view = self.order(token)
        if view is None:
            self.misses.miss(client)
            return 404, None
        return 200, view

    def _archived_order(self, token: str) -> dict[str, Any] | None:
        """Rebuild an order the live state no longer holds (an earlier run) from its stored events."""
        unit_code = self.history.unit_for_token(token) if self.history is not None else None
        if unit_code is None:
            return None
        state = empty_state(self.plant)
        for event in self.history.unit_events(unit_code):
            apply(state, event)
        return order_view(state, self.plant, token)

    def load(self, events) -> int:
        """Fold events from elsewhere (history replayed at start) into the state; return how many."""
        count = 0
        with self._lock:
            for event in events:
                apply(self.state, event)
                count += 1
        return count

    def orders_to_watch(self, count: int) -> list[str]:
        """Return tokens of unfinished orders nearest the start of their line, one line after another."""
        with self._lock:
            per_line = []
            for line in self.plant.lines:
                members = line_members(self.state, line).values()
                codes = [code for m in members for code in (*(c for _, c in m.queue), *(c for _, c, _ in m.at))]
                per_line.append([t for t in (self.state.units[c].tracking_token for c in codes) if t])
        picks = []
        for rank in range(max(map(len, per_line), default=0)):
            picks += [tokens[rank] for tokens in per_line if rank < len(tokens)]
        return picks[:count]

    # --- pushing ------------------------------------------------------------------------
    def frame(self, room: str, cache: dict | None = None) -> dict[str, Any] | None:
        """Return the frame for ``room`` now (None if the room's subject no longer exists)."""
        kind, _, key = room.partition(":")
        view = self.floor(key, cache) if kind == "floor" else self.order(key, cache)
        if view is None:
            return None
        frame = {"epoch": self.epoch, "seq": self._seq[room], "view": view}
        if kind == "floor":
            for alarm in view["alarms"]:
                alarm["ack"] = self._acks.get(alarm["id"])
            frame["kpis"] = self._line_kpis.get(key)
            # Freshness: the browser adds the time since it received the frame to sent - fed.
            frame["sent_at"] = _ms(time.time())
            frame["fed_at"] = _ms(self._fed_at) if self._fed_at is not None else None
            # Nothing happens on a plant where no line works: silence then is not staleness.
            frame["quiet"] = all(planned_stop(ls) is not None or not in_shift(ls) for ls in self.state.lines.values())
        return frame

    def flush(self, floors: bool = True) -> None:
        """Emit one frame to every watched room whose view changed since the last flush.

        Order rooms go out every time; floor rooms only when ``floors`` (their slower beat).
        """
        with self._lock:
            lines = set()
            if floors:
                lines, self._dirty_lines = self._dirty_lines, set()
                due = time.monotonic() - HEARTBEAT_S
                lines |= {
                    line.id for line in self.plant.lines if self._sent_at.get(auth.floor_room(line.id), 0.0) <= due
                }
            units, self._dirty_units = self._dirty_units, set()
            rooms = [auth.floor_room(line) for line in lines]
            for code in units:
                unit = self.state.units.get(code)
                if unit is not None and unit.tracking_token is not None:
                    rooms.append(auth.order_room(unit.tracking_token))
            rooms = [room for room in rooms if self._watchers[room] > 0]
            for room in rooms:
                self._seq[room] += 1
                if room.startswith("floor:"):
                    self._sent_at[room] = time.monotonic()
            cache: dict = {}  # each line's members, computed once for all the frames of this flush
            frames = [(room, self.frame(room, cache)) for room in rooms]
        for room, frame in frames:
            if frame is not None:
                self.socketio.emit(room.partition(":")[0], frame, to=room)

    # --- sockets ------------------------------------------------------------------------
    def on_connect(self, sid: str, auth_payload: Any) -> bool:
        """Admit a socket to the room its handshake allows and send it a snapshot."""
        client = flask.request.remote_addr or "?"

        def knows(token: str) -> bool:
            return self.find_order(token, client)[0] == 200

        room = auth.room_for_socket(auth_payload, self.plant.has_line, knows, auth.current_role())
        if room is None:
            return False
        join_room(room, sid=sid)
        kind, _, key = room.partition(":")
        if kind == "floor" and key not in self._line_kpis:
            self._line_kpis[key] = self.line_kpis(key)  # the first screen of a line need not wait 10 s
        with self._lock:
            self._room_of_sid[sid] = room
            self._watchers[room] += 1
            frame = self.frame(room)
        self.socketio.emit(room.partition(":")[0], frame, to=sid)
        return True

    def on_disconnect(self, sid: str) -> None:
        """Forget a socket that went away."""
        with self._lock:
            room = self._room_of_sid.pop(sid, None)
            if room is not None:
                self._watchers[room] -= 1
                if self._watchers[room] <= 0:
                    del self._watchers[room]

    def register_socket_handlers(self) -> None:
        """Wire connect/disconnect of the default namespace to this object."""

        @self.socketio.on("connect")
        def _connect(auth_payload=None):
            return self.on_connect(flask.request.sid, auth_payload)

        @self.socketio.on("disconnect")
        def _disconnect(*_reason):
            self.on_disconnect(flask.request.sid)


def _ms(wall_s: float) -> int:
    return round(wall_s * 1000)


def current_live() -> LiveFactory:
    """Return the LiveFactory of the Flask app handling this request."""
    return flask.current_app.extensions[EXTENSION_KEY]
