"""Plain data for what the plant looks like now: units, stations, lines.

No behaviour here beyond construction; :mod:`factory.projector` folds events into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from factory.layout import Plant


@dataclass
class Visit:
    station_id: str
    visit: int
    entered: datetime | None = None
    exited: datetime | None = None


@dataclass
class UnitState:
    unit_code: str
    order_id: str
    tracking_token: str
    line_id: str
    product: str
    options: dict[str, str]
    placed_at: datetime
    station_id: str | None = None  # where the unit is now (None: not released yet, or done)
    queued_for: str | None = None  # the station whose queue the unit waits in, if any
    visits: list[Visit] = field(default_factory=list)
    completed_at: datetime | None = None
    scrapped_at: datetime | None = None
    in_rework: bool = False  # in the repair bay after a failed quality gate
    rework_ids: set[str] = field(default_factory=set)  # ids of ReworkRouted events: a redelivery counts once
    shipped_at: datetime | None = None
    carrier: str | None = None
    estimated_delivery: str | None = None  # YYYY-MM-DD

    @property
    def reworks(self) -> int:
        """Return how many times the unit was sent to the repair bay."""
        return len(self.rework_ids)

    @property
    def status(self) -> str:
        """Return ``ordered``, ``in_production``, ``in_rework``, ``completed``, ``shipped`` or ``scrapped``."""
        if self.scrapped_at is not None:
            return "scrapped"
        if self.shipped_at is not None:
            return "shipped"
        if self.completed_at is not None:
            return "completed"
        if self.in_rework:
            return "in_rework"
        return "in_production" if self.visits else "ordered"


@dataclass
class StationState:
    station_id: str
    units: list[str] = field(default_factory=list)  # unit codes at the station, in order of entry
    queue: list[str] = field(default_factory=list)  # unit codes waiting in front of it, first in line first
    work_done: set[str] = field(default_factory=set)  # units finished here but not yet let go (blocking)
    machines_down: set[int] = field(default_factory=set)
    down_reason: str | None = None  # reason text of the latest breakdown still open
    in_changeover: bool = False
    status: str = "idle"  # see factory.projector.station_status
    since: datetime | None = None  # when ``status`` last changed


@dataclass
class LineState:
    line_id: str
    stations: dict[str, StationState]
    completed: int = 0
    in_shift: bool = True  # a stream without calendar events is taken as always scheduled
    planned_stop: str | None = None  # reason of the planned stop under way, if any


@dataclass
class FactoryState:
    lines: dict[str, LineState]
    units: dict[str, UnitState] = field(default_factory=dict)
    unit_by_token: dict[str, str] = field(default_factory=dict)
    last_event_time: datetime | None = None
    events_applied: int = 0


def empty_state(plant: Plant) -> FactoryState:
    """Return the state of ``plant`` before any event: every line and station present and empty."""
    return FactoryState(
        lines={
            line.id: LineState(line.id, {s.id: StationState(s.id) for s in line.stations})
            for line in plant.lines
        }
    )
