"""The enterprise's structure read from the factory file, shared by the emulator and the dashboard.

ISA-95 levels: the enterprise (:class:`Plant`, what one factory file describes) has sites, each
with its own time zone and calendar; a site has lines; a line has stations in flow order. Line
ids are unique across the enterprise, so an event's ``line_id`` names its site too. Every name
a person reads carries its English and Chinese text (``names``); ``name`` is the English one.
Validation lives in :mod:`factory.layout_schema`.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from factory.downtime import DowntimeTree, tree_from_doc
from factory.layout_schema import DEFAULT_PRIORITIES, LANGUAGES, FactoryDoc, validate
from factory.work_calendar import OpenClock, calendar_from_doc


class LayoutError(ValueError):
    """The factory file is missing something or contradicts itself."""


MAX_ENUMERATED = 20_000  # configurations of a product listed one by one; beyond, a sample stands for them


def text(names: Mapping[str, str], lang: str) -> str:
    """Return the text of a name in ``lang``, falling back to English."""
    return names.get(lang) or names["en"]


@dataclass(frozen=True)
class Station:
    id: str
    names: Mapping[str, str]
    cycle_s: float  # mean processing time of the base variant, seconds
    machines: int  # identical machines working in parallel
    buffer: int  # places in the queue in front of this station; 0: none

    @property
    def name(self) -> str:
        return self.names["en"]


@dataclass(frozen=True)
class Line:
    id: str
    names: Mapping[str, str]
    product: str
    stations: tuple[Station, ...]
    site_id: str = ""

    @property
    def name(self) -> str:
        return self.names["en"]

    @cached_property
    def _positions(self) -> dict[str, int]:
        # Asked for every event admitted (the plant check) and every frame: a scan of the
        # stations was 5 % of a busy server's time at 2,000 events/s.
        return {station.id: i for i, station in enumerate(self.stations)}

    def station_index(self, station_id: str) -> int:
        """Return the flow position of ``station_id`` (0-based)."""
        return self._positions[station_id]

    def has_station(self, station_id: object) -> bool:
        """Tell whether ``station_id`` names a station of this line."""
        return isinstance(station_id, str) and station_id in self._positions


@dataclass(frozen=True)
class Choice:
    id: str
    names: Mapping[str, str]
    weight: float  # relative popularity among the option's choices
    work_s: Mapping[str, float] = field(default_factory=dict)  # extra seconds at named stations

    @property
    def label(self) -> str:
        return self.names["en"]


@dataclass(frozen=True)
class Option:
    id: str
    names: Mapping[str, str]
    choices: tuple[Choice, ...]

    @property
    def label(self) -> str:
        return self.names["en"]

    def choice(self, choice_id: str) -> Choice | None:
        """Return the choice with ``choice_id``, or None."""
        return next((c for c in self.choices if c.id == choice_id), None)


@dataclass(frozen=True)
class Rule:
    """When every ``when`` choice is picked, ``forbid``'s choices are not allowed / one of ``require``'s must be."""

    when: Mapping[str, str]
    forbid: Mapping[str, tuple[str, ...]]
    require: Mapping[str, tuple[str, ...]]
    because: Mapping[str, str]

    def broken_by(self, options: Mapping[str, str]) -> bool:
        """Tell whether a configuration breaks this rule."""
        if any(options.get(k) != v for k, v in self.when.items()):
            return False
        if any(options.get(k) in choices for k, choices in self.forbid.items()):
            return True
        return any(options.get(k) not in choices for k, choices in self.require.items())


@dataclass(frozen=True)
class Product:
    id: str
    names: Mapping[str, str]
    unit_prefix: str
    options: tuple[Option, ...]
    rules: tuple[Rule, ...] = ()

    @property
    def name(self) -> str:
        return self.names["en"]

    def option(self, option_id: str) -> Option | None:
        """Return the option with ``option_id``, or None."""
        return next((o for o in self.options if o.id == option_id), None)

    @cached_property
    def _configurations(self) -> list[tuple[dict[str, str], float]]:
        if math.prod(len(o.choices) for o in self.options) > MAX_ENUMERATED:
            return self._sampled_configurations()
        combos = []
        for picks in itertools.product(*(o.choices for o in self.options)):
            options = {o.id: c.id for o, c in zip(self.options, picks)}
            weight = 1.0
            for o, c in zip(self.options, picks):
                weight *= c.weight / sum(x.weight for x in o.choices)
            if weight > 0 and not self.violations(options):
                combos.append((options, weight))
        total = sum(w for _, w in combos)
        if total <= 0:
            raise LayoutError(f"product {self.id}: the rules forbid every configuration")
        return [(options, w / total) for options, w in combos]

    def _sampled_configurations(self) -> list[tuple[dict[str, str], float]]:
        """Too many combinations to list: a fixed sample drawn by popularity stands for them."""
        rng = random.Random(f"configurations:{self.id}")
        drawn: list[dict[str, str]] = []
        for _ in range(MAX_ENUMERATED * 10):
            options = {o.id: rng.choices(o.choices, weights=[c.weight for c in o.choices])[0].id for o in self.options}
            if not self.violations(options):
                drawn.append(options)
                if len(drawn) == MAX_ENUMERATED:
                    break
        if not drawn:
            raise LayoutError(f"product {self.id}: the rules forbid every configuration")
        return [(options, 1 / len(drawn)) for options in drawn]

    def configurations(self) -> list[tuple[dict[str, str], float]]:
        """Return every allowed configuration with its probability under the choices' weights (rules applied)."""
        return self._configurations

    def extra_work_s(self, options: Mapping[str, str]) -> dict[str, float]:
        """Return the seconds a configuration's options add at each station."""
        extra: dict[str, float] = {}
        for option in self.options:
            choice = option.choice(options.get(option.id, ""))
            for station_id, seconds in (choice.work_s if choice else {}).items():
                extra[station_id] = extra.get(station_id, 0.0) + seconds
        return extra

    def mean_extra_work_s(self, station_id: str) -> float:
        """Return the seconds options add at ``station_id`` on average over the allowed configurations."""
        return sum(p * self.extra_work_s(options).get(station_id, 0.0) for options, p in self.configurations())

    def violations(self, options: Mapping[str, str]) -> list[Rule]:
        """Return the rules a configuration breaks."""
        return [rule for rule in self.rules if rule.broken_by(options)]

    def choice_label(self, option_id: str, choice_id: str, lang: str = "en") -> tuple[str, str]:
        """Return the human labels (option, choice) of a configured option."""
        option = self.option(option_id)
        choice = option.choice(choice_id) if option else None
        if option is None or choice is None:
            return option_id, choice_id
        return text(option.names, lang), text(choice.names, lang)


@dataclass(frozen=True)
class Site:
    id: str
    names: Mapping[str, str]
    tz: tzinfo
    timezone: str  # IANA name (Asia/Kolkata), or a fixed offset such as "+05:45"
    lines: tuple[Line, ...]

    @property
    def name(self) -> str:
        return self.names["en"]


@dataclass(frozen=True)
class Plant:
    """What one factory file describes: an enterprise of sites, their lines and the products they make."""

    id: str
    names: Mapping[str, str]
    sites: tuple[Site, ...]
    products: Mapping[str, Product]
    reasons: Mapping[str, Mapping[str, str]]  # breakdown reason code -> its text
    spec: FactoryDoc = field(compare=False, repr=False)  # the validated file, for the emulator's parameters
    downtime: DowntimeTree = field(default_factory=lambda: tree_from_doc(None, {}))  # reasons people give stops

    @property
    def name(self) -> str:
        return self.names["en"]

    @cached_property
    def lines(self) -> tuple[Line, ...]:
        """Every line of the enterprise, site after site."""
        return tuple(line for site in self.sites for line in site.lines)

    @cached_property
    def _line_index(self) -> dict[str, Line]:
        return {line.id: line for line in self.lines}

    @cached_property
    def _site_of(self) -> dict[str, Site]:
        return {line.id: site for site in self.sites for line in site.lines}

    @cached_property
    def _planned_cycle(self) -> dict[str, float]:
        return {line.id: _planned_cycle_s(line, self.products[line.product]) for line in self.lines}

    def line(self, line_id: str) -> Line:
        """Return the line with ``line_id`` or raise KeyError."""
        return self._line_index[line_id]

    def has_line(self, line_id: object) -> bool:
        """Tell whether ``line_id`` names a line of this enterprise."""
        return isinstance(line_id, str) and line_id in self._line_index

    def site(self, site_id: str) -> Site:
        """Return the site with ``site_id`` or raise KeyError."""
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    def has_site(self, site_id: object) -> bool:
        """Tell whether ``site_id`` names a site of this enterprise."""
        return any(site.id == site_id for site in self.sites)

    def site_of(self, line_id: str) -> Site:
        """Return the site a line belongs to."""
        return self._site_of[line_id]

    def site_of_event(self, event: object) -> str | None:
        """Return the id of the site an event belongs to (None: no line of this enterprise)."""
        line_id = getattr(event, "line_id", None)
        site = self._site_of.get(line_id) if isinstance(line_id, str) else None
        return site.id if site is not None else None

    def tz_of(self, line_id: str) -> tzinfo:
        """Return the local time zone of a line's site (shifts, dates, hour buckets, promises)."""
        return self._site_of[line_id].tz

    @cached_property
    def _open_clocks(self) -> dict[str, OpenClock]:
        return {
            site.id: OpenClock(calendar_from_doc(self.spec.calendar_of(doc), site.tz))
            for site, doc in zip(self.sites, self.spec.sites)
        }

    def open_clock(self, line_id: str) -> OpenClock:
        """Return the open-time arithmetic of a line's site calendar (wall time where none is set)."""
        return self._open_clocks[self._site_of[line_id].id]

    @cached_property
    def _alarm_priorities(self) -> dict[tuple[str, str], dict[str, str]]:
        plant_wide = {**DEFAULT_PRIORITIES, **{str(k): str(v) for k, v in self.spec.alarms.priorities.items()}}
        return {
            (line.id, station.id): {**plant_wide, **{str(k): str(v) for k, v in station.alarm_priorities.items()}}
            for site in self.spec.sites
            for line in site.lines
            for station in line.stations
        }

    def alarm_priority(self, line_id: str, station_id: str, kind: str) -> str:
        """Return the priority (high, medium, low) of a station's alarm of ``kind``, as configured."""
        found = self._alarm_priorities.get((line_id, station_id))
        return (found or DEFAULT_PRIORITIES).get(kind, "low")

    def planned_cycle_s(self, line_id: str) -> float:
        """Return the line's planned cycle time per unit, the same ideal time OEE's performance uses.

        Per unit, the ideal time of the line is its bottleneck's: the largest (station cycle time
        + its options' work) / machines over the stations. The plan is that time's expectation
        over the allowed configurations weighted by popularity, so a line that runs exactly at its
        ideal pace meets its plan and has performance 1.
        """
        return self._planned_cycle[line_id]


def _planned_cycle_s(line: Line, product: Product) -> float:
    total = 0.0
    for options, p in product.configurations():
        extra = product.extra_work_s(options)
        total += p * max((s.cycle_s + extra.get(s.id, 0.0)) / s.machines for s in line.stations)
    return total


def load_plant(path: str | Path) -> Plant:
    """Read and validate a factory file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayoutError(f"cannot read factory file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise LayoutError(f"factory file {path} is not valid YAML: {exc}") from None
    try:
        return parse_plant(doc)
    except LayoutError as exc:
        raise LayoutError(f"factory file {path}: {exc}") from None


def parse_plant(doc: Any) -> Plant:
    """Build a Plant from the parsed YAML document, or raise LayoutError naming every problem."""
    try:
        spec = validate(doc)
    except ValueError as exc:
        raise LayoutError(str(exc)) from None
    products = {pid: _product(pid, p) for pid, p in spec.products.items()}
    sites = []
    for site in spec.sites:
        lines = tuple(
            Line(
                id=line.id,
                names=line.name,
                product=line.product,
                site_id=site.id,
                stations=tuple(Station(s.id, s.name, s.cycle_s, s.machines, s.buffer) for s in line.stations),
            )
            for line in site.lines
        )
        zone = site.timezone or _offset_name(site.utc_offset_h or 0.0)
        sites.append(Site(id=site.id, names=site.name, tz=site.tz(), timezone=zone, lines=lines))
    return Plant(
        id=spec.enterprise.id,
        names=spec.enterprise.name,
        sites=tuple(sites),
        products=products,
        reasons=spec.reasons(),
        spec=spec,
        downtime=tree_from_doc(spec.downtime_tree, spec.reasons()),
    )


def _offset_name(hours: float) -> str:
    """Return a fixed offset as browsers and ISO 8601 write it ("+05:45")."""
    minutes = round(hours * 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _product(pid: str, raw: Any) -> Product:
    options = tuple(
        Option(
            id=oid,
            names=o.label,
            choices=tuple(Choice(cid, c.label, c.weight, dict(c.work_s)) for cid, c in o.choices.items()),
        )
        for oid, o in raw.options.items()
    )
    rules = tuple(
        Rule(
            when=dict(r.when),
            forbid={k: tuple(v) for k, v in (r.forbid or {}).items()},
            require={k: tuple(v) for k, v in (r.require or {}).items()},
            because=r.because,
        )
        for r in raw.rules
    )
    return Product(id=pid, names=raw.name, unit_prefix=raw.unit_prefix, options=options, rules=rules)


def names_missing_translation(plant: Plant) -> list[str]:
    """Return where the factory file gives a name without every language of LANGUAGES."""
    missing = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if "en" in value and all(isinstance(v, str) for v in value.values()):
                absent = [lang for lang in LANGUAGES if not value.get(lang)]
                if absent:
                    missing.append(f"{where} ({value['en']}): no {', '.join(absent)}")
                return
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(plant.spec.model_dump(), "")
    return missing
