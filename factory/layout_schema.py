"""The factory file's schema: every key, its type, its range, and how entries refer to each other.

Validation happens once, when the file is loaded, and names the offending entry
(``sites[0].lines[1].stations[3].buffer: Input should be greater than or equal to 0``), because a
typo in a station id would otherwise surface much later as a unit that never moves. The
structure the rest of the code reads is built from these models in :mod:`factory.layout`; the
emulator reads its parameters from them in :mod:`line_emulator.params`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta, timezone, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

LANGUAGES = ("en", "zh")  # every name a person reads is given in each of these


def _text(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        if "en" not in value:
            raise ValueError("a name needs at least its English text ('en')")
        return dict(value)
    raise ValueError("a name is a string or a mapping of language to text, e.g. {en: Kitting, zh: 配料}")


Text = Annotated[dict[str, str], BeforeValidator(_text)]
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PRIORITIES = ("high", "medium", "low")  # ISA-18.2 asks for few priorities, most alarms the lowest
# A station's states that alarm (factory.alarms.ALARM_STATES) and a broken SPC run rule (factory.spc_alarms)
AlarmKind = Literal["down", "blocked", "starved", "spc"]
Priority = Literal["high", "medium", "low"]


class AlarmsDoc(_Model):
    """How andon alarms are ranked, when they count as a flood, and how long one may be shelved."""

    priorities: dict[AlarmKind, Priority] = Field(default_factory=dict)  # missing kinds: DEFAULT_PRIORITIES
    flood_alarms: Annotated[int, Field(ge=1, le=10_000)] = 10  # ISA-18.2: more than 10 alarms in 10 minutes
    flood_window_min: Annotated[float, Field(gt=0, le=1440)] = 10
    max_shelve_h: Annotated[float, Field(gt=0, le=168)] = 12  # ISA-18.2: shelving is always time-limited


DEFAULT_PRIORITIES: dict[str, str] = {"down": "high", "blocked": "medium", "starved": "low", "spc": "low"}


class BreakdownDoc(_Model):
    mtbf_h: Positive  # mean time between failures of one machine
    mttr_min: Positive  # mean time to repair
    reasons: list[str] = Field(default_factory=list)  # reason codes, drawn uniformly; empty: all of them


class ChangeoverDoc(_Model):
    option: str  # a change of this option's choice between consecutive units needs a setup
    setup_s: NonNegative


class GateDoc(_Model):
    checks: list[str] = Field(min_length=1)
    reenter_at: str  # where a repaired unit re-enters the line: this station or one before it
    repair_min: NonNegative = 15.0  # mean time in the repair bay
    max_rework: Annotated[int, Field(ge=0)] = 2  # failures beyond this many reworks scrap the unit


class StationDoc(_Model):
    id: Id
    name: Text
    cycle_s: Positive  # mean processing time of the base variant at one machine
    machines: Annotated[int, Field(ge=1, le=100)] = 1
    buffer: Annotated[int, Field(ge=0, le=10_000)] = 4  # places in front of the station; 0: none (blocking)
    changeover: ChangeoverDoc | None = None
    breakdown: BreakdownDoc | bool | None = None  # None: the simulation's default; false: never breaks down
    gate: GateDoc | None = None
    alarm_priorities: dict[AlarmKind, Priority] = Field(default_factory=dict)  # overrides `alarms.priorities`


class LineDoc(_Model):
    id: Id
    name: Text
    product: str
    stations: list[StationDoc] = Field(min_length=1)


class ShiftDoc(_Model):
    name: str
    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]  # local HH:MM
    hours: Annotated[float, Field(gt=0, le=24)]


class StopDoc(_Model):
    shift: str | None = None  # None: in every shift
    after_min: Annotated[int, Field(ge=0)]
    minutes: Annotated[int, Field(gt=0)]
    reason: Text = Field(default_factory=lambda: {"en": "Planned stop"})


class CalendarDoc(_Model):
    shifts: list[ShiftDoc] = Field(min_length=1)
    breaks: list[StopDoc] = Field(default_factory=list)
    maintenance: list[StopDoc] = Field(default_factory=list)
    holidays: list[date] = Field(default_factory=list)  # local dates on which no shift starts
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7])  # ISO

    @model_validator(mode="after")
    def _stops_fit(self) -> CalendarDoc:
        names = [s.name for s in self.shifts]
        if len(set(names)) != len(names):
            raise ValueError(f"shift names must be unique: {names}")
        for stop in (*self.breaks, *self.maintenance):
            shifts = [s for s in self.shifts if stop.shift in (None, s.name)]
            if not shifts:
                raise ValueError(f"a planned stop names the unknown shift {stop.shift!r}")
            for shift in shifts:
                if stop.after_min + stop.minutes > shift.hours * 60:
                    raise ValueError(
                        f"a planned stop of {stop.minutes} min after {stop.after_min} min does not fit "
                        f"in shift {shift.name} ({shift.hours:g} h)"
                    )
        return self


class CarrierDoc(_Model):
    name: Text
    weight: Positive = 1.0
    transit_days: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]

    @model_validator(mode="after")
    def _ordered(self) -> CarrierDoc:
        if self.transit_days[0] > self.transit_days[1]:
            raise ValueError("transit_days is [fewest, most]")
        return self


class ShippingDoc(_Model):
    truck_capacity: Annotated[int, Field(ge=1)] = 40
    max_wait_min: NonNegative = 120.0
    carriers: list[CarrierDoc] = Field(min_length=1)


class SiteDoc(_Model):
    id: Id
    name: Text
    timezone: str | None = None  # an IANA zone (DST-aware), e.g. America/New_York
    utc_offset_h: Annotated[float, Field(ge=-14, le=14)] | None = None  # or a fixed offset
    calendar: str | CalendarDoc | None = None  # a name from `calendars`, inline, or the simulation's
    shipping: ShippingDoc | None = None  # None: the simulation's
    lines: list[LineDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _zone(self) -> SiteDoc:
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {self.timezone!r} (an IANA name such as Asia/Shanghai)") from None
        return self

    def tz(self) -> tzinfo:
        """Return the site's local time zone."""
        if self.timezone is not None:
            return ZoneInfo(self.timezone)
        return timezone(timedelta(hours=self.utc_offset_h or 0.0))


class CheckDoc(_Model):
    """One measured quantity: value ~ Normal(nominal x mean_pct/100, sd), against limits."""

    label: Text
    unit: Text = Field(default_factory=lambda: {"en": ""})
    nominal: float | dict[str, float] | None = None  # a number, or choice id -> number for option `by`
    by: str | None = None
    mean_pct: float = 100.0
    sd_pct: NonNegative = 0.0  # standard deviation as % of nominal
    lower: float | None = None
    upper: float | None = None
    lower_pct: float | None = None  # limits as % of the nominal
    upper_pct: float | None = None
    ratio: tuple[str, str] | None = None  # value(a) / value(b) instead of drawn
    min_value: float | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] = 1

    @model_validator(mode="after")
    def _nominal(self) -> CheckDoc:
        if self.ratio is None and self.nominal is None:
            raise ValueError("needs 'nominal' (or 'ratio')")
        if isinstance(self.nominal, dict) and self.by is None:
            raise ValueError("a nominal per choice needs 'by' (the option it depends on)")
        return self


class ChoiceDoc(_Model):
    label: Text
    weight: NonNegative = 1.0  # relative popularity among the option's choices
    work_s: dict[str, NonNegative] = Field(default_factory=dict)  # extra seconds at named stations


class OptionDoc(_Model):
    label: Text
    choices: dict[str, ChoiceDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _someone_picks_it(self) -> OptionDoc:
        if sum(c.weight for c in self.choices.values()) <= 0:
            raise ValueError("at least one choice needs a weight above 0")
        return self


class RuleDoc(_Model):
    """Between options: when ``when`` holds, the ``forbid`` choices are not allowed, or one of ``require``'s must be."""

    when: dict[str, str] = Field(min_length=1)
    forbid: dict[str, list[str]] | None = None
    require: dict[str, list[str]] | None = None
    because: Text

    @model_validator(mode="after")
    def _one_kind(self) -> RuleDoc:
        if (self.forbid is None) == (self.require is None):
            raise ValueError("a rule has either 'forbid' or 'require'")
        return self


class SupplierDoc(_Model):
    name: str
    weight: Positive = 1.0


class ComponentDoc(_Model):
    name: Text
    station: str  # where it is fitted
    suppliers: list[SupplierDoc] = Field(min_length=1)
    only_with: dict[str, str] | None = None  # fitted only to units with these choices


class ProductDoc(_Model):
    name: Text
    unit_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,4}$")]
    checks: dict[str, CheckDoc] = Field(default_factory=dict)
    options: dict[str, OptionDoc] = Field(default_factory=dict)
    rules: list[RuleDoc] = Field(default_factory=list)
    components: dict[str, ComponentDoc] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> ProductDoc:
        for name, check in self.checks.items():
            if check.by is not None:
                if check.by not in self.options:
                    raise ValueError(f"check {name}: 'by' names the unknown option {check.by!r}")
                nominals = check.nominal if isinstance(check.nominal, dict) else {}
                missing = set(self.options[check.by].choices) - set(nominals)
                if missing:
                    raise ValueError(f"check {name}: no nominal for {sorted(missing)}")
            for operand in check.ratio or ():
                if operand not in self.checks:
                    raise ValueError(f"check {name}: ratio of the unknown check {operand!r}")
        for i, rule in enumerate(self.rules):
            for option, choices in [
                *((k, [v]) for k, v in rule.when.items()),
                *(rule.forbid or {}).items(),
                *(rule.require or {}).items(),
            ]:
                if option not in self.options:
                    raise ValueError(f"rules[{i}]: unknown option {option!r}")
                unknown = set(choices) - set(self.options[option].choices)
                if unknown:
                    raise ValueError(f"rules[{i}]: option {option} has no choice {sorted(unknown)}")
        for name, component in self.components.items():
            for option, choice in (component.only_with or {}).items():
                if option not in self.options or choice not in self.options[option].choices:
                    raise ValueError(f"component {name}: only_with names an unknown choice {option}={choice}")
        return self


class SimulationDoc(_Model):
    load_factor: Annotated[float, Field(gt=0, le=2)] = 0.8  # order rate / bottleneck capacity over open time
    cycle_cv: Annotated[float, Field(ge=0, le=3)] = 0.12  # coefficient of variation of processing times
    warmup_s: NonNegative = 3600.0
    promise_days: Annotated[int, Field(ge=0, le=365)] = 3
    order_pattern: list[NonNegative] | None = None  # 24 relative weights by local hour; None: flat
    default_breakdown: BreakdownDoc | None = None
    calendar: CalendarDoc | None = None  # for sites that name none
    shipping: ShippingDoc | None = None  # for sites that name none
    reason_codes: dict[str, Text] = Field(default_factory=dict)  # older files kept them here

    @model_validator(mode="after")
    def _pattern(self) -> SimulationDoc:
        if self.order_pattern is not None and (len(self.order_pattern) != 24 or sum(self.order_pattern) <= 0):
            raise ValueError("order_pattern must be 24 non-negative weights, one per local hour, not all 0")
        return self


class DowntimeReasonDoc(_Model):
    code: Id
    name: Text


class DowntimeCategoryDoc(_Model):
    id: Id
    name: Text
    reasons: list[DowntimeReasonDoc] = Field(default_factory=list)


class DowntimeTreeDoc(_Model):
    """The reasons people give a stop, by category, and where each machine's own code belongs by default."""

    categories: list[DowntimeCategoryDoc] = Field(min_length=1)
    defaults: dict[str, str] = Field(default_factory=dict)  # machine reason code -> reason code of the tree

    @model_validator(mode="after")
    def _tree(self) -> DowntimeTreeDoc:
        _check_ids("downtime category", [c.id for c in self.categories])
        codes = [r.code for c in self.categories for r in c.reasons]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"downtime reason codes must be unique across categories: {duplicates}")
        for category in self.categories:
            if not category.reasons:
                raise ValueError(f"downtime category {category.id}: has no reasons")
            for text in [category.name, *(r.name for r in category.reasons)]:
                missing = [lang for lang in LANGUAGES if not text.get(lang)]
                if missing:
                    raise ValueError(f"downtime category {category.id}: {text['en']!r} has no {missing} name")
        unknown = sorted({reason for reason in self.defaults.values() if reason not in codes})
        if unknown:
            raise ValueError(f"downtime_tree.defaults: unknown reason codes {unknown} (not in any category)")
        return self


class EnterpriseDoc(_Model):
    id: Id
    name: Text


class FactoryDoc(_Model):
    """The whole factory file."""

    enterprise: EnterpriseDoc = EnterpriseDoc(id="enterprise", name={"en": "Enterprise"})
    sites: list[SiteDoc] = Field(min_length=1)
    calendars: dict[str, CalendarDoc] = Field(default_factory=dict)
    products: dict[str, ProductDoc] = Field(min_length=1)
    reason_codes: dict[str, Text] = Field(default_factory=dict)
    alarms: AlarmsDoc = AlarmsDoc()
    downtime_tree: DowntimeTreeDoc | None = None  # None: each machine code is its own reason
    simulation: SimulationDoc = SimulationDoc()

    def reasons(self) -> dict[str, dict[str, str]]:
        """Return every breakdown reason code with its text."""
        return {**self.simulation.reason_codes, **self.reason_codes}

    def calendar_of(self, site: SiteDoc) -> CalendarDoc | None:
        """Return the shift calendar of a site (None: always open)."""
        if isinstance(site.calendar, CalendarDoc):
            return site.calendar
        if isinstance(site.calendar, str):
            return self.calendars[site.calendar]
        return self.simulation.calendar

    @model_validator(mode="after")
    def _references(self) -> FactoryDoc:
        _check_ids("site", [s.id for s in self.sites])
        _check_ids("line", [line.id for s in self.sites for line in s.lines])
        reasons = self.reasons()
        for site in self.sites:
            if isinstance(site.calendar, str) and site.calendar not in self.calendars:
                raise ValueError(f"site {site.id}: no calendar {site.calendar!r} in `calendars`")
            for line in site.lines:
                _check_line(line, self.products, reasons)
        if self.simulation.default_breakdown is not None:
            _check_reasons("simulation.default_breakdown", self.simulation.default_breakdown, reasons)
        if self.downtime_tree is not None:
            _check_defaults(self.downtime_tree, reasons)
        return self


def _check_ids(kind: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{kind} ids must be unique across the enterprise: {duplicates}")


def _check_defaults(tree: DowntimeTreeDoc, reasons: dict[str, Any]) -> None:
    """Every machine code needs a default place in the tree: a stop nobody classified still counts somewhere."""
    unknown = sorted(code for code in tree.defaults if code not in reasons)
    if unknown:
        raise ValueError(f"downtime_tree.defaults: unknown machine reason codes {unknown} (see reason_codes)")
    missing = sorted(code for code in reasons if code not in tree.defaults)
    if missing:
        raise ValueError(f"downtime_tree.defaults: machine reason codes {missing} have no place in the tree")


def _check_reasons(where: str, breakdown: BreakdownDoc, reasons: dict[str, Any]) -> None:
    unknown = [r for r in breakdown.reasons if r not in reasons]
    if unknown:
        raise ValueError(f"{where}: unknown breakdown reason codes {unknown} (see reason_codes)")
    if not breakdown.reasons and not reasons:
        raise ValueError(f"{where}: a breakdown needs reason codes (reason_codes is empty)")


def _check_line(line: LineDoc, products: dict[str, ProductDoc], reasons: dict[str, Any]) -> None:
    where = f"line {line.id}"
    product = products.get(line.product)
    if product is None:
        raise ValueError(f"{where}: unknown product {line.product!r}")
    ids = [s.id for s in line.stations]
    _check_ids(f"{where}: station", ids)
    for option_id, option in product.options.items():
        for choice_id, choice in option.choices.items():
            for station_id in choice.work_s:
                if station_id not in ids:
                    raise ValueError(
                        f"product {line.product}, option {option_id}={choice_id}: no station "
                        f"{station_id!r} on line {line.id}"
                    )
    for name, component in product.components.items():
        if component.station not in ids:
            raise ValueError(f"product {line.product}, component {name}: no station {component.station!r} on {where}")
    for i, station in enumerate(line.stations):
        here = f"{where} station {station.id}"
        if station.changeover is not None and station.changeover.option not in product.options:
            raise ValueError(
                f"{here}: changeover option {station.changeover.option!r} is not an option of {line.product}"
            )
        if isinstance(station.breakdown, BreakdownDoc):
            _check_reasons(here, station.breakdown, reasons)
        if station.gate is not None:
            missing = [c for c in station.gate.checks if c not in product.checks]
            if missing:
                raise ValueError(f"{here}: gate checks {missing} are not defined for {line.product}")
            if station.gate.reenter_at not in ids[: i + 1]:
                raise ValueError(
                    f"{here}: reenter_at {station.gate.reenter_at!r} must be this station or one before it"
                )


def _prepare(doc: dict[str, Any]) -> dict[str, Any]:
    """Fill what a short factory file may leave out: names default to ids; one ``site:`` with ``lines:``
    at the top is an enterprise of one site."""
    doc = dict(doc)
    if "sites" not in doc and isinstance(doc.get("site"), dict):
        site = dict(doc.pop("site"))
        site["lines"] = doc.pop("lines", [])
        doc["sites"] = [site]
    for site in doc.get("sites") or ():
        if isinstance(site, dict):
            site.setdefault("name", str(site.get("id", "site")))
            for line in site.get("lines") or ():
                if isinstance(line, dict):
                    line.setdefault("name", str(line.get("id", "line")))
                    for station in line.get("stations") or ():
                        if isinstance(station, dict):
                            station.setdefault("name", str(station.get("id", "station")))
    products = doc.get("products")
    if isinstance(products, dict):
        doc["products"] = {
            pid: {"name": str(pid), "unit_prefix": re.sub(r"[^A-Z0-9]", "", str(pid).upper())[:2] or "U", **p}
            if isinstance(p, dict)
            else p
            for pid, p in products.items()
        }
        for p in doc["products"].values():
            for oid, option in (p.get("options") or {}).items() if isinstance(p, dict) else ():
                if isinstance(option, dict):
                    option.setdefault("label", str(oid))
                    for cid, choice in (option.get("choices") or {}).items():
                        if isinstance(choice, dict):
                            choice.setdefault("label", str(cid))
            for name, check in (p.get("checks") or {}).items() if isinstance(p, dict) else ():
                if isinstance(check, dict):
                    check.setdefault("label", str(name))
    return doc


def validate(doc: Any) -> FactoryDoc:
    """Return the validated factory file, or raise ValueError listing every problem with its place."""
    if not isinstance(doc, dict):
        raise ValueError("the factory file must be a mapping (sites, products, ...)")
    try:
        return FactoryDoc.model_validate(_prepare(doc))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
            message = re.sub(r"^Value error, ", "", error["msg"])
            problems.append(f"{place}: {message}" if place else message)
        raise ValueError("; ".join(problems)) from None
