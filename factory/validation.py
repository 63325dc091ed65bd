"""Is an event possible in this plant? Checks beyond the schema, each refusal with a reason code.

The codec proves an event is well-formed; this module proves it makes sense here: its line and
station exist, its unit belongs to that line, its machine and visit numbers are real, its
numbers are physical, its time is near the line's clock, its tracking token and unit code are
not claimed by another order, and its unit's steps follow the line's flow. The ingest gate asks
before publishing anything from outside; the live projection asks before applying anything, so
one impossible event can never reach a page.

Tokens and unit codes are bound to their first order forever: what this gate no longer
remembers it asks the history (``lookup_token`` / ``lookup_unit``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from factory.layout import Line, Plant
from streams import events as ev

MAX_SECONDS = 7 * 24 * 3600.0  # no work, setup, repair or planned stop lasts longer than a week
MAX_MEASURED = 1e9
MAX_VISITS = 20  # a unit visits one station this often at most (the rework loops of the plant are short)
# Beyond this many, the units (and tokens) seen longest ago are forgotten here; the history still
# knows them. About four days of the default plant (5,000 units a day), far beyond a unit's stay;
# 200,000 kept growing a worker by some 2 MB a day per check for 40 days.
REMEMBERED_UNITS = 20_000
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

Lookup = Callable[[str], "tuple[str | None, str] | None"]  # token -> (unit code, line); unit -> (order id, line)


class _Unit:
    __slots__ = ("exited", "finished", "line_id", "order_id")

    def __init__(self, line_id: str, order_id: str | None) -> None:
        self.line_id = line_id
        self.order_id = order_id
        self.exited: int | None = None  # furthest station index left; None: not known here
        self.finished = False


class PlantCheck:
    """Remembers what it accepted (units, tokens, each line's clock) to judge the next event."""

    def __init__(
        self,
        plant: Plant,
        window: timedelta = timedelta(days=7),
        lookup_token: Lookup | None = None,
        lookup_unit: Lookup | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.plant = plant
        self.window = window
        self._lookup_token = lookup_token
        self._lookup_unit = lookup_unit
        self._wall_clock = wall_clock
        self._units: OrderedDict[str, _Unit] = OrderedDict()
        self._tokens: OrderedDict[str, str] = OrderedDict()  # token -> unit code
        self._clock: dict[str, datetime] = {}  # line -> latest event time accepted
        self._machines = {(line.id, s.id): s.machines for line in plant.lines for s in line.stations}

    # --- judging ----------------------------------------------------------------------------
    def check(self, event: ev.Event, flow: bool = True) -> str | None:
        """Return why ``event`` is impossible here (a reason code), or None if it may be applied.

        ``flow=False`` leaves out the checks that need the unit's earlier steps applied first
        (the ingest gate holds a unit's events to put them in order, then checks again).
        """
        line_id = getattr(event, "line_id", None)
        if line_id is None:
            return None  # configurator drafts, account changes: judged where they are made
        if not self.plant.has_line(line_id):
            return "unknown_line"
        line = self.plant.line(line_id)
        station_id = getattr(event, "station_id", None)
        if station_id is not None and not line.has_station(station_id):
            return "unknown_station"
        if isinstance(event, ev.ReworkRouted) and not (
            line.has_station(event.reenter_at)
            and line.station_index(event.reenter_at) <= line.station_index(event.station_id)
        ):
            return "unknown_station"
        reason = self._check_time(line_id, event.time) or self._check_numbers(event, line)
        if reason is not None:
            return reason
        unit_code = getattr(event, "unit_code", None)
        if isinstance(event, ev.OrderPlaced):
            return self._check_order(event, line)
        if unit_code is not None and not event.CONTROL:
            return self._check_unit_step(event, line, unit_code, flow)
        return None

    def _check_time(self, line_id: str, t: datetime) -> str | None:
        reference = self._clock.get(line_id) or datetime.fromtimestamp(self._wall_clock(), UTC)
        return "out_of_window" if abs(t - reference) > self.window else None

    def _check_numbers(self, event: ev.Event, line: Line) -> str | None:
        for name in ("work_s", "ideal_s", "duration_s", "down_s", "planned_s"):
            value = getattr(event, name, None)
            if value is not None and not 0 <= value <= MAX_SECONDS:
                return "bad_number"
        visit = getattr(event, "visit", None)
        if visit is not None and not 1 <= visit <= MAX_VISITS:
            return "bad_visit"
        machine = getattr(event, "machine", None)
        if machine is not None and not 1 <= machine <= self._machines[(line.id, event.station_id)]:  # type: ignore[attr-defined]
            return "unknown_machine"
        for m in getattr(event, "measurements", ()):
            if any(v is not None and abs(v) > MAX_MEASURED for v in (m.value, m.lower, m.upper)):
                return "bad_number"
        return None

    def _check_order(self, event: ev.OrderPlaced, line: Line) -> str | None:
        if event.product != line.product:
            return "wrong_product"
        product = self.plant.products[line.product]
        for option_id, choice_id in event.options.items():
            option = product.option(option_id)
            if option is None or option.choice(choice_id) is None:
                return "unknown_option"
        if product.violations(event.options):
            return "forbidden_combination"  # the factory file's rules between options: not built here
        if not (16 <= len(event.tracking_token) <= 64 and set(event.tracking_token) <= TOKEN_CHARS):
            return "bad_token"
        owner = self._token_owner(event.tracking_token)
        if owner is not None and owner != event.unit_code:
            return "token_taken"
        unit = self._unit(event.unit_code)
        if unit is not None:
            if unit.line_id != line.id:
                return "unit_on_other_line"
            if unit.order_id is not None and unit.order_id != event.order_id:
                return "unit_code_taken"
        return None

    def _check_unit_step(self, event: ev.Event, line: Line, unit_code: str, flow: bool) -> str | None:
        unit = self._unit(unit_code)
        if unit is None:
            return None  # its order may arrive later: the projection waits for it
        if unit.line_id != line.id:
            return "unit_on_other_line"
        station_id = getattr(event, "station_id", None)
        if flow and isinstance(event, (ev.StationEntered, ev.StationWorkDone, ev.StationExited)):
            if unit.finished:
                return "after_finish"
            index = line.station_index(station_id)  # type: ignore[arg-type]
            # Back to a station already left, without a rework routing it there: out of the line's
            # flow. (Forward jumps are allowed: a line may have stations without a scanner.)
            if unit.exited is not None and (
                index <= unit.exited if isinstance(event, ev.StationEntered) else index < unit.exited
            ):
                return "out_of_flow"
        return None

    def _unit(self, unit_code: str) -> _Unit | None:
        unit = self._units.get(unit_code)
        if unit is None and self._lookup_unit is not None:
            found = self._lookup_unit(unit_code)
            if found is not None:
                unit = self._remember_unit(unit_code, found[1], found[0])
        return unit

    def _token_owner(self, token: str) -> str | None:
        owner = self._tokens.get(token)
        if owner is None and self._lookup_token is not None:
            found = self._lookup_token(token)
            owner = found[0] if found is not None else None
        return owner

    # --- remembering ------------------------------------------------------------------------
    def accept(self, event: ev.Event) -> None:
        """Remember what an accepted event says (its line's clock, its unit, its token)."""
        line_id = getattr(event, "line_id", None)
        if line_id is None or not self.plant.has_line(line_id):
            return
        if event.time > self._clock.get(line_id, event.time - timedelta(seconds=1)):
            self._clock[line_id] = event.time
        unit_code = getattr(event, "unit_code", None)
        if unit_code is None or event.CONTROL:
            return
        unit = self._units.get(unit_code) or self._remember_unit(unit_code, line_id, None)
        self._units.move_to_end(unit_code)  # a unit still at work is the last to be forgotten
        if isinstance(event, ev.OrderPlaced):
            unit.order_id = event.order_id
            if unit.exited is None:
                unit.exited = -1  # seen from its order on: its steps can be followed
            self._tokens[event.tracking_token] = unit_code
            if len(self._tokens) > REMEMBERED_UNITS:
                self._tokens.popitem(last=False)
        elif isinstance(event, ev.StationExited) and unit.exited is not None:
            unit.exited = max(unit.exited, self.plant.line(line_id).station_index(event.station_id))
        elif isinstance(event, ev.ReworkRouted) and unit.exited is not None:
            unit.exited = min(unit.exited, self.plant.line(line_id).station_index(event.reenter_at) - 1)
        elif isinstance(event, (ev.UnitCompleted, ev.UnitScrapped)):
            unit.finished = True

    def _remember_unit(self, unit_code: str, line_id: str, order_id: str | None) -> _Unit:
        unit = self._units[unit_code] = _Unit(line_id, order_id)
        if len(self._units) > REMEMBERED_UNITS:
            self._units.popitem(last=False)
        return unit

    def admit(self, event: ev.Event) -> str | None:
        """Check ``event`` and remember it if it passes; return the refusal's reason, or None."""
        reason = self.check(event)
        if reason is None:
            self.accept(event)
        return reason
