"""SimPy model of mass-customisation lines: orders arrive, units flow station by station.

Each station has ``machines`` identical servers and a finite buffer in front of it. A unit that
finished a station keeps its machine until there is room downstream, so stations block upstream
and starve downstream the way a real paced line does. Machines break down (a breakdown takes the
next free machine ahead of waiting units and holds it for the repair), stations change over
between variants, quality gates send failed units through the repair bay back onto the line or
to scrap, the shift calendar closes the line for breaks, and loaded units leave on trucks.
Every state change is handed to ``emit``; the model never knows where events go.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import simpy

from factory.layout import Line, Plant, Product
from line_emulator.calendar import Boundary, LineGate, run_calendar
from line_emulator.orders import Order, OrderBook, TokenSource, random_token
from line_emulator.params import SimParams, load_params
from line_emulator.quality import measure
from line_emulator.shipping import Dock
from streams import events as ev

Emit = Callable[[ev.Event], None]
REPAIR_CV = 0.8  # repair times vary a lot: a reset takes minutes, a part swap an hour
REWORK_CV = 0.5
SETUP_CV = 0.2


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
        self._source = f"/{plant.site_id}/{line.id}"
        self._seq = 0
        # Event ids carry the run's start, so a restarted plant never reuses an earlier run's ids.
        self._run = f"{int(origin.timestamp()):x}"
        self._tz = plant.tz
        self._promise_days = params.promise_days
        open_fraction = params.calendar.open_fraction() if params.calendar else 1.0
        self.arrival_rate_per_s = params.load_factor * self.capacity_per_s() * open_fraction
        self.orders = OrderBook(line, self.product, rng, new_token, first_order)
        self.stations = [params.stations[(line.id, s.id)] for s in line.stations]
        self.machines = [simpy.PriorityResource(env, capacity=s.machines) for s in line.stations]
        # The first station's queue is the order backlog: unbounded. Others hold `buffer` units.
        self.buffers = [None] + [
            simpy.Resource(env, capacity=s.buffer) if s.buffer > 0 else None for s in line.stations[1:]
        ]
        self._set_up_for: list[str | None] = [None] * len(line.stations)  # last variant, for changeovers
        self.dock = (
            Dock(env, line.id, params.shipping, rng, self.now, plant.tz, self._ship) if params.shipping else None
        )
        env.process(self._arrivals())
        for i, station in enumerate(line.stations):
            if self.stations[i].breakdown is not None:
                for machine in range(station.machines):
                    env.process(self._breakdowns(i, machine + 1))

    def capacity_per_s(self) -> float:
        """Return the bottleneck's mean output rate (units per second) for the average option mix."""
        return min(s.machines / (s.cycle_s + self.product.mean_extra_work_s(s.id)) for s in self.line.stations)

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
        shape = 1.0 / (cv * cv)
        return self.rng.gammavariate(shape, mean / shape)

    # --- orders ---------------------------------------------------------------------------
    def _arrivals(self) -> Iterator[simpy.Event]:
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

    # --- a unit's way through the line ------------------------------------------------------
    def _unit(self, order: Order) -> Iterator[simpy.Event]:
        unit, line_id, stations = order.unit_code, self.line.id, self.line.stations
        visits: Counter[str] = Counter()
        failures: Counter[str] = Counter()
        held = None  # (station index, machine request) the unit still occupies
        i = 0
        while i < len(stations):
            station = stations[i]
            slot = None
            if self.buffers[i] is not None:
                slot = self.buffers[i].request()
                yield slot  # wait for room in front of the station: upstream stays blocked
            if held is not None:
                self._leave(unit, *held, visits)
            request = self.machines[i].request(priority=1)
            yield request
            if slot is not None:
                self.buffers[i].release(slot)
            visits[station.id] += 1
            visit = visits[station.id]
            self.publish(ev.StationEntered, unit_code=unit, line_id=line_id, station_id=station.id, visit=visit)
            yield from self._wait_for_open_line()
            if (yield from self._changeover(i, order)):
                yield from self._wait_for_open_line()  # a break may have begun during the setup
            ideal = station.cycle_s + order.extra_work_s.get(station.id, 0.0)
            work = self._gamma(ideal, self.params.cycle_cv)
            yield self.env.timeout(work)
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
                            ev.UnitScrapped, unit_code=unit, line_id=line_id, station_id=station.id, defect_code=defect
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
                    held, i = None, self.line.station_index(gate.reenter_at)
                    continue
            held = (i, request)
            i += 1
        self._leave(unit, *held, visits)
        self.publish(ev.UnitCompleted, unit_code=unit, line_id=line_id)
        if self.dock is not None:
            self.dock.load(unit)

    def _leave(self, unit: str, i: int, request, visits: Counter) -> None:
        """Free the unit's machine at station ``i`` and say so."""
        self.machines[i].release(request)
        station_id = self.line.stations[i].id
        self.publish(
            ev.StationExited, unit_code=unit, line_id=self.line.id, station_id=station_id, visit=visits[station_id]
        )

    def _wait_for_open_line(self) -> Iterator[simpy.Event]:
        while not self.gate.is_open:
            yield self.gate.opened  # break or no shift: the unit waits on its station

    def _changeover(self, i: int, order: Order) -> Iterator[simpy.Event]:
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
        )
        started = self.env.now
        yield self.env.timeout(self._gamma(spec.setup_s, SETUP_CV))
        self.publish(
            ev.ChangeoverFinished,
            line_id=self.line.id,
            station_id=station_id,
            duration_s=round(self.env.now - started, 3),
        )
        return True

    # --- breakdowns and shipping ---------------------------------------------------------------
    def _breakdowns(self, i: int, machine: int) -> Iterator[simpy.Event]:
        spec = self.stations[i].breakdown
        station_id = self.line.stations[i].id
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


class PlantModel:
    """Every line of a plant in one simulated clock; each line draws from its own seeded stream."""

    def __init__(
        self,
        plant: Plant,
        emit: Emit,
        origin: datetime,
        seed: int | None = None,
        new_token: TokenSource = random_token,
        params: SimParams | None = None,
        first_orders: dict[str, int] | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.params = params or load_params(plant)
        base = seed if seed is not None else random.SystemRandom().randrange(2**63)
        gates = [LineGate(self.env, is_open=self.params.calendar is None) for _ in plant.lines]
        # One stream per line, so adding a line does not change what the others do.
        self.lines = [
            LineModel(
                self.env,
                plant,
                self.params,
                line,
                random.Random(f"{base}:{line.id}"),
                emit,
                origin,
                new_token,
                gate,
                (first_orders or {}).get(line.id, 1),
            )
            for line, gate in zip(plant.lines, gates)
        ]
        if self.params.calendar is not None:
            self.env.process(run_calendar(self.env, self.params.calendar, origin, gates, self._announce))

    def _announce(self, boundary: Boundary) -> None:
        for line in self.lines:
            line.announce(boundary)

    def run_until(self, sim_s: float) -> None:
        """Advance the simulation to ``sim_s`` seconds after the origin."""
        if sim_s > self.env.now:
            self.env.run(until=sim_s)
