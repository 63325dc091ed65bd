"""Plain data for what is known about the plant: facts, recorded so that order does not matter.

Everything here is either set once (an order's configuration), keyed by what identifies it (a
unit's visit to a station) or a maximum of times (the last breakdown of a machine). Applying the
same events in any order, any number of times, gives equal state. Where each unit is
(``UnitState.position``) and which units stand at or in front of each station
(``LineState.at`` / ``LineState.queued``) are derived from those facts by :mod:`factory.derive`
each time a unit's facts change, so views read them instead of recomputing every unit.

Live state is bounded: units that left the plant an hour ago leave the state
(:func:`factory.projector.evict`); the history still knows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from factory.layout import Plant
from streams.events import Measurement

SAMPLES = 40  # recent completions per line kept for the ETA, even after their units left the state
ORDERS_SHOWN = 8  # latest orders per line the floor's incoming-orders panel lists


@dataclass
class Visit:
    station_id: str
    visit: int
    entered: datetime | None = None
    work_done: datetime | None = None
    exited: datetime | None = None


@dataclass
class Check:
    station_id: str
    visit: int
    time: datetime
    passed: bool
    measurements: tuple[Measurement, ...]
    defect_code: str | None


@dataclass
class Rework:
    time: datetime
    station_id: str
    reenter_at: str
    defect_code: str


@dataclass
class Fitted:
    """A component that went into the unit (its genealogy)."""

    station_id: str
    time: datetime
    supplier: str
    batch: str
    serial: str


@dataclass(frozen=True)
class Position:
    kind: str  # at (on a station), queued (in front of one), rework (repair bay), completed, scrapped
    station_id: str | None  # the station it is at, waits for, or will re-enter at
    since: datetime | None
    blocked_since: datetime | None = None  # at a station with its work done, waiting for room


@dataclass
class UnitState:
    unit_code: str
    line_id: str
    order_id: str | None = None  # None until OrderPlaced arrives (it may come after later events)
    tracking_token: str | None = None
    product: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    placed_at: datetime | None = None
    promised_by: str | None = None
    visits: dict[tuple[str, int], Visit] = field(default_factory=dict)
    checks: dict[tuple[str, int], Check] = field(default_factory=dict)
    reworks: dict[str, Rework] = field(default_factory=dict)  # event key -> rework
    components: dict[str, Fitted] = field(default_factory=dict)  # component name -> what was fitted
    completed_at: datetime | None = None
    scrapped_at: datetime | None = None
    shipped_at: datetime | None = None
    shipment_id: str | None = None
    carrier: str | None = None
    estimated_delivery: str | None = None  # YYYY-MM-DD
    last_fact: datetime | None = None  # latest time of anything that happened to the unit
    position: Position | None = None  # derived from the facts above (factory.derive.position)
    # The latest movement fact behind ``position`` (factory.derive.reposition keeps it): a cache,
    # not a fact, so it is neither compared nor kept in checkpoints.
    latest: tuple[datetime, int, int] | None = field(default=None, compare=False, repr=False)
    latest_what: Visit | Rework | None = field(default=None, compare=False, repr=False)
    latest_known: bool = field(default=False, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        """Tell whether the unit left production (completed or scrapped)."""
        return self.completed_at is not None or self.scrapped_at is not None


@dataclass
class Machine:
    last_down: datetime | None = None
    last_up: datetime | None = None
    reason: str | None = None  # reason text of the breakdown at last_down
    reason_code: str | None = None


@dataclass
class StationState:
    station_id: str
    machines: dict[int, Machine] = field(default_factory=dict)
    changeover_started: datetime | None = None
    changeover_finished: datetime | None = None
    last_fact: datetime | None = None  # latest time of anything that happened at the station


@dataclass
class LineState:
    line_id: str
    stations: dict[str, StationState]  # in flow order
    station_ids: tuple[str, ...] = ()  # the same, in flow order
    active: set[str] = field(default_factory=set)  # units seen on the line, not finished
    # Derived membership: station -> unit -> (since, blocked since) for units on it, since for units in front of it.
    at: dict[str, dict[str, tuple[datetime | None, datetime | None]]] = field(default_factory=dict)
    queued: dict[str, dict[str, datetime | None]] = field(default_factory=dict)
    # Each queue's order, kept for the trackers' "units ahead" (factory.derive.queue_place): a
    # station's version changes whenever its ``queued`` does, so a ranking is never read stale.
    queue_versions: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    queue_ranks: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict, compare=False, repr=False)
    completed: int = 0
    completed_by_hour: dict[datetime, int] = field(default_factory=dict)  # hour start (UTC) -> units
    completed_log: list[tuple[datetime, str]] = field(default_factory=list)  # last SAMPLES (time, unit), sorted
    recent: dict[str, UnitState] = field(default_factory=dict)  # the units of completed_log
    orders_log: list[tuple[datetime, str]] = field(default_factory=list)  # last ORDERS_SHOWN (placed at, unit), sorted
    shift_started: datetime | None = None
    shift_ended: datetime | None = None
    stop_started: datetime | None = None
    stop_ended: datetime | None = None
    stop_reason: str | None = None


@dataclass
class FactoryState:
    lines: dict[str, LineState]
    units: dict[str, UnitState] = field(default_factory=dict)
    unit_by_token: dict[str, str] = field(default_factory=dict)
    last_event_time: datetime | None = None
    events_applied: int = 0
    events_skipped: int = 0  # refused by the plant check, or a handler that could not apply them
    units_evicted: int = 0


def empty_state(plant: Plant) -> FactoryState:
    """Return the state of ``plant`` before any event: every line and station present and empty."""
    return FactoryState(
        lines={
            line.id: LineState(
                line.id,
                {s.id: StationState(s.id) for s in line.stations},
                station_ids=tuple(s.id for s in line.stations),
                at={s.id: {} for s in line.stations},
                queued={s.id: {} for s in line.stations},
            )
            for line in plant.lines
        }
    )
