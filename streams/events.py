"""The one event schema: frozen, typed, versioned event classes every package imports.

Each class maps to one CloudEvents ``type`` string whose last segment is the schema version.
Envelope fields (``id``, ``source``, ``time``) live on the base class; everything else is the
event's ``data``. Dicts and JSON never appear here: see :mod:`streams.codec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import ClassVar

TYPE_PREFIX = "com.transparentfactory"


@dataclass(frozen=True, slots=True)
class Event:
    """Envelope shared by every event: unique per ``(source, id)``, ``time`` is tz-aware UTC."""

    TYPE: ClassVar[str] = ""

    id: str
    source: str
    time: datetime

    @classmethod
    def data_fields(cls) -> tuple[str, ...]:
        """Return the names of the fields that travel in the CloudEvents ``data`` member."""
        return tuple(f.name for f in fields(cls) if f.name not in ("id", "source", "time"))


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    """A customer configured a unit; it gets its unit code ("ID card") and a public tracking token."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.order.placed.v1"

    order_id: str
    unit_code: str
    tracking_token: str
    line_id: str
    product: str
    options: dict[str, str] = field(default_factory=dict)
    promised_by: str | None = None  # delivery date promised to the customer (YYYY-MM-DD, plant time)


@dataclass(frozen=True, slots=True)
class StationEntered(Event):
    """A unit started work at a station; ``visit`` counts visits of this unit to this station from 1."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.station_entered.v1"

    unit_code: str
    line_id: str
    station_id: str
    visit: int = 1


@dataclass(frozen=True, slots=True)
class StationExited(Event):
    """A unit left a station for the buffer in front of the next one."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.station_exited.v1"

    unit_code: str
    line_id: str
    station_id: str
    visit: int = 1


@dataclass(frozen=True, slots=True)
class StationWorkDone(Event):
    """A station finished its work on a unit; until StationExited the unit blocks the station.

    ``work_s`` is the processing time (changeover excluded), ``ideal_s`` the ideal cycle time
    for this unit's variant at one machine (the factory file's mean plus option work).
    """

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.station_work_done.v1"

    unit_code: str
    line_id: str
    station_id: str
    work_s: float
    ideal_s: float
    visit: int = 1


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured quantity of a unit against its specification limits (None: no limit)."""

    name: str
    label: str
    unit: str
    value: float
    lower: float | None
    upper: float | None
    passed: bool


@dataclass(frozen=True, slots=True)
class QualityChecked(Event):
    """A quality gate measured a unit; a failed check names a defect code."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.quality_checked.v1"

    unit_code: str
    line_id: str
    station_id: str
    passed: bool
    measurements: tuple[Measurement, ...]
    defect_code: str | None = None
    visit: int = 1


@dataclass(frozen=True, slots=True)
class ReworkRouted(Event):
    """A unit that failed a gate goes to the repair bay, then re-enters the line at ``reenter_at``."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.rework_routed.v1"

    unit_code: str
    line_id: str
    station_id: str
    defect_code: str
    reenter_at: str


@dataclass(frozen=True, slots=True)
class UnitScrapped(Event):
    """A unit failed more often than the gate allows rework; it leaves production."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.scrapped.v1"

    unit_code: str
    line_id: str
    station_id: str
    defect_code: str


@dataclass(frozen=True, slots=True)
class UnitCompleted(Event):
    """A unit left the last station of its line: built, tested, packed and loaded."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.completed.v1"

    unit_code: str
    line_id: str


@dataclass(frozen=True, slots=True)
class UnitShipped(Event):
    """The truck carrying the unit left the plant. ``estimated_delivery`` is a date (YYYY-MM-DD)."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.shipped.v1"

    unit_code: str
    line_id: str
    shipment_id: str
    carrier: str
    estimated_delivery: str


@dataclass(frozen=True, slots=True)
class ChangeoverStarted(Event):
    """A station is being set up for another variant (``option`` changed to ``to_choice``)."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.station.changeover_started.v1"

    line_id: str
    station_id: str
    option: str
    from_choice: str
    to_choice: str


@dataclass(frozen=True, slots=True)
class ChangeoverFinished(Event):
    """The station's setup is done; ``duration_s`` is how long it took."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.station.changeover_finished.v1"

    line_id: str
    station_id: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class MachineDown(Event):
    """One machine of a station broke down (unplanned); ``reason_code`` is from the factory file."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.station.machine_down.v1"

    line_id: str
    station_id: str
    machine: int
    reason_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class MachineUp(Event):
    """The machine is repaired; ``down_s`` is how long it was down."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.station.machine_up.v1"

    line_id: str
    station_id: str
    machine: int
    reason_code: str
    down_s: float


@dataclass(frozen=True, slots=True)
class ShiftStarted(Event):
    """A shift began on a line; ``planned_end`` is RFC 3339."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.line.shift_started.v1"

    line_id: str
    shift: str
    planned_end: str


@dataclass(frozen=True, slots=True)
class ShiftEnded(Event):
    """A shift ended; until the next one the line is not scheduled to produce."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.line.shift_ended.v1"

    line_id: str
    shift: str


@dataclass(frozen=True, slots=True)
class PlannedStopStarted(Event):
    """A planned stop (``kind``: break or maintenance) began: stations start no new work."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.line.planned_stop_started.v1"

    line_id: str
    kind: str
    reason: str
    planned_s: float


@dataclass(frozen=True, slots=True)
class PlannedStopEnded(Event):
    """The planned stop is over."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.line.planned_stop_ended.v1"

    line_id: str
    kind: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        OrderPlaced,
        StationEntered,
        StationWorkDone,
        StationExited,
        QualityChecked,
        ReworkRouted,
        UnitScrapped,
        UnitCompleted,
        UnitShipped,
        ChangeoverStarted,
        ChangeoverFinished,
        MachineDown,
        MachineUp,
        ShiftStarted,
        ShiftEnded,
        PlannedStopStarted,
        PlannedStopEnded,
    )
}
