"""The one event schema: frozen, typed, versioned event classes every package imports.

Each class maps to one CloudEvents ``type`` string whose last segment is the schema version and
whose second-to-last (``KIND``) is unique. Envelope fields (``id``, ``source``, ``time``) live on
the base class; everything else is the event's ``data``. Dicts and JSON never appear here: see
:mod:`streams.codec`.

Two families travel on two streams. What the lines do (orders, stations, machines, calendar) is
the event stream; what people do (acknowledge an alarm, give feedback, create an account,
revoke a wall screen) is the control log (``CONTROL = True``): small, kept whole, read by every
worker from its start. Each event names its own identity in :meth:`Event.key`: a second event
with the same key is a copy of the first, whatever its id says.
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
    KIND: ClassVar[str] = ""  # short unique name: the TYPE's second-to-last segment
    CONTROL: ClassVar[bool] = False  # True: a person's action, carried by the control log
    KEY: ClassVar[tuple[str, ...]] = ()  # data fields that identify the fact (with the kind); () : the id

    id: str
    source: str
    time: datetime

    @classmethod
    def data_fields(cls) -> tuple[str, ...]:
        """Return the names of the fields that travel in the CloudEvents ``data`` member."""
        return tuple(f.name for f in fields(cls) if f.name not in ("id", "source", "time"))

    def key(self) -> str:
        """Return what identifies this fact: a second event with the same key is a copy of the first."""
        if not self.KEY:
            return f"{self.KIND}|{self.source}|{self.id}"
        return "|".join([self.KIND, *(_key_part(getattr(self, name)) for name in self.KEY)])


def _key_part(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return str(value)


def _type(area: str, kind: str) -> str:
    return f"{TYPE_PREFIX}.{area}.{kind}.v1"


@dataclass(frozen=True, slots=True)
class OrderPlaced(Event):
    """A customer configured a unit; it gets its unit code ("ID card") and a public tracking token."""

    KIND: ClassVar[str] = "placed"
    TYPE: ClassVar[str] = _type("order", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code",)

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

    KIND: ClassVar[str] = "station_entered"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "station_id", "visit")

    unit_code: str
    line_id: str
    station_id: str
    visit: int = 1


@dataclass(frozen=True, slots=True)
class StationExited(Event):
    """A unit left a station for the buffer in front of the next one."""

    KIND: ClassVar[str] = "station_exited"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "station_id", "visit")

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

    KIND: ClassVar[str] = "station_work_done"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "station_id", "visit")

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

    KIND: ClassVar[str] = "quality_checked"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "station_id", "visit")

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

    KIND: ClassVar[str] = "rework_routed"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "station_id", "time")

    unit_code: str
    line_id: str
    station_id: str
    defect_code: str
    reenter_at: str


@dataclass(frozen=True, slots=True)
class UnitScrapped(Event):
    """A unit failed more often than the gate allows rework; it leaves production."""

    KIND: ClassVar[str] = "scrapped"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code",)

    unit_code: str
    line_id: str
    station_id: str
    defect_code: str


@dataclass(frozen=True, slots=True)
class UnitCompleted(Event):
    """A unit left the last station of its line: built, tested, packed and loaded."""

    KIND: ClassVar[str] = "completed"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code",)

    unit_code: str
    line_id: str


@dataclass(frozen=True, slots=True)
class UnitShipped(Event):
    """The truck carrying the unit left the plant. ``estimated_delivery`` is a date (YYYY-MM-DD)."""

    KIND: ClassVar[str] = "shipped"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code",)

    unit_code: str
    line_id: str
    shipment_id: str
    carrier: str
    estimated_delivery: str


@dataclass(frozen=True, slots=True)
class ChangeoverStarted(Event):
    """A station is being set up for another variant (``option`` changed to ``to_choice``)."""

    KIND: ClassVar[str] = "changeover_started"
    TYPE: ClassVar[str] = _type("station", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "station_id", "time", "unit_code")

    line_id: str
    station_id: str
    option: str
    from_choice: str
    to_choice: str
    unit_code: str | None = None  # the unit the station is set up for (machines of a station change over at once)


@dataclass(frozen=True, slots=True)
class ChangeoverFinished(Event):
    """The station's setup is done; ``duration_s`` is how long it took."""

    KIND: ClassVar[str] = "changeover_finished"
    TYPE: ClassVar[str] = _type("station", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "station_id", "time", "unit_code")

    line_id: str
    station_id: str
    duration_s: float
    unit_code: str | None = None


@dataclass(frozen=True, slots=True)
class MachineDown(Event):
    """One machine of a station broke down (unplanned); ``reason_code`` is from the factory file."""

    KIND: ClassVar[str] = "machine_down"
    TYPE: ClassVar[str] = _type("station", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "station_id", "machine", "time")

    line_id: str
    station_id: str
    machine: int
    reason_code: str
    reason: str


@dataclass(frozen=True, slots=True)
class MachineUp(Event):
    """The machine is repaired; ``down_s`` is how long it was down."""

    KIND: ClassVar[str] = "machine_up"
    TYPE: ClassVar[str] = _type("station", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "station_id", "machine", "time")

    line_id: str
    station_id: str
    machine: int
    reason_code: str
    down_s: float


@dataclass(frozen=True, slots=True)
class ShiftStarted(Event):
    """A shift began on a line; ``planned_end`` is RFC 3339."""

    KIND: ClassVar[str] = "shift_started"
    TYPE: ClassVar[str] = _type("line", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "time")

    line_id: str
    shift: str
    planned_end: str


@dataclass(frozen=True, slots=True)
class ShiftEnded(Event):
    """A shift ended; until the next one the line is not scheduled to produce."""

    KIND: ClassVar[str] = "shift_ended"
    TYPE: ClassVar[str] = _type("line", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "time")

    line_id: str
    shift: str


@dataclass(frozen=True, slots=True)
class PlannedStopStarted(Event):
    """A planned stop (``kind``: break or maintenance) began: stations start no new work."""

    KIND: ClassVar[str] = "planned_stop_started"
    TYPE: ClassVar[str] = _type("line", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "time")

    line_id: str
    kind: str
    reason: str
    planned_s: float


@dataclass(frozen=True, slots=True)
class PlannedStopEnded(Event):
    """The planned stop is over."""

    KIND: ClassVar[str] = "planned_stop_ended"
    TYPE: ClassVar[str] = _type("line", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("line_id", "time")

    line_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class ComponentFitted(Event):
    """A main component (compressor, motor, control board…) went into the unit: its genealogy."""

    KIND: ClassVar[str] = "component_fitted"
    TYPE: ClassVar[str] = _type("unit", KIND)
    KEY: ClassVar[tuple[str, ...]] = ("unit_code", "component")

    unit_code: str
    line_id: str
    station_id: str
    component: str  # the product's component name in the factory file
    supplier: str
    batch: str
    serial: str


@dataclass(frozen=True, slots=True)
class ConfigurationDrafted(Event):
    """A customer configured a product on the configurator (ordered or not): a wish, for demand analysis."""

    KIND: ClassVar[str] = "configuration_drafted"
    TYPE: ClassVar[str] = _type("demand", KIND)
    # One visit drafts many times; each draft is its own fact (a copy is the same draft again, at
    # the same time), and readers take a visit's latest (factory.history.wishes).
    KEY: ClassVar[tuple[str, ...]] = ("session_id", "time")

    session_id: str  # one configurator visit; the latest draft of a visit replaces the earlier ones
    product: str
    options: dict[str, str] = field(default_factory=dict)
    ordered: bool = False
    unit_code: str | None = None  # the unit ordered, when ``ordered``
    client: str | None = None  # a keyed hash of the client that ordered (never its address): open orders per client


# --- what people do: the control log ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlarmAcknowledged(Event):
    """Someone on the floor took note of an andon alarm (one occurrence, see factory.alarms.alarm_id)."""

    KIND: ClassVar[str] = "alarm_acknowledged"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True
    KEY: ClassVar[tuple[str, ...]] = ("alarm_id",)

    alarm_id: str
    line_id: str
    by: str


@dataclass(frozen=True, slots=True)
class AlarmShelved(Event):
    """A nuisance alarm point (a station and a kind) is shelved until ``until`` (RFC 3339), with a reason."""

    KIND: ClassVar[str] = "alarm_shelved"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True

    line_id: str
    station_id: str
    alarm_kind: str
    until: str
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class AlarmUnshelved(Event):
    """A shelved alarm point is watched again before its shelving expired."""

    KIND: ClassVar[str] = "alarm_unshelved"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True

    line_id: str
    station_id: str
    alarm_kind: str
    by: str


@dataclass(frozen=True, slots=True)
class DowntimeClassified(Event):
    """A person gave a stop (one machine's breakdown, by when it began) a reason from the tree and a note."""

    KIND: ClassVar[str] = "downtime_classified"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True

    line_id: str
    station_id: str
    machine: int
    down_since: str  # RFC 3339 time of the MachineDown it classifies
    reason_code: str
    note: str
    by: str


@dataclass(frozen=True, slots=True)
class DeadLetterResubmitted(Event):
    """A person fixed a refused input (a dead letter, by its id) and the gate took the fixed event."""

    KIND: ClassVar[str] = "dead_letter_resubmitted"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True
    KEY: ClassVar[tuple[str, ...]] = ("dead_letter_id",)

    dead_letter_id: str
    event_kind: str  # the fixed event's kind and envelope: what entered the stream instead
    event_source: str
    event_id: str
    by: str


@dataclass(frozen=True, slots=True)
class FeedbackGiven(Event):
    """A customer rated their order (1-5) and/or left a comment on the tracker."""

    KIND: ClassVar[str] = "feedback_given"
    TYPE: ClassVar[str] = _type("ops", KIND)
    CONTROL: ClassVar[bool] = True

    unit_code: str
    line_id: str
    rating: int | None
    comment: str


@dataclass(frozen=True, slots=True)
class AccountCreated(Event):
    """A sign-in account was created (or re-created) with a role, a password hash and optionally a site."""

    KIND: ClassVar[str] = "account_created"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    user: str
    role: str
    password_hash: str
    site_id: str | None
    by: str


@dataclass(frozen=True, slots=True)
class AccountChanged(Event):
    """An account changed: each field not null replaces the old value; a new password or end_sessions ends sessions."""

    KIND: ClassVar[str] = "account_changed"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    user: str
    by: str
    role: str | None = None
    password_hash: str | None = None
    site_id: str | None = None  # "" : every site
    disabled: bool | None = None
    keep_sessions: bool | None = None  # true: the same password, hashed anew (sessions go on)
    end_sessions: bool | None = None  # true: every session started before this ends (signed out everywhere)


@dataclass(frozen=True, slots=True)
class KioskRegistered(Event):
    """A wall screen was registered; its link's token is known only by its SHA-256."""

    KIND: ClassVar[str] = "kiosk_registered"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    label: str
    token_sha256: str
    line_id: str | None
    site_id: str | None
    by: str


@dataclass(frozen=True, slots=True)
class KioskRevoked(Event):
    """A wall screen's link no longer signs anyone in, and its signed-in screens are signed out."""

    KIND: ClassVar[str] = "kiosk_revoked"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    label: str
    by: str


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    """Someone signed in (a user with a password, or a wall screen with its link)."""

    KIND: ClassVar[str] = "session_started"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    session_id: str
    user: str
    role: str
    client: str


@dataclass(frozen=True, slots=True)
class SessionRevoked(Event):
    """A session ended on every worker: signed out, or revoked by an admin."""

    KIND: ClassVar[str] = "session_revoked"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    session_id: str
    by: str


@dataclass(frozen=True, slots=True)
class SignInsFailed(Event):
    """Sign-ins that failed on one worker in one minute, counted: a flood adds one event a minute, not one a try."""

    KIND: ClassVar[str] = "sign_ins_failed"
    TYPE: ClassVar[str] = _type("admin", KIND)
    CONTROL: ClassVar[bool] = True

    since: str  # RFC 3339: the start of the minute counted
    failures: int
    accounts: dict[str, int] = field(default_factory=dict)  # failures per existing account (the 20 most tried)
    unknown_names: int = 0  # failures naming no account; the names are not kept (one may be a password)
    clients: dict[str, int] = field(default_factory=dict)  # failures per client address (the 10 busiest)


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
        ComponentFitted,
        ConfigurationDrafted,
        AlarmAcknowledged,
        AlarmShelved,
        AlarmUnshelved,
        DowntimeClassified,
        DeadLetterResubmitted,
        FeedbackGiven,
        AccountCreated,
        AccountChanged,
        KioskRegistered,
        KioskRevoked,
        SessionStarted,
        SessionRevoked,
        SignInsFailed,
    )
}
EVENT_KINDS: dict[str, type[Event]] = {cls.KIND: cls for cls in EVENT_TYPES.values()}
assert len(EVENT_KINDS) == len(EVENT_TYPES), "every event kind must be unique"
