"""The plant's structure read from the factory file, shared by the emulator and the dashboard.

Loading validates the file and names the offending entry, because a typo in a station id would
otherwise surface much later as a unit that never moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import yaml


class LayoutError(ValueError):
    """The factory file is missing something or contradicts itself."""


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    cycle_s: float  # mean processing time of the base variant, seconds
    machines: int  # identical machines working in parallel
    buffer: int  # places in the queue in front of this station
    sim: dict[str, Any] = field(default_factory=dict, compare=False)  # emulator-only keys, see line_emulator.params


@dataclass(frozen=True)
class Line:
    id: str
    name: str
    product: str
    stations: tuple[Station, ...]

    def station_index(self, station_id: str) -> int:
        """Return the flow position of ``station_id`` (0-based)."""
        for i, station in enumerate(self.stations):
            if station.id == station_id:
                return i
        raise KeyError(station_id)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    weight: float  # relative popularity among the option's choices
    work_s: dict[str, float] = field(default_factory=dict)  # extra seconds at named stations


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    unit_prefix: str
    options: tuple[Option, ...]
    checks: dict[str, Any] = field(default_factory=dict, compare=False)  # quality checks, see line_emulator.params

    def mean_extra_work_s(self, station_id: str) -> float:
        """Return the seconds options add at ``station_id`` on average, weighted by popularity."""
        total = 0.0
        for option in self.options:
            weights = sum(c.weight for c in option.choices)
            total += sum(c.weight * c.work_s.get(station_id, 0.0) for c in option.choices) / weights
        return total

    def choice_label(self, option_id: str, choice_id: str) -> tuple[str, str]:
        """Return the human labels (option, choice) for a configured option."""
        for option in self.options:
            if option.id == option_id:
                for choice in option.choices:
                    if choice.id == choice_id:
                        return option.label, choice.label
        return option_id, choice_id


@dataclass(frozen=True)
class Plant:
    site_id: str
    site_name: str
    lines: tuple[Line, ...]
    products: dict[str, Product]
    simulation: dict[str, Any]
    utc_offset_h: float = 0.0  # the site's local time, for shifts, dates and promises

    @property
    def tz(self) -> timezone:
        """Return the site's local timezone (a fixed offset)."""
        return timezone(timedelta(hours=self.utc_offset_h))

    def planned_cycle_s(self, line_id: str) -> float:
        """Return the line's planned cycle time: its bottleneck's standard time per unit at the average option mix."""
        line = self.line(line_id)
        product = self.products[line.product]
        return max((s.cycle_s + product.mean_extra_work_s(s.id)) / s.machines for s in line.stations)

    def line(self, line_id: str) -> Line:
        """Return the line with ``line_id`` or raise KeyError."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)

    def has_line(self, line_id: object) -> bool:
        """Tell whether ``line_id`` names a line of this plant."""
        return any(line.id == line_id for line in self.lines)


def load_plant(path: str | Path) -> Plant:
    """Read and validate a factory file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayoutError(f"cannot read factory file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise LayoutError(f"factory file {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise LayoutError(f"factory file {path} must be a mapping")
    return parse_plant(doc)


def parse_plant(doc: dict[str, Any]) -> Plant:
    """Build a Plant from the parsed YAML document."""
    products = {pid: _product(pid, p) for pid, p in _require(doc, "products", "plant").items()}
    lines = tuple(_line(raw, products) for raw in _require(doc, "lines", "plant"))
    if not lines:
        raise LayoutError("the plant has no lines")
    ids = [line.id for line in lines]
    if len(set(ids)) != len(ids):
        raise LayoutError(f"duplicate line ids in {ids}")
    site = _require(doc, "site", "plant")
    return Plant(
        site_id=str(_require(site, "id", "site")),
        site_name=str(site.get("name", site["id"])),
        lines=lines,
        products=products,
        simulation=dict(doc.get("simulation") or {}),
        utc_offset_h=float(site.get("utc_offset_h", 0)),
    )


def _require(doc: Any, key: str, where: str) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise LayoutError(f"{where}: missing '{key}'")
    return doc[key]


def _line(raw: dict[str, Any], products: dict[str, Product]) -> Line:
    line_id = str(_require(raw, "id", "line"))
    product = str(_require(raw, "product", f"line {line_id}"))
    if product not in products:
        raise LayoutError(f"line {line_id}: unknown product '{product}'")
    stations = tuple(_station(line_id, s) for s in _require(raw, "stations", f"line {line_id}"))
    if not stations:
        raise LayoutError(f"line {line_id} has no stations")
    station_ids = {s.id for s in stations}
    if len(station_ids) != len(stations):
        raise LayoutError(f"line {line_id}: duplicate station ids")
    for option in products[product].options:
        for choice in option.choices:
            for station_id in choice.work_s:
                if station_id not in station_ids:
                    raise LayoutError(
                        f"product {product}, option {option.id}={choice.id}: "
                        f"no station '{station_id}' on line {line_id}"
                    )
    return Line(id=line_id, name=str(raw.get("name", line_id)), product=product, stations=stations)


def _station(line_id: str, raw: dict[str, Any]) -> Station:
    sid = str(_require(raw, "id", f"line {line_id} station"))
    where = f"line {line_id} station {sid}"
    station = Station(
        id=sid,
        name=str(raw.get("name", sid)),
        cycle_s=float(_require(raw, "cycle_s", where)),
        machines=int(raw.get("machines", 1)),
        buffer=int(raw.get("buffer", 4)),
        sim={k: v for k, v in raw.items() if k in ("breakdown", "changeover", "gate")},
    )
    if station.cycle_s <= 0 or station.machines < 1 or station.buffer < 0:
        raise LayoutError(f"{where}: cycle_s must be > 0, machines >= 1, buffer >= 0")
    return station


def _product(pid: str, raw: dict[str, Any]) -> Product:
    options = []
    for oid, option in (raw.get("options") or {}).items():
        choices = tuple(
            Choice(
                id=str(cid),
                label=str(c.get("label", cid)),
                weight=float(c.get("weight", 1)),
                work_s={str(k): float(v) for k, v in (c.get("work_s") or {}).items()},
            )
            for cid, c in _require(option, "choices", f"product {pid} option {oid}").items()
        )
        options.append(Option(id=str(oid), label=str(option.get("label", oid)), choices=choices))
    return Product(
        id=pid,
        name=str(raw.get("name", pid)),
        unit_prefix=str(raw.get("unit_prefix", pid[:2].upper())),
        options=tuple(options),
        checks=dict(raw.get("checks") or {}),
    )
