"""What pages and APIs ask of the live plant: a line's floor, an order, the orders grid, the floor KPIs.

Views come from the pump's live state under its lock, for a moment; an order the live state no
longer holds (it shipped a while ago, or belongs to an earlier run) is rebuilt from its own
events in history, off the event loop, and kept for a minute. KPI tiles come from the history
every few seconds in a task of their own, never in the pump.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from factory.derive import in_shift, planned_stop
from factory.history import History
from factory.history import queries as history_queries
from factory.journey import journey
from factory.layout import Plant
from factory.operations import OperationsState, is_shelved
from factory.projector import apply
from factory.spc_alarms import SpcWatch
from factory.state import FactoryState, empty_state
from factory.views import floor_view, names_for, order_view, orders_rows, unit_view
from streams.codec import format_time
from web.auth import is_well_formed_token
from web.push.pump import LivePlant
from web.ratelimit import MissLimiter

log = logging.getLogger(__name__)
FLOOR_KPIS = ("oee", "availability", "performance", "quality", "throughput_per_hour", "first_pass_yield",
              "takt_time_s", "actual_cycle_time_s", "units_completed", "plan_attainment", "hourly")  # fmt: skip
OFF_SHIFT_WINDOW = timedelta(hours=8)  # what the floor's KPI tiles cover when no shift is under way
ARCHIVE_KEPT_S = 60.0
ARCHIVE_SIZE = 2000


class LiveQueries:
    """Read side of the live plant (pages, APIs, the push rooms)."""

    def __init__(self, live: LivePlant, history: History | None, kpi_interval_s: float = 10.0) -> None:
        self.live = live
        self.plant: Plant = live.plant
        self.history = history
        self.kpi_interval_s = kpi_interval_s
        self.line_kpis_cache: dict[str, dict[str, Any] | None] = {}
        self._archive: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._archive_lock = threading.Lock()
        self._names: dict[tuple[str, str], dict[str, Any]] = {}
        self.misses = MissLimiter()
        self.spc: SpcWatch | None = None  # SPC run-rule alarms (factory/spc_alarms.py), set by the app

    # --- the floor ------------------------------------------------------------------------------
    def floor(self, line_id: str, cache: dict | None = None) -> dict[str, Any]:
        """Return a line's floor view with who acknowledged its alarms and which alarm points are shelved."""
        live = self.live
        with live.lock:
            view = floor_view(live.state, self.plant, line_id, cache)
            if self.spc is not None:  # SPC alarms after the stations' own: kept per check, only read here
                view["alarms"] = [*view["alarms"], *self.spc.alarms(line_id)]
            started = live.state.last_event_time is not None
            mark_alarms(view, live.operations, line_id, _wall_now() if started else None)
        return view

    def quiet(self) -> bool:
        """Tell whether no line works right now (planned stop or no shift everywhere): silence is not staleness."""
        with self.live.lock:
            return all(planned_stop(ls) is not None or not in_shift(ls) for ls in self.live.state.lines.values())

    def names(self, line_id: str, lang: str) -> dict[str, Any]:
        """Return the names a page of a line shows, in ``lang`` (cached: the factory file does not change)."""
        key = (line_id, lang)
        if key not in self._names:
            self._names[key] = names_for(self.plant, line_id, lang)
        return self._names[key]

    # --- orders ---------------------------------------------------------------------------------
    def order(self, token: str) -> dict[str, Any] | None:
        """Return the public view of the order behind ``token`` (live, else from history), or None."""
        with self.live.lock:
            view = order_view(self.live.state, self.plant, token)
        return view if view is not None else self.archived_order(token)

    def find_order(self, token: object, client: str) -> tuple[int, dict[str, Any] | None]:
        """Look an order up for a public caller: (200, view), (404, None), or (429, None) once the
        client has missed too often this minute. Unknown and malformed tokens answer alike."""
        if self.misses.blocked(client):
            return 429, None
        view = self.order(token) if is_well_formed_token(token) else None  # type: ignore[arg-type]
        if view is None:
            self.misses.miss(client)
            return 404, None
        return 200, view

    def is_live(self, token: str) -> bool:
        """Tell whether the live state holds this order (its tracker room gets frames)."""
        with self.live.lock:
            return token in self.live.state.unit_by_token

    def archived_order(self, token: str) -> dict[str, Any] | None:
        """Rebuild an order the live state no longer holds from its stored events (kept for a minute)."""
        if self.history is None:
            return None
        now = time.monotonic()
        with self._archive_lock:
            cached = self._archive.get(token)
            if cached is not None and now - cached[0] < ARCHIVE_KEPT_S:
                self._archive.move_to_end(token)
                return cached[1]
        view = self._rebuild(token)
        with self._archive_lock:
            self._archive[token] = (now, view)
            while len(self._archive) > ARCHIVE_SIZE:
                self._archive.popitem(last=False)
        return view

    def _rebuild(self, token: str) -> dict[str, Any] | None:
        assert self.history is not None
        found = self.history.unit_for_token(token)
        if found is None:
            return None
        state = self._unit_state(found[0])
        unit = state.units.get(found[0])
        if unit is None or unit.tracking_token != token:
            return None
        return unit_view(state, self.plant, unit)

    def _unit_state(self, unit_code: str) -> FactoryState:
        """A state holding one unit, folded from its own stored events."""
        assert self.history is not None
        state = empty_state(self.plant)
        for event in self.history.unit_events(unit_code):
            apply(state, event)
        return state

    def journey(self, token: str) -> dict[str, Any] | None:
        """Return the journey of the unit behind ``token`` (live, else from history); None if unknown.

        The caller has checked the token (find_order): this answers only for an order it found.
        """
        with self.live.lock:
            code = self.live.state.unit_by_token.get(token)
            unit = self.live.state.units.get(code) if code is not None else None
            if unit is not None:
                return journey(unit)
        if self.history is None:
            return None
        found = self.history.unit_for_token(token)
        if found is None:
            return None
        rebuilt = self._unit_state(found[0]).units.get(found[0])
        return journey(rebuilt) if rebuilt is not None and rebuilt.tracking_token == token else None

    def unit(self, unit_code: str) -> dict[str, Any] | None:
        """Return the public view of a unit by its code (live, else rebuilt from history), or None.

        For checking a certificate someone holds: the caller compares signatures before it
        shows anything, since unit codes are not secret.
        """
        with self.live.lock:
            unit = self.live.state.units.get(unit_code)
            if unit is not None and unit.order_id is not None:
                return unit_view(self.live.state, self.plant, unit)
        if self.history is None:
            return None
        state = self._unit_state(unit_code)
        rebuilt = state.units.get(unit_code)
        return unit_view(state, self.plant, rebuilt) if rebuilt is not None and rebuilt.order_id is not None else None

    def orders(self) -> list[dict[str, Any]]:
        """Return the managers' rows of every order the live state holds."""
        with self.live.lock:
            return orders_rows(self.live.state, self.plant)

    def tokens_to_watch(self, count: int) -> list[str]:
        """Return tokens of unfinished orders nearest the start of their line, one line after another."""
        with self.live.lock:
            per_line = []
            for line in self.plant.lines:
                state = self.live.state.lines[line.id]
                codes = [c for sid in line_order(line) for c in (*state.queued[sid], *state.at[sid])]
                per_line.append(
                    [
                        t
                        for t in (self.live.state.units[c].tracking_token for c in codes if c in self.live.state.units)
                        if t
                    ]
                )
        picks: list[str] = []
        for rank in range(max(map(len, per_line), default=0)):
            picks += [tokens[rank] for tokens in per_line if rank < len(tokens)]
        return picks[:count]

    # --- KPI tiles ------------------------------------------------------------------------------
    def line_kpis(self, line_id: str) -> dict[str, Any] | None:
        """Return the KPIs of the shift under way on a line (else the last 8 h), from history like /api/kpis."""
        if self.history is None:
            return None
        with self.live.lock:
            line_state = self.live.state.lines[line_id]
            end = self.live.state.last_event_time
            start = line_state.shift_started if in_shift(line_state) else None
        if end is None:
            return None
        return floor_kpis(self.history, self.plant, line_id, start, end)

    def refresh_kpis(self, lines: list[str]) -> list[str]:
        """Recompute the KPI tiles of ``lines``; return those whose figures changed."""
        changed = []
        for line_id in lines:
            try:
                kpis = self.line_kpis(line_id)
            except Exception:  # a history that is away: the tiles age and grey out, the rest goes on
                log.exception("floor KPIs of %s not refreshed", line_id)
                continue
            old = self.line_kpis_cache.get(line_id)
            self.line_kpis_cache[line_id] = kpis
            if kpis is not None and (
                old is None
                or {k: v for k, v in old.items() if k != "computed_at"}
                != {k: v for k, v in kpis.items() if k != "computed_at"}
            ):
                changed.append(line_id)
        return changed


def mark_alarms(view: dict[str, Any], ops: OperationsState, line_id: str, now: datetime | None) -> None:
    """Add to a floor view who acknowledged each alarm, and leave out those shelved at ``now``.

    A station's tile is marked ``alert`` when an alarm of it is shown. ``now`` is the wall clock
    (shelving is people's action, timed by the wall clock); None shelves nothing.
    """
    shown, shelved = [], 0
    for alarm in view["alarms"]:
        alarm["ack"] = ops.acks.get(alarm["id"])
        if now is not None and is_shelved(ops, line_id, alarm["station"], alarm["kind"], now):
            shelved += 1
        else:
            shown.append(alarm)
    view["alarms"], view["shelved"] = shown, shelved
    shown_ids = {a["station"] for a in shown}
    for station in view["stations"]:
        station["alert"] = station["id"] in shown_ids


def floor_kpis(
    history: History, plant: Plant, line_id: str, shift_start: datetime | None, end: datetime
) -> dict[str, Any]:
    """Return a floor's KPI tiles up to ``end``: the shift under way (from ``shift_start``), else the last 8 h."""
    start = shift_start if shift_start is not None and shift_start < end else end - OFF_SHIFT_WINDOW
    doc = history_queries.kpis(history, plant, start, end, line_id)["lines"][line_id]
    return {
        "from": format_time(start),
        "to": format_time(end),
        "computed_at": round(time.time() * 1000),
        **{k: doc[k] for k in FLOOR_KPIS},
    }


def line_order(line) -> list[str]:
    """Return a line's station ids in flow order."""
    return [s.id for s in line.stations]


def _wall_now() -> datetime:
    return datetime.now(UTC)
