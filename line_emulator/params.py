"""Simulation parameters from the factory file, typed and checked before a run starts.

Units are in the names: ``_s`` seconds, ``_min`` minutes, ``_h`` hours, ``_pct`` percent of a
nominal value. The structure (lines, stations, options) is factory.layout's; this module reads
what only the emulator needs: breakdowns, changeovers, quality gates and their checks, the shift
calendar, the daily order pattern and shipping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factory.layout import LayoutError, Plant


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
    utc_offset_h: float  # the site's local time (factory.layout.Plant.utc_offset_h)
    shifts: tuple[Shift, ...]
    stops: tuple[PlannedStop, ...]

    def open_fraction(self) -> float:
        """Return the share of a day the lines are scheduled to produce."""
        stop_min = sum(s.minutes * (1 if s.shift else len(self.shifts)) for s in self.stops)
        return (sum(s.minutes for s in self.shifts) - stop_min) / 1440


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
class SimParams:
    load_factor: float  # order rate as a share of the bottleneck's capacity over open time
    cycle_cv: float  # coefficient of variation of processing times
    warmup_s: float
    promise_days: int  # delivery promised this many days after the order's local date
    order_pattern: tuple[float, ...] | None  # 24 relative weights by local hour; None: flat
    calendar: Calendar | None  # None: always open
    shipping: Shipping | None
    reasons: dict[str, str]  # breakdown reason code -> text
    stations: dict[tuple[str, str], StationParams]  # (line id, station id) -> parameters
    checks: dict[str, dict[str, CheckSpec]]  # product id -> check name -> spec


def load_params(plant: Plant) -> SimParams:
    """Read the emulator's parameters from a loaded plant, or raise LayoutError naming the problem."""
    sim = plant.simulation
    reasons = {str(k): str(v) for k, v in (sim.get("reason_codes") or {}).items()}
    default_breakdown = sim.get("default_breakdown")
    checks = {
        pid: {name: _check(pid, name, raw) for name, raw in p.checks.items()} for pid, p in plant.products.items()
    }
    stations = {}
    for line in plant.lines:
        station_ids = [s.id for s in line.stations]
        for station in line.stations:
            where = f"line {line.id} station {station.id}"
            raw_breakdown = station.sim.get("breakdown", default_breakdown)
            breakdown = _breakdown(where, raw_breakdown, reasons) if raw_breakdown else None
            changeover = _changeover(where, station.sim.get("changeover"), plant.products[line.product])
            gate = _gate(where, station.sim.get("gate"), checks[line.product], station_ids, station.id)
            stations[(line.id, station.id)] = StationParams(breakdown, changeover, gate)
    pattern = sim.get("order_pattern")
    if pattern is not None and (len(pattern) != 24 or min(pattern) < 0 or sum(pattern) <= 0):
        raise LayoutError("simulation.order_pattern must be 24 non-negative weights, one per hour")
    return SimParams(
        load_factor=float(sim.get("load_factor", 0.8)),
        cycle_cv=float(sim.get("cycle_cv", 0.12)),
        warmup_s=float(sim.get("warmup_s", 3600)),
        promise_days=int(sim.get("promise_days", 3)),
        order_pattern=tuple(float(w) for w in pattern) if pattern else None,
        calendar=_calendar(sim["calendar"], plant.utc_offset_h) if sim.get("calendar") else None,
        shipping=_shipping(sim["shipping"]) if sim.get("shipping") else None,
        reasons=reasons,
        stations=stations,
        checks=checks,
    )


def _check(pid: str, name: str, raw: dict[str, Any]) -> CheckSpec:
    def num(key):
        return float(raw[key]) if raw.get(key) is not None else None

    ratio = tuple(raw["ratio"]) if raw.get("ratio") else None
    nominal = raw.get("nominal", 0.0)
    if ratio is None and raw.get("nominal") is None:
        raise LayoutError(f"product {pid} check {name}: needs 'nominal' (or 'ratio')")
    return CheckSpec(
        name=name,
        label=str(raw.get("label", name)),
        unit=str(raw.get("unit", "")),
        nominal={str(k): float(v) for k, v in nominal.items()} if isinstance(nominal, dict) else float(nominal),
        by=raw.get("by"),
        mean_pct=float(raw.get("mean_pct", 100.0)),
        sd_pct=float(raw.get("sd_pct", 0.0)),
        lower=num("lower"),
        upper=num("upper"),
        lower_pct=num("lower_pct"),
        upper_pct=num("upper_pct"),
        ratio=ratio,
        min_value=num("min_value"),
        decimals=int(raw.get("decimals", 1)),
    )


def _breakdown(where: str, raw: dict[str, Any], reasons: dict[str, str]) -> BreakdownSpec:
    spec = BreakdownSpec(
        mtbf_s=float(raw["mtbf_h"]) * 3600,
        mttr_s=float(raw["mttr_min"]) * 60,
        reasons=tuple(raw.get("reasons") or reasons),
    )
    unknown = [r for r in spec.reasons if r not in reasons]
    if unknown or not spec.reasons or spec.mtbf_s <= 0 or spec.mttr_s <= 0:
        raise LayoutError(
            f"{where}: breakdown needs mtbf_h > 0, mttr_min > 0 and known reason codes (unknown: {unknown})"
        )
    return spec


def _changeover(where: str, raw: dict[str, Any] | None, product) -> ChangeoverSpec | None:
    if not raw:
        return None
    if raw.get("option") not in {o.id for o in product.options}:
        raise LayoutError(f"{where}: changeover option '{raw.get('option')}' is not an option of {product.id}")
    return ChangeoverSpec(option=str(raw["option"]), setup_s=float(raw["setup_s"]))


def _gate(
    where: str, raw: dict[str, Any] | None, checks: dict[str, CheckSpec], station_ids: list[str], station_id: str
) -> GateSpec | None:
    if not raw:
        return None
    gate = GateSpec(
        checks=tuple(raw["checks"]),
        reenter_at=str(raw["reenter_at"]),
        repair_s=float(raw.get("repair_min", 15)) * 60,
        max_rework=int(raw.get("max_rework", 2)),
    )
    missing = [c for c in gate.checks if c not in checks]
    if missing:
        raise LayoutError(f"{where}: gate checks {missing} are not defined for the product")
    if gate.reenter_at not in station_ids or station_ids.index(gate.reenter_at) > station_ids.index(station_id):
        raise LayoutError(f"{where}: reenter_at '{gate.reenter_at}' must be this station or one before it")
    return gate


def _hhmm(text: str) -> int:
    hours, minutes = str(text).split(":")
    return int(hours) * 60 + int(minutes)


def _calendar(raw: dict[str, Any], utc_offset_h: float) -> Calendar:
    shifts = tuple(Shift(str(s["name"]), _hhmm(s["start"]), int(float(s["hours"]) * 60)) for s in raw["shifts"])
    names = {s.name for s in shifts}
    stops = tuple(
        PlannedStop(
            kind=kind,
            shift=s.get("shift"),
            after_min=int(s["after_min"]),
            minutes=int(s["minutes"]),
            reason=str(s.get("reason", kind)),
        )
        for kind, key in (("break", "breaks"), ("maintenance", "maintenance"))
        for s in raw.get(key) or ()
    )
    for stop in stops:
        if stop.shift is not None and stop.shift not in names:
            raise LayoutError(f"calendar: planned stop names unknown shift '{stop.shift}'")
    return Calendar(utc_offset_h=utc_offset_h, shifts=shifts, stops=stops)


def _shipping(raw: dict[str, Any]) -> Shipping:
    carriers = tuple(
        Carrier(str(c["name"]), float(c.get("weight", 1)), int(c["transit_days"][0]), int(c["transit_days"][1]))
        for c in raw["carriers"]
    )
    if not carriers:
        raise LayoutError("shipping: at least one carrier is needed")
    return Shipping(int(raw.get("truck_capacity", 40)), float(raw.get("max_wait_min", 120)) * 60, carriers)
