"""The downtime reason tree, and which reason a stop counts under.

A machine reports its own code when it breaks down (``MachineDown.reason_code``, from the
factory file's ``reason_codes``); a person who knows better may classify the stop with a reason
of the configured tree (``DowntimeClassified``). A stop counts under the person's reason when it
has one (the latest on the control log), and under its machine code's default place in the
tree otherwise. A factory file without a tree gets one category in which each machine code is
its own reason, so its Paretos read as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from factory.layout_schema import DowntimeTreeDoc
from streams import events as ev
from streams.codec import format_time, parse_time

MAX_NOTE = 500  # characters of a person's note on a stop

StopId = tuple[str, int, str]  # station, machine, canonical down_since


@dataclass(frozen=True)
class Reason:
    code: str
    category: str
    names: Mapping[str, str]


@dataclass(frozen=True)
class Category:
    id: str
    names: Mapping[str, str]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class DowntimeTree:
    categories: tuple[Category, ...]
    reasons: Mapping[str, Reason]
    defaults: Mapping[str, str]  # machine reason code -> reason code of the tree

    def default_for(self, machine_code: str) -> str:
        """Return where a machine's own code counts when nobody classified the stop."""
        return self.defaults.get(machine_code, machine_code)

    def name(self, code: str, lang: str = "en") -> str:
        """Return a reason's name in ``lang`` (the code itself for a reason the tree does not know)."""
        reason = self.reasons.get(code)
        if reason is None:
            return code
        return reason.names.get(lang) or reason.names["en"]

    def choices(self, lang: str = "en") -> list[dict[str, str]]:
        """Return the tree as picker options, category by category."""
        out = []
        for category in self.categories:
            group = category.names.get(lang) or category.names["en"]
            out += [{"label": f"{group} · {self.name(code, lang)}", "value": code} for code in category.reasons]
        return out


def tree_from_doc(doc: DowntimeTreeDoc | None, machine_codes: Mapping[str, Mapping[str, str]]) -> DowntimeTree:
    """Build the tree of a factory file (one category of machine codes when it names none)."""
    if doc is None:
        names = {"en": "Machine codes", "zh": "设备代码"}
        reasons = {code: Reason(code, "machine", dict(text)) for code, text in machine_codes.items()}
        return DowntimeTree((Category("machine", names, tuple(reasons)),), reasons, {c: c for c in reasons})
    categories, reasons = [], {}
    for c in doc.categories:
        categories.append(Category(c.id, dict(c.name), tuple(r.code for r in c.reasons)))
        reasons.update({r.code: Reason(r.code, c.id, dict(r.name)) for r in c.reasons})
    return DowntimeTree(tuple(categories), reasons, dict(doc.defaults))


def canonical_time(text: str) -> str:
    """Return an RFC 3339 time as the codec writes it, so one instant has one spelling; ValueError if not a time."""
    return format_time(parse_time(text))


def stop_id(station_id: str, machine: int, down_since: datetime) -> StopId:
    """Return what names one stop of a line: its machine and when it went down."""
    return station_id, machine, format_time(down_since)


def classified_stops(events: Iterable[ev.Event]) -> dict[str, dict[StopId, ev.DowntimeClassified]]:
    """Return, per line, each stop's latest classification (``events`` in control-log order)."""
    out: dict[str, dict[StopId, ev.DowntimeClassified]] = {}
    for e in events:
        if isinstance(e, ev.DowntimeClassified):
            try:
                since = canonical_time(e.down_since)
            except ValueError:
                continue
            out.setdefault(e.line_id, {})[(e.station_id, e.machine, since)] = e
    return out


def counted_reason(tree: DowntimeTree, machine_code: str, classified: str | None) -> tuple[str, bool]:
    """Return (the reason a stop counts under, whether a person chose it)."""
    if classified is not None and classified in tree.reasons:
        return classified, True
    return tree.default_for(machine_code), False
