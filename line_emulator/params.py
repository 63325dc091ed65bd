"""Simulation parameters from the validated factory file, typed for the model.

Units are in the names: ``_s`` seconds, ``_min`` minutes, ``_h`` hours, ``_pct`` percent of a
nominal value. The structure (sites, lines, stations, options) is factory.layout's; this module
reads what only the emulator needs: breakdowns, changeovers, quality gates and their checks,
each site's shift calendar, the daily order pattern, components and shipping. The file was
validated when it was loaded (factory/layout_schema.py), so nothing here can fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from factory.layout import Plant
from factory.layout_schema import BreakdownDoc, FactoryDoc, ShippingDoc
from factory.work_calendar import Calendar, calendar_from_doc


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
    calendars = {site.id: calendar_from_doc(spec.calendar_of(site), plant.site(site.id).tz) for site in spec.sites}
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


def _shipping(raw: ShippingDoc | None) -> Shipping | None:
    if raw is None:
        return None
    carriers = tuple(Carrier(c.name["en"], c.weight, c.transit_days[0], c.transit_days[1]) for c in raw.carriers)
    return Shipping(raw.truck_capacity, raw.max_wait_min * 60, carriers)
