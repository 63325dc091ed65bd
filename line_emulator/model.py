"""SimPy model of mass-customisation lines: orders arrive, units flow station by station.

Each station has ``machines`` identical servers and a finite buffer in front of it (``buffer: 0``
means none: a finished unit keeps its machine until the next station takes it). A unit that
finished a station keeps its machine until there is room downstream, so stations block upstream
and starve downstream the way a real paced line does. Machines break down (a breakdown takes the
next free machine ahead of waiting units and holds it for the repair), stations change over
between variants, quality gates send failed units through the repair bay back onto the line or
to scrap, each site's shift calendar closes its lines for breaks, holidays and days off, main
components are fitted with their supplier, batch and serial, and loaded units leave on trucks.
Every state change is handed to ``emit``; the model never knows where events go.

A plant can also resume a recorded run (:mod:`line_emulator.resume`): its units continue from
the stations where the record left them, and nothing already recorded is emitted again.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import simpy

from factory.configurator import check_configuration
from factory.layout import Line, Plant, Product
from factory.work_calendar import Boundary
from line_emulator.calendar import LineGate, run_calendar
from line_emulator.orders import Order, OrderBook, TokenSource, random_token
from line_emulator.params import SimParams, load_params
from line_emulator.processes import Process
from line_emulator.quality import measure
from line_emulator.shipping import Dock
from streams import events as ev

MachineRequest = simpy.resources.resource.Request
Emit = Callable[[ev.Event], object]  # what it returns is ignored
REPAIR_CV = 0.8  # repair times vary a lot: a reset takes minutes, a part swap an hour
REWORK_CV = 0.5
SETUP_CV = 0.2
LOT_SIZE = 200  # components of one supplier come in lots (batches) of this many


@dataclass
class UnitProgress:
    """Where a unit of a resumed run stands, and what it has been through (line_emulator.resume)."""

    order: Order
    kind: str  # queued (in front of ``station``), at (working on it), done (work done, waiting to leave), rework
    station: int  # index of the station the unit is at, waits for, or re-enters at
    elapsed_s: float = 0.0  # time already spent on the work (at) or in the repair bay (rework)
    repair_mean_s: float = 0.0  # rework: the mean repair time of the gate that sent it there
    visits: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    fitted: frozenset[str] = frozenset()  # components already fitted


def gamma(rng: random.Random, mean: float, cv: float) -> float:
    """Draw a positive duration with this mean and coefficient of variation (cv 0: exactly the mean)."""
    if cv <= 0 or mean <= 0:
        return max(mean, 0.0)
    shape = 1.0 / (cv * cv)
    return rng.gammavariate(shape, mean / shape)


class LineModel:
    """One production line: order arrivals, one process per unit, breakdowns, its dock."""

    def __init__(
        self,
        env: simpy.Environment,
        plant: Plant,
        params: SimParams,
        line: Line,
        rng: random.Random,
        emit: Emit,
        origin: datetime,
        new_token: TokenSource,
        gate: LineGate,
        run_id: str,
        first_order: int = 1,
    ) -> None:
        self.env = env
        self.line = line
        self.product: Product = plant.products[line.product]
        self.params = params
        self.rng = rng
        self.gate = gate
        self._emit = emit
        self._origin = origin
        site = plant.site_of(line.id)
        self._source = f"/{site.id}/{line.id}"
        self._seq = 0
        # Event ids carry the run's id, so a restarted plant never reuses an earlier run's ids.
        self._run = run_id
        self._tz = site.tz
        self._promise_days = params.promise_days
        self.stations = [params.stations[(line.id, s.id)] for s in line.stations]
        calendar = params.calendars.get(site.id)
        open_fraction = calendar.open_fraction() if calendar else 1.0
        self.arrival_rate_per_s = params.load_factor * self.capacity_per_s() * open_fraction
        self.orders = OrderBook(line, self.product, rng, new_token, first_order)
        self.machines = [simpy.PriorityResource(env, capacity=s.machines) for s in line.stations]
        # The first station's queue is the order backlog: unbounded. Others hold `buffer` units;
        # with none, a unit moves on only when the next station's machine takes it.
        self.buffers: list[simpy.Resource | None] = [None]
        self.buffers += [simpy.Resource(env, capacity=s.buffer) if s.buffer > 0 else None for s in line.stations[1:]]
        self._set_up_for: list[str | None] = [None] * len(line.stations)  # last variant, for changeovers
        self._components = [c for c in params.components.get(line.product, ()) if line.has_station(c.station)]
        self._lots: Counter[str] = Counter()  # (component, supplier) -> units fitted, for batch numbers
        shipping = params.shipping.get(site.id)
        self.dock = Dock(env, line.id, shipping, rng, self.now, site.tz, self._ship) if shipping else None

    def start(
        self,
        progress: Sequence[UnitProgress] = (),
        down: dict[tuple[int, int], tuple[str, float]] | None = None,
        set_up_for: dict[int, str] | None = None,
        at_dock: Sequence[str] = (),
    ) -> None:
        """Start the line's processes: arrivals, breakdowns, and (resuming a run) its units where they are."""
        down = down or {}
        for i, choice in (set_up_for or {}).items():
            self._set_up_for[i] = choice
        for unit in progress:
            self.env.process(self._unit(unit.order, unit))
        for code in at_dock:
            if self.dock is not None:
                self.dock.load(code)
        self.env.process(self._arrivals())
        for i, station in enumerate(self.line.stations):
            if self.stations[i].breakdown is not None:
                for machine in range(1, station.machines + 1):
                    self.env.process(self._breakdowns(i, machine, down.get((i, machine))))

    def capacity_per_s(self) -> float:
        """Return the bottleneck's mean output rate (units per second) for the average option mix.

        Each station's rate counts its machines, their availability between breakdowns and the
        average changeover per unit, so a load factor below 1 keeps every station below full use.
        """
        configurations = self.product.configurations()
        rates = []
        for s, params in zip(self.line.stations, self.stations):
            seconds = s.cycle_s + self.product.mean_extra_work_s(s.id)
            if params.changeover is not None:
                share: dict[str, float] = {}
                for options, p in configurations:
                    key = options[params.changeover.option]
                    share[key] = share.get(key, 0.0) + p
                seconds += params.changeover.setup_s * (1 - sum(p * p for p in share.values()))
            availability = 1.0
            if params.breakdown is not None:
                availability = params.breakdown.mtbf_s / (params.breakdown.mtbf_s + params.breakdown.mttr_s)
            rates.append(s.machines * availability / seconds)
        return min(rates)

    @property
    def source(self) -> str:
        """Return the source every event of this line carries."""
        return self._source

    def now(self) -> datetime:
        """Return the simulated wall-clock time, truncated to the millisecond the wire carries."""
        t = self._origin + timedelta(seconds=self.env.now)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)

    def publish(self, cls: type[ev.Event], **data) -> None:
        """Emit an event of this line's source, numbered in emission order."""
        self._seq += 1
        self._emit(cls(id=f"{self.line.id}-{self._run}-{self._seq:09d}", source=self._source, time=self.now(), **data))

    def announce(self, b: Boundary) -> None:
        """Emit the calendar boundary ``b`` as this line's event."""
        line_id = self.line.id
        if b.kind == "shift_start":
            self.publish(ev.ShiftStarted, line_id=line_id, shift=b.name, planned_end=b.detail)
        elif b.kind == "shift_end":
            self.publish(ev.ShiftEnded, line_id=line_id, shift=b.name)
        elif b.kind == "stop_start":
            self.publish(
                ev.PlannedStopStarted, line_id=line_id, kind=b.name, reason=b.detail, planned_s=b.minutes * 60.0
            )
        else:
            self.publish(ev.PlannedStopEnded, line_id=line_id, kind=b.name)

    def _gamma(self, mean: float, cv: float) -> float:
        return gamma(self.rng, mean, cv)

    # --- orders ---------------------------------------------------------------------------
    def _arrivals(self) -> Process:
        """Non-homogeneous Poisson arrivals by thinning against the hourly order pattern."""
        pattern = self.params.order_pattern
        peak = max(pattern) if pattern else 1.0
        max_rate = self.arrival_rate_per_s * (peak / (sum(pattern) / 24) if pattern else 1.0)
        while True:
            yield self.env.timeout(self.rng.expovariate(max_rate))
            if pattern and self.rng.random() * peak > pattern[self.now().astimezone(self._tz).hour]:
                continue
            order = self.orders.new_order(self.now())
            promised = (self.now().astimezone(self._tz) + timedelta(days=self._promise_days)).date().isoformat()
            self.publish(
                ev.OrderPlaced,
                order_id=order.order_id,
                unit_code=order.unit_code,
                tracking_token=order.tracking_token,
                line_id=self.line.id,
                product=self.product.id,
                options=dict(order.options),
                promised_by=promised,
            )
            self.env.process(self._unit(order))

    def take_order(self, placed: ev.OrderPlaced) -> None:
        """Build an order placed elsewhere (the configurator, an ERP): its unit joins the backlog now."""
        order = Order(
            placed.order_id,
            placed.unit_code,
            placed.tracking_token,
            dict(placed.options),
            self.product.extra_work_s(placed.options),
        )
        self.env.process(self._unit(order))

    # --- a unit's way through the line ------------------------------------------------------
    def _unit(self, order: Order, resume: UnitProgress | None = None) -> Process:
        unit, line_id, stations = order.unit_code, self.line.id, self.line.stations
        visits: Counter[str] = Counter(resume.visits) if resume else Counter()
        failures: Counter[str] = Counter(resume.failures) if resume else Counter()
        fitted = set(resume.fitted) if resume else set()
        held: tuple[int, MachineRequest] | None = None  # (station index, request) the unit still occupies
        i = resume.station if resume else 0
        phase = resume.kind if resume else "queued"
        elapsed = resume.elapsed_s if resume else 0.0
        if resume is not None and phase == "rework":
            yield self.env.timeout(max(self._gamma(resume.repair_mean_s, REWORK_CV) - elapsed, 0.0))
            phase = "queued"
        while i < len(stations):
            station = stations[i]
            if phase == "queued":
                buffer = self.buffers[i]
                if resume is not None and resume.kind == "queued" and i > 0 and buffer is not None:
                    # it already stands in the buffer: take its place back
                    slot = buffer.request()
                    yield slot
                    request = self.machines[i].request(priority=1)
                    yield request
                    buffer.release(slot)
                else:
                    request = yield from self._move_to(i, held, unit, visits)
                held = None
                resume = None
                visits[station.id] += 1
                self.publish(
                    ev.StationEntered, unit_code=unit, line_id=line_id, station_id=station.id, visit=visits[station.id]
                )
                phase, elapsed = "at", 0.0
            else:
                request = self.machines[i].request(priority=1)  # it held this machine when the record ended
                yield request
                resume = None
            visit = visits[station.id]
            if phase == "at":
                yield from self._wait_for_open_line()
                if elapsed == 0.0 and (yield from self._changeover(i, order)):
                    yield from self._wait_for_open_line()  # a break may have begun during the setup
                ideal = station.cycle_s + order.extra_work_s.get(station.id, 0.0)
                work = self._gamma(ideal, self.params.cycle_cv)
                yield self.env.timeout(max(work - elapsed, 0.0))
                self._fit_components(unit, station.id, order, fitted)
                self.publish(
                    ev.StationWorkDone,
                    unit_code=unit,
                    line_id=line_id,
                    station_id=station.id,
                    work_s=round(work, 3),
                    ideal_s=round(ideal, 3),
                    visit=visit,
                )
                gate = self.stations[i].gate
                if gate is not None:
                    results, defect = measure(self.params.checks[self.product.id], gate.checks, order.options, self.rng)
                    self.publish(
                        ev.QualityChecked,
                        unit_code=unit,
                        line_id=line_id,
                        station_id=station.id,
                        passed=defect is None,
                        measurements=results,
                        defect_code=defect,
                        visit=visit,
                    )
                    if defect is not None:
                        self._leave(unit, i, request, visits)
                        failures[station.id] += 1
                        if failures[station.id] > gate.max_rework:
                            self.publish(
                                ev.UnitScrapped,
                                unit_code=unit,
                                line_id=line_id,
                                station_id=station.id,
                                defect_code=defect,
                            )
                            return
                        self.publish(
                            ev.ReworkRouted,
                            unit_code=unit,
                            line_id=line_id,
                            station_id=station.id,
                            defect_code=defect,
                            reenter_at=gate.reenter_at,
                        )
                        yield self.env.timeout(self._gamma(gate.repair_s, REWORK_CV))
                        held, i, phase = None, self.line.station_index(gate.reenter_at), "queued"
                        continue
            held = (i, request)
            i += 1
            phase = "queued"
        assert held is not None  # the loop ends after the last station's work
        self._leave(unit, held[0], held[1], visits)
        self.publish(ev.UnitCompleted, unit_code=unit, line_id=line_id)
        if self.dock is not None:
            self.dock.load(unit)

    def _move_to(self, i: int, held: tuple[int, MachineRequest] | None, unit: str, visits: Counter) -> Process:
        """Get the unit onto station ``i``'s machine, leaving the one it holds when there is room."""
        buffer = self.buffers[i]
        if buffer is not None:
            slot = buffer.request()
            yield slot  # wait for room in front of the station: upstream stays blocked
            if held is not None:
                self._leave(unit, held[0], held[1], visits)
            request = self.machines[i].request(priority=1)
            yield request
            buffer.release(slot)
            return request
        if i > 0 and held is not None:
            request = self.machines[i].request(priority=1)  # no buffer: hand over machine to machine
            yield request
            self._leave(unit, held[0], held[1], visits)
            return request
        if held is not None:
            self._leave(unit, held[0], held[1], visits)
        request = self.machines[i].request(priority=1)
        yield request
        return request

    def _leave(self, unit: str, i: int, request, visits: Counter) -> None:
        """Free the unit's machine at station ``i`` and say so."""
        self.machines[i].release(request)
        station_id = self.line.stations[i].id
        self.publish(
            ev.StationExited, unit_code=unit, line_id=self.line.id, station_id=station_id, visit=visits[station_id]
        )

    def _fit_components(self, unit: str, station_id: str, order: Order, fitted: set[str]) -> None:
        """Fit the components that belong at this station (once per unit, even after a rework loop)."""
        for component in self._components:
            if component.station != station_id or component.name in fitted:
                continue
            if any(order.options.get(k) != v for k, v in component.only_with):
                continue
            supplier = self.rng.choices(component.suppliers, weights=[s.weight for s in component.suppliers])[0]
            key = f"{component.name}/{supplier.name}"
            lot = self._lots[key] // LOT_SIZE + 1
            self._lots[key] += 1
            code = "".join(w[0] for w in supplier.name.split()).upper()
            self.publish(
                ev.ComponentFitted,
                unit_code=unit,
                line_id=self.line.id,
                station_id=station_id,
                component=component.name,
                supplier=supplier.name,
                batch=f"{code}-{self.now().astimezone(self._tz):%y%m}-{lot:04d}",
                serial=f"{code}{self.rng.getrandbits(40):010X}",
            )
            fitted.add(component.name)

    def _wait_for_open_line(self) -> Process:
        while not self.gate.is_open:
            yield self.gate.opened  # break or no shift: the unit waits on its station

    def _changeover(self, i: int, order: Order) -> Process:
        """Set the station up for this unit's variant if it differs; return whether it did."""
        spec = self.stations[i].changeover
        if spec is None:
            return False
        choice = order.options[spec.option]
        previous, self._set_up_for[i] = self._set_up_for[i], choice
        if previous is None or previous == choice:
            return False
        station_id = self.line.stations[i].id
        self.publish(
            ev.ChangeoverStarted,
            line_id=self.line.id,
            station_id=station_id,
            option=spec.option,
            from_choice=previous,
            to_choice=choice,
            unit_code=order.unit_code,
        )
        started = self.env.now
        yield self.env.timeout(self._gamma(spec.setup_s, SETUP_CV))
        self.publish(
            ev.ChangeoverFinished,
            line_id=self.line.id,
            station_id=station_id,
            duration_s=round(self.env.now - started, 3),
            unit_code=order.unit_code,
        )
        return True

    # --- breakdowns and shipping ---------------------------------------------------------------
    def _breakdowns(self, i: int, machine: int, down: tuple[str, float] | None = None) -> Process:
        spec = self.stations[i].breakdown
        assert spec is not None  # started only for stations that break down
        station_id = self.line.stations[i].id
        if down is not None:  # resuming a run in which this machine is down: finish the repair first
            reason, elapsed = down
            request = self.machines[i].request(priority=0)
            yield request
            started = self.env.now - elapsed
            yield self.env.timeout(max(self._gamma(spec.mttr_s, REPAIR_CV) - elapsed, 0.0))
            self.machines[i].release(request)
            self.publish(
                ev.MachineUp,
                line_id=self.line.id,
                station_id=station_id,
                machine=machine,
                reason_code=reason,
                down_s=round(self.env.now - started, 3),
            )
        while True:
            yield self.env.timeout(self.rng.expovariate(1.0 / spec.mtbf_s))
            yield from self._wait_for_open_line()  # machines fail while they run, not while the line is stopped
            request = self.machines[i].request(priority=0)  # ahead of every waiting unit
            yield request
            reason = self.rng.choice(spec.reasons)
            self.publish(
                ev.MachineDown,
                line_id=self.line.id,
                station_id=station_id,
                machine=machine,
                reason_code=reason,
                reason=self.params.reasons[reason],
            )
            started = self.env.now
            yield self.env.timeout(self._gamma(spec.mttr_s, REPAIR_CV))
            self.machines[i].release(request)
            self.publish(
                ev.MachineUp,
                line_id=self.line.id,
                station_id=station_id,
                machine=machine,
                reason_code=reason,
                down_s=round(self.env.now - started, 3),
            )

    def _ship(self, unit: str, shipment: str, carrier: str, delivery: str) -> None:
        self.publish(
            ev.UnitShipped,
            unit_code=unit,
            line_id=self.line.id,
            shipment_id=shipment,
            carrier=carrier,
            estimated_delivery=delivery,
        )


def new_run_id() -> str:
    """Return an id for one run of the plant, unique across restarts (it goes into every event id)."""
    return secrets.token_hex(4)


class PlantModel:
    """Every line of the enterprise in one simulated clock; each line draws from its own seeded stream.

    ``run_id`` goes into every event id; by default it comes from the seed and the origin, so the
    same seed and start give byte-identical output, and a new origin gives new ids. A live plant
    passes a fresh one (``new_run_id()``) so no two starts share ids.
    """

    def __init__(
        self,
        plant: Plant,
        emit: Emit,
        origin: datetime,
        seed: int | None = None,
        new_token: TokenSource = random_token,
        params: SimParams | None = None,
        first_orders: dict[str, int] | None = None,
        run_id: str | None = None,
        resume: dict | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.plant = plant
        self.params = params or load_params(plant)
        self.origin = origin
        base = seed if seed is not None else random.SystemRandom().randrange(2**63)
        run = run_id or f"{int(origin.timestamp()):x}"
        # One stream per line, so adding a line does not change what the others do.
        self.lines: dict[str, LineModel] = {}
        for site in plant.sites:
            calendar = self.params.calendars.get(site.id)
            gates = [LineGate(self.env, is_open=calendar is None) for _ in site.lines]
            models = [
                LineModel(
                    self.env,
                    plant,
                    self.params,
                    line,
                    random.Random(f"{base}:{run if resume else ''}:{line.id}"),
                    emit,
                    origin,
                    new_token,
                    gate,
                    run,
                    (first_orders or {}).get(line.id, 1),
                )
                for line, gate in zip(site.lines, gates)
            ]
            for model in models:
                self.lines[model.line.id] = model
            if calendar is not None:
                self.env.process(
                    run_calendar(
                        self.env, calendar, origin, gates, _announcer(models), announce_in_force=resume is None
                    )
                )
        for line_id, model in self.lines.items():
            model.start(**((resume or {}).get(line_id) or {}))

    def take_order(self, placed: ev.OrderPlaced) -> bool:
        """Hand an order placed elsewhere to its line; return False for a line this plant does not run.

        An order the line cannot build (another product, a configuration the factory file does
        not allow) is refused too: a plant that reads the stream without the app's check must
        not build it.
        """
        model = self.lines.get(placed.line_id)
        if model is None or check_configuration(self.plant, placed.product, placed.options) is not None:
            return False
        if placed.product != model.product.id:
            return False
        model.take_order(placed)
        return True

    def now(self) -> datetime:
        """Return the simulated clock."""
        return self.origin + timedelta(seconds=self.env.now)

    def run_until(self, sim_s: float) -> None:
        """Advance the simulation to ``sim_s`` seconds after the origin."""
        if sim_s > self.env.now:
            self.env.run(until=sim_s)


def _announcer(models: list[LineModel]) -> Callable[[Boundary], None]:
    def announce(boundary: Boundary) -> None:
        for model in models:
            model.announce(boundary)

    return announce
