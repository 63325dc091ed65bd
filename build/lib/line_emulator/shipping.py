"""After the line: loaded units wait for a truck; a truck leaves full or after its first unit's wait."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

import simpy

from line_emulator.params import Shipping
from line_emulator.processes import Process


class Dock:
    """The loading dock of one line: collects units and dispatches trucks."""

    def __init__(
        self,
        env: simpy.Environment,
        line_id: str,
        params: Shipping,
        rng: random.Random,
        now: Callable[[], datetime],
        tz: tzinfo,
        ship: Callable[[str, str, str, str], None],
    ) -> None:
        self.env = env
        self._line_id = line_id
        self._params = params
        self._rng = rng
        self._now = now
        self._tz = tz
        self._ship = ship  # (unit code, shipment id, carrier, estimated delivery date)
        self._trucks = 0
        self.waiting: simpy.Store = simpy.Store(env)
        env.process(self._dispatch())

    def load(self, unit_code: str) -> None:
        """Put a unit that left the line on the dock."""
        self.waiting.put(unit_code)

    def _dispatch(self) -> Process:
        while True:
            load = [(yield self.waiting.get())]
            deadline = self.env.now + self._params.max_wait_s
            while len(load) < self._params.truck_capacity and self.env.now < deadline:
                get = self.waiting.get()
                result = yield get | self.env.timeout(deadline - self.env.now)
                if get in result:
                    load.append(result[get])
                else:
                    get.cancel()
                    break
            self._depart(load)

    def _depart(self, load: list[str]) -> None:
        self._trucks += 1
        carriers = self._params.carriers
        carrier = self._rng.choices(carriers, weights=[c.weight for c in carriers])[0]
        days = self._rng.randint(carrier.min_days, carrier.max_days)
        delivery = (self._now().astimezone(self._tz) + timedelta(days=days)).date().isoformat()
        shipment = f"{self._line_id.upper()}-T{self._now():%y%m%d}-{self._trucks:04d}"
        for unit in load:
            self._ship(unit, shipment, carrier.name, delivery)
