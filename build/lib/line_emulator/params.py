"""Simulation parameters from the validated factory file, typed for the model.

Units are in the names: ``_s`` seconds, ``_min`` minutes, ``_h`` hours, ``_pct`` percent of a
nominal value. The structure (sites, lines, stations, options) is factory.layout's; this module
reads what only the emulator needs: breakdowns, changeovers, quality gates and their checks,
each site's shift calendar, the daily order pattern, components and shipping. The file was
validated when it was loaded (factory/layout_schema.py), so nothing here can fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo

from factory.layout import Plant
from factory.layout_schema import BreakdownDoc, CalendarDoc, FactoryDoc, ShippingDoc


@dataclass(frozen=True)
class CheckSpec:
    """One measured quantity: value ~ Normal(nominal*mean_pct/100, sd), against limits."""

    name: str
    label: str
    unit: str
    nominal: float | dict[str, float]  # a number, or choice id -> number for option ``by``
    by: str | None
    mean_pct: float
    sd_pct: float  # standard deviation as % of nominal (ignored for ratio checks)
    lower: float | None  # absolute limits; *_pct limits are resolved against the nominal
    upper: float | None
    lower_pct: float | None
    upper_pct: float | None
    ratio: tuple[str, str] | None  # computed as value(a) / value(b) instead of drawn
    min_value: float | None
    decimals: int


@dataclass(frozen=True)
class GateSpec:
    checks: tuple[str, ...]
    reenter_at: str  # station where a repaired unit re-enters the line
    repair_s: float  # mean time in the repair bay
    max_rework: int  # failures beyond this many reworks scrap the unit


@dataclass(frozen=True)
class BreakdownSpec:
    mtbf_s: float  # mean time between failures of one machine
    mttr_s: float  # mean time to repair
    reasons: tuple[str, ...]  # reason codes, drawn uniformly


@dataclass(frozen=True)
class ChangeoverSpec:
    option: str  # a change of this option's choice between consecutive units needs a setup
    setup_s: float


@dataclass(frozen=True)
class StationParams:
    breakdown: BreakdownSpec | None
    changeover: ChangeoverSpec | None
    gate: GateSpec | None


@dataclass(frozen=True)
class Shift:
    name: str
    start_min: int  # minutes after local midnight
    minutes: int


@dataclass(frozen=True)
class PlannedStop:
    kind: str  # "break" or "maintenance"
    shift: str | None  # None: in every shift
    after_min: int  # minutes after the shift's start
    minutes: int
    reason: str


@dataclass(frozen=True)
class Calendar:
    tz: tzinfo  # the site's local time
    shifts: tuple[Shift, ...]
    stops: tuple[PlannedStop, ...]
    holidays: frozenset[date] = frozenset()  # local dates on which no shift starts
    weekdays: frozenset[int] = frozenset(range(1, 8))  # ISO weekdays on which shifts start

    def works_on(self, day: date) -> bool:
        """Tell whether shifts start on local ``day``."""
        return day.isoweekday() in self.weekdays and day not in self.holidays

    def open_fraction(self) -> float:
        """Return the share of a week the lines are scheduled to produce (holidays aside)."""
        stop_min = sum(s.minutes * (1 if s.shift else len(self.shifts)) for s in self.stops)
        return (sum(s.minutes for s in self.shifts) - stop_min) / 1440 * len(self.weekdays) / 7


@dataclass(frozen=True)
class Carrier:
    name: str
    weight: float
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Shipping:
    truck_capacity: int  # units per truck
    max_wait_s: float  # a truck leaves this long after its first unit, full or not
    carriers: tuple[Carrier, ...]


@dataclass(frozen=True)
class Supplier:
    name: str
    weight: float


@dataclass(frozen=True)
class ComponentSpec:
    """A main component fitted to every unit (or only to units with ``only_with``) at ``station``."""

    name: str
    label: str
    station: str
    suppliers: tuple[Supplier, ...]
    only_with: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SimParams:
    load_factor: float  # order rate as a share of the bottleneck's capacity over open time
    cycle_cv: float  # coefficient of variation of processing times (0: every cycle takes its mean)
    warmup_s: float
    promise_days: int  # delivery promised this many days after the order's local date
    order_pattern: tuple[float, ...] | None  # 24 relative weights by local hour; None: flat
    calendars: dict[str, Calendar | None]  # site id -> calendar (None: always open)
    shipping: dict[str, Shipping | None]  # site id -> dock parameters (None: no shipping)
    reasons: dict[str, str]  # breakdown reason code -> text
    stations: dict[tuple[str, str], StationParams]  # (line id, station id) -> parameters
    checks: dict[str, dict[str, CheckSpec]]  # product id -> check name -> spec
    components: dict[str, tuple[ComponentSpec, ...]]  # product id -> what is fitted, in flow order


def load_params(plant: Plant) -> SimParams:
    """Read the emulator's parameters from a loaded plant."""
    spec: FactoryDoc = plant.spec
    sim = spec.simulation
    reasons = {code: names["en"] for code, names in spec.reasons().items()}
    stations = {}
    for site in spec.sites:
        for line in site.lines:
            for station in line.stations:
                raw = sim.default_breakdown if station.breakdown is None else station.breakdown
                breakdown = _breakdown(raw, reasons) if isinstance(raw, BreakdownDoc) else None
                changeover = station.changeover
                gate = station.gate
                stations[(line.id, station.id)] = StationParams(
                    breakdown,
                    ChangeoverSpec(changeover.option, changeover.setup_s) if changeover else None,
                    GateSpec(tuple(gate.checks), gate.reenter_at, gate.repair_min * 60, gate.max_rework)
                    if gate
                    else None,
                )
    calendars = {site.id: _calendar(spec.calendar_of(site), plant.site(site.id).tz) for site in spec.sites}
    shipping = {site.id: _shipping(site.shipping or sim.shipping) for site in spec.sites}
    return SimParams(
        load_factor=sim.load_factor,
        cycle_cv=sim.cycle_cv,
        warmup_s=sim.warmup_s,
        promise_days=sim.promise_days,
        order_pattern=tuple(sim.order_pattern) if sim.order_pattern else None,
        calendars=calendars,
        shipping=shipping,
        reasons=reasons,
        stations=stations,
        checks={pid: {name: _check(name, c) for name, c in p.checks.items()} for pid, p in spec.products.items()},
        components={
            pid: tuple(
                ComponentSpec(
                    name,
                    c.name["en"],
                    c.station,
                    tuple(Supplier(s.name, s.weight) for s in c.suppliers),
                    tuple((c.only_with or {}).items()),
                )
                for name, c in p.components.items()
            )
            for pid, p in spec.products.items()
        },
    )


def _check(name: str, raw) -> CheckSpec:
    return CheckSpec(
        name=name, label=raw.label["en"], unit=raw.unit["en"],
        nominal=dict(raw.nominal) if isinstance(raw.nominal, dict) else float(raw.nominal or 0.0),
        by=raw.by, mean_pct=raw.mean_pct, sd_pct=raw.sd_pct, lower=raw.lower, upper=raw.upper,
        lower_pct=raw.lower_pct, upper_pct=raw.upper_pct, ratio=tuple(raw.ratio) if raw.ratio else None,
        min_value=raw.min_value, decimals=raw.decimals,
    )  # fmt: skip


def _breakdown(raw: BreakdownDoc, reasons: dict[str, str]) -> BreakdownSpec:
    return BreakdownSpec(mtbf_s=raw.mtbf_h * 3600, mttr_s=raw.mttr_min * 60, reasons=tuple(raw.reasons or reasons))


def _hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _calendar(raw: CalendarDoc | None, tz: tzinfo) -> Calendar | None:
    if raw is None:
        return None
    shifts = tuple(Shift(s.name, _hhmm(s.start), round(s.hours * 60)) for s in raw.shifts)
    stops = tuple(
        PlannedStop(kind=kind, shift=s.shift, after_min=s.after_min, minutes=s.minutes, reason=s.reason["en"])
        for kind, items in (("break", raw.breaks), ("maintenance", raw.maintenance))
        for s in items
    )
    return Calendar(
        tz=tz, shifts=shifts, stops=stops, holidays=frozenset(raw.holidays), weekdays=frozenset(raw.weekdays)
    )


def _shipping(raw: ShippingDoc | None) -> Shipping | None:
    if raw is None:
        return None
    carriers = tuple(Carrier(c.name["en"], c.weight, c.transit_days[0], c.transit_days[1]) for c in raw.carriers)
    return Shipping(raw.truck_capacity, raw.max_wait_min * 60, carriers)
