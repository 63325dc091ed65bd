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
class UnitCompleted(Event):
    """A unit left the last station of its line: built, tested and packed."""

    TYPE: ClassVar[str] = f"{TYPE_PREFIX}.unit.completed.v1"

    unit_code: str
    line_id: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls for cls in (OrderPlaced, StationEntered, StationExited, UnitCompleted)
}
