"""SimPy model of mass-customisation lines: orders arrive, units flow station by station.

Each station has ``machines`` identical servers and a finite buffer in front of it. A unit that
finished a station keeps its machine until there is room downstream, so stations block upstream
and starve downstream the way a real paced line does. Every state change is handed to ``emit``;
the model never knows where events go.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Callable

import simpy

from factory.layout import Line, Plant, Product
from line_emulator.orders import OrderBook, TokenSource, mean_extra_work_s, random_token
from streams.events import Event, OrderPlaced, StationEntered, StationExited, UnitCompleted

Emit = Callable[[Event], None]


class LineModel:
    """One production line: an arrival process and one process per unit."""

    def __init__(self, env: simpy.Environment, plant: Plant, line: Line, rng: random.Random,
                 emit: Emit, origin: datetime, new_token: TokenSource = random_token) -> None:
        self.env = env
        self.line = line
        self.product: Product = plant.products[line.product]
        self.rng = rng
        self._emit = emit
        self._origin = origin
        self._source = f"/{plant.site_id}/{line.id}"
        self._seq = 0
        self.cycle_cv = float(plant.simulation.get("cycle_cv", 0.12))
        self.arrival_rate_per_s = float(plant.simulation.get("load_factor", 0.85)) * self.capacity_per_s()
        self.orders = OrderBook(line, self.product, rng, new_token)
        self.machines = [simpy.Resource(env, capacity=s.machines) for s in line.stations]
        # The first station's queue is the order backlog: unbounded. Others hold `buffer` units.
        self.buffers = [None] + [
            simpy.Resource(env, capacity=s.buffer) if s.buffer > 0 else None for s in line.stations[1:]
        ]
        env.process(self._arrivals())

    def capacity_per_s(self) -> float:
        """Return the bottleneck's mean output rate (units per second) for the average option mix."""
        return min(
            s.machines / (s.cycle_s + mean_extra_work_s(self.product, s.id)) for s in self.line.stations
        )

    def now(self) -> datetime:
        """Return the simulated wall-clock time, truncated to the millisecond the wire carries."""
        t = self._origin + timedelta(seconds=self.env.now)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)

    def _publish(self, cls: type[Event], **data) -> None:
        self._seq += 1
        self._emit(cls(id=f"{self.line.id}-{self._seq:09d}", source=self._source, time=self.now(), **data))

    def _arrivals(self):
        while True:
            yield self.env.timeout(self.rng.expovariate(self.arrival_rate_per_s))
            order = self.orders.new_order(self.now())
            self._publish(OrderPlaced, order_id=order.order_id, unit_code=order.unit_code,
                          tracking_token=order.tracking_token, line_id=self.line.id,
                          product=self.product.id, options=dict(order.options))
            self.env.process(self._unit(order))

    def _cycle_s(self, station_index: int, extra_work_s: dict[str, float]) -> float:
        station = self.line.stations[station_index]
        mean = station.cycle_s + extra_work_s.get(station.id, 0.0)
        shape = 1.0 / (self.cycle_cv ** 2)
        return self.rng.gammavariate(shape, mean / shape)

    def _unit(self, order):
        unit, line_id = order.unit_code, self.line.id
        held = None  # the machine request of the station the unit is still occupying
        for i, station in enumerate(self.line.stations):
            slot = None
            if self.buffers[i] is not None:
                slot = self.buffers[i].request()
                yield slot  # wait for room in front of the station: upstream stays blocked
            if held is not None:
                self.machines[i - 1].release(held)
                self._publish(StationExited, unit_code=unit, line_id=line_id,
                              station_id=self.line.stations[i - 1].id)
            request = self.machines[i].request()
            yield request
            if slot is not None:
                self.buffers[i].release(slot)
            self._publish(StationEntered, unit_code=unit, line_id=line_id, station_id=station.id)
            yield self.env.timeout(self._cycle_s(i, order.extra_work_s))
            held = request
        self.machines[-1].release(held)
        self._publish(StationExited, unit_code=unit, line_id=line_id, station_id=self.line.stations[-1].id)
        self._publish(UnitCompleted, unit_code=unit, line_id=line_id)


class PlantModel:
    """Every line of a plant in one simulated clock; each line draws from its own seeded stream."""

    def __init__(self, plant: Plant, emit: Emit, origin: datetime, seed: int | None = None,
                 new_token: TokenSource = random_token) -> None:
        self.env = simpy.Environment()
        base = seed if seed is not None else random.SystemRandom().randrange(2**63)
        # One stream per line, so adding a line does not change what the others do.
        self.lines = [
            LineModel(self.env, plant, line, random.Random(f"{base}:{line.id}"), emit, origin, new_token)
            for line in plant.lines
        ]

    def run_until(self, sim_s: float) -> None:
        """Advance the simulation to ``sim_s`` seconds after the origin."""
        if sim_s > self.env.now:
            self.env.run(until=sim_s)
