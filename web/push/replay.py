"""The floor at a past moment: the same view the wall screen draws, rebuilt from history.

A seek folds the latest checkpoint at or before the moment and the events after it up to the
moment (factory.history.writer.state_at), so any moment of a long history costs one checkpoint
and at most a checkpoint interval of events, of the one line shown (a unit never changes line;
the view's clock is still the enterprise's latest event, as live). Playing forward goes on from
the last moment this process rebuilt for the line, folding only the events in between. Going
back seeks again.

Acknowledgements and shelving are people's actions on the control log, timed by the wall
clock; a replay shows those recorded up to the moment, and the shelving in force at it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from factory.derive import in_shift
from factory.history import History
from factory.history.rows import aware, naive
from factory.history.writer import state_at
from factory.layout import Plant
from factory.operations import OperationsState, apply_control
from factory.projector import apply
from factory.state import FactoryState
from factory.validation import PlantCheck
from factory.views import floor_view
from streams.codec import format_time
from web.push.queries import floor_kpis, mark_alarms

CONTROL_KINDS = ("alarm_acknowledged", "alarm_shelved", "alarm_unshelved")
PEOPLE_LOOKBACK = timedelta(days=2)  # acknowledgements and shelving older than this do not show on a floor
PLAY_ON_AT_MOST = timedelta(hours=6)  # further ahead than this, a fresh seek is cheaper than folding on
KEPT = 8  # lines whose last replayed moment this process keeps
_TICK = timedelta(milliseconds=1)  # the history's end bounds are exclusive: a moment includes its own events


@dataclass
class _Replayed:
    at: datetime
    state: FactoryState
    check: PlantCheck


class FloorReplay:
    """Floor views of past moments for one process (a few lines' latest replays kept to play on)."""

    def __init__(self, plant: Plant, history: History, run: Callable = lambda fn: fn()) -> None:
        self.plant = plant
        self.history = history
        self.run = run  # off the event loop: a seek reads the history
        self._kept: OrderedDict[str, _Replayed] = OrderedDict()
        self._lock = threading.Lock()

    def view(self, line_id: str, at: datetime) -> dict[str, Any]:
        """Return the floor view of ``line_id`` as it was at ``at``, with the neighbouring moments to step to."""
        return self.run(lambda: self._view(line_id, at))

    def _view(self, line_id: str, at: datetime) -> dict[str, Any]:
        replayed = self._state(line_id, at)
        state = replayed.state
        view = floor_view(state, self.plant, line_id)
        mark_alarms(view, self._people(at), line_id, at)
        line_state = state.lines[line_id]
        shift_start = line_state.shift_started if in_shift(line_state) else None
        view["kpis"] = floor_kpis(self.history, self.plant, line_id, shift_start, at)
        view["replay"] = {
            "at": format_time(at),
            "previous": _iso(self._neighbour(line_id, at, before=True)),
            "next": _iso(self._neighbour(line_id, at, before=False)),
        }
        return view

    def _state(self, line_id: str, at: datetime) -> _Replayed:
        with self._lock:
            kept = self._kept.pop(line_id, None)
        if kept is not None and kept.at <= at <= kept.at + PLAY_ON_AT_MOST:
            for event in self.history.iter_replay(start=kept.at + _TICK, end=at + _TICK, line_id=line_id):
                if kept.check.admit(event) is None:
                    apply(kept.state, event)
            clock = self.history.latest_line_time(end=at + _TICK)
            kept.state.last_event_time = clock if clock is not None else kept.state.last_event_time
            kept.at = at
        else:
            check = PlantCheck(self.plant, window=timedelta(days=3650))
            kept = _Replayed(at, state_at(self.history, at, check, line_id), check)
        with self._lock:
            self._kept[line_id] = kept
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return kept

    def _people(self, at: datetime) -> OperationsState:
        ops = OperationsState()
        for event in self.history.iter_replay(start=at - PEOPLE_LOOKBACK, end=at + _TICK, kinds=CONTROL_KINDS):
            apply_control(ops, event)
        return ops

    def _neighbour(self, line_id: str, at: datetime, before: bool) -> datetime | None:
        """The time of the line's nearest event before (or after) ``at``: where a step goes."""
        if before:
            sql = "SELECT max(time) FROM events WHERE line_id = ? AND time < ?"
        else:
            sql = "SELECT min(time) FROM events WHERE line_id = ? AND time > ?"
        rows = self.history.query(sql, [line_id, naive(at)])
        return aware(rows[0][0]) if rows else None


def _iso(t: datetime | None) -> str | None:
    return format_time(t) if t is not None else None
