"""SPC run-rule violations as andon alarms: kept up to date one quality check at a time.

The pump tells :meth:`SpcWatch.note` of every admitted event (under its lock); a first test's
measurements each move their series (line, station, measurement, product) by one point, so the
floor frame only reads what is kept and never rescans history. Each series judges its points
against limits fixed for the site-local day, from the same baseline the /spc chart of that day
uses (factory/spc_chart.py): the ``BASELINE_POINTS`` points before the day, else its first
points once ``MIN_BASELINE`` of them are in. The last nine points are enough to tell whether
the newest completes a pattern of any rule (the longest, rule 2, needs nine).

An alarm is raised by the point that breaks a rule and clears after ``CLEAR_AFTER`` points in a
row that break none. Its dict has the shape of factory.alarms.active_alarms' (kind ``spc``),
plus the measurement, product, rules and a link to its chart. Its id names line, station,
measurement, product and the raising point's time, so every worker that folded the same
checks gives the same id, and acknowledging it works as for any alarm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from factory import spc
from factory.layout import Plant
from factory.local_time import local_day
from factory.spc_chart import BASELINE_POINTS, MIN_BASELINE, catalogue
from streams import events as ev
from streams.codec import format_time, parse_time

KIND = "spc"
CLEAR_AFTER = 9
# A restarted worker folds the stored checks of this long before its latest event: the lookback of
# the chart's baseline plus the day under way, so its limits are those the /spc chart computes.
SPC_SEED = timedelta(days=5)
TAIL = 9  # points that decide whether the newest completes a pattern (rule 2 is the longest)


def spc_alarm_id(line_id: str, station_id: str, measurement: str, product: str, since: str) -> str:
    """Return the id of the SPC alarm a series raised at ``since``."""
    return f"{line_id}/{station_id}/{KIND}:{measurement}:{product}/{since}"


def parse_spc_alarm_id(value: object) -> tuple[str, str, str, datetime] | None:
    """Split an SPC alarm id from a client into (line, station, "spc", since), or None if it is not one."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    parts = value.split("/")
    if len(parts) != 4 or not parts[2].startswith(KIND + ":") or parts[2].count(":") != 2:
        return None
    try:
        return parts[0], parts[1], KIND, parse_time(parts[3])
    except ValueError:
        return None


@dataclass
class Series:
    """One measurement of one product at one station, as the watch keeps it."""

    day: date | None = None
    limits: spc.Limits | None = None
    from_before: bool = False  # limits from the points before the day (else from its first points)
    kept: deque = field(default_factory=lambda: deque(maxlen=BASELINE_POINTS))  # latest values, any day
    first: list[float] = field(default_factory=list)  # the day's first values, while they make the limits
    tail: deque = field(default_factory=lambda: deque(maxlen=TAIL))  # the day's latest values
    last: datetime | None = None  # time of the latest point taken
    last_units: set[str] = field(default_factory=set)  # the units tested at that time
    alarm: dict[str, Any] | None = None
    clean: int = 0


class SpcWatch:
    """Every series of the plant and the alarms they raise, kept from the quality checks folded."""

    def __init__(self, plant: Plant, options_of: Callable[[str], Mapping[str, str] | None]) -> None:
        self.plant = plant
        self.options_of = options_of
        self.catalogue = catalogue(plant)
        self.series: dict[tuple[str, str, str, str], Series] = {}
        self.raised: dict[str, dict[tuple[str, str, str, str], dict[str, Any]]] = {}

    def note(self, event: ev.Event) -> None:
        """Take a folded event (the pump's listener): a first test moves its series."""
        if isinstance(event, ev.QualityChecked):
            self.take(event, self.options_of(event.unit_code))

    def seed(self, checks: Iterable[tuple[ev.QualityChecked, Mapping[str, str] | None]]) -> None:
        """Take stored checks (time order) with their units' options, as a restarted worker does."""
        for event, options in checks:
            self.take(event, options)

    def take(self, event: ev.QualityChecked, options: Mapping[str, str] | None) -> None:
        measured = self.catalogue.get(event.line_id, {}).get(event.station_id)
        if not measured or event.visit != 1:
            return
        product_of_line = self.plant.line(event.line_id).product
        for m in event.measurements:
            found = measured.get(m.name)
            if found is None:
                continue
            product = (options or {}).get(found.option) if found.option else product_of_line
            if product is None:
                continue  # the unit's order is not known here: its product cannot be told
            key = (event.line_id, event.station_id, m.name, product)
            self._point(key, self.series.setdefault(key, Series()), event, m.value)

    def _point(self, key: tuple[str, str, str, str], s: Series, event: ev.QualityChecked, value: float) -> None:
        if s.last is not None and (event.time < s.last or (event.time == s.last and event.unit_code in s.last_units)):
            return  # a copy, or a check older than the series (a line sends its checks in order)
        if event.time != s.last:
            s.last, s.last_units = event.time, set()
        s.last_units.add(event.unit_code)
        day = local_day(event.time, self.plant.tz_of(event.line_id))
        if day != s.day:
            s.day, s.first, s.tail = day, [], deque(maxlen=TAIL)
            s.from_before = len(s.kept) >= MIN_BASELINE
            s.limits = spc.imr_limits(list(s.kept)) if s.from_before else None
        if not s.from_before and len(s.first) < BASELINE_POINTS:
            s.first.append(value)
            if len(s.first) >= MIN_BASELINE:
                s.limits = spc.imr_limits(s.first)
        s.kept.append(value)
        if s.limits is None:
            return
        s.tail.append(value)
        newest = len(s.tail) - 1
        broken = [rule for rule, ix in spc.violations(list(s.tail), s.limits).items() if newest in ix]
        if broken:
            s.clean = 0
            if s.alarm is None:
                s.alarm = self._raise(key, event, day, broken)
                self.raised.setdefault(key[0], {})[key] = s.alarm
            else:
                s.alarm["rules"] = sorted(set(s.alarm["rules"]) | set(broken))
                s.alarm["reason"] = _reason(key, s.alarm["rules"])
        elif s.alarm is not None:
            s.clean += 1
            if s.clean >= CLEAR_AFTER:
                s.alarm, s.clean = None, 0
                self.raised.get(key[0], {}).pop(key, None)

    def _raise(self, key: tuple[str, str, str, str], event: ev.QualityChecked, day: date, broken: list[str]):
        line_id, station_id, measurement, product = key
        since = format_time(event.time)
        query = {"line": line_id, "station": station_id, "measurement": measurement, "product": product,
                 "day": day.isoformat()}  # fmt: skip
        return {
            "id": spc_alarm_id(line_id, station_id, measurement, product, since),
            "station": station_id,
            "kind": KIND,
            # An early warning (no unit need have failed): the floor's priority of its kind, low unless configured.
            "priority": self.plant.alarm_priority(line_id, station_id, KIND),
            "reason": _reason(key, broken),
            "since": since,
            "raised": since,
            "measurement": measurement,
            "product": product,
            "rules": broken,
            "link": "/spc?" + urlencode(query),
        }

    def alarms(self, line_id: str) -> list[dict[str, Any]]:
        """Return a line's SPC alarms, oldest first (copies: a floor view marks its own)."""
        found = self.raised.get(line_id)
        if not found:
            return []
        return sorted(({**a, "rules": list(a["rules"])} for a in found.values()), key=lambda a: a["raised"])


def _reason(key: tuple[str, str, str, str], rules: list[str]) -> str:
    return f"{key[2]} {key[3]}: rule {', '.join(rules)}"
