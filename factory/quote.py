"""The dates a customer sees before ordering: when a unit ordered now would be ready and shipped.

A quote is the live ETA model (factory.eta) asked about a unit that does not exist yet: it
would join the back of the line's order backlog now, with every unit already waiting ahead of
it. Of the lines that build the product, the one with the earliest expected finish takes the
order. The recent units a line's ETA learns from carry every mix of options; a configuration
that needs more work than the product's average is quoted that much later (in the line's open
time), one that needs less is not promised earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from factory.configurator import lines_making
from factory.derive import members_of
from factory.eta import estimate
from factory.layout import Plant
from factory.state import FactoryState, Position, UnitState


def _heavier_than_average_s(plant: Plant, product_id: str, line_id: str, options: Mapping[str, str]) -> float:
    product = plant.products[product_id]
    extra = product.extra_work_s(options)
    return sum(extra.get(s.id, 0.0) - product.mean_extra_work_s(s.id) for s in plant.line(line_id).stations)


def quote_line(state: FactoryState, plant: Plant, line_id: str, options: Mapping[str, str]) -> dict[str, Any] | None:
    """Return {line, units_ahead, finish, ship, basis} for a unit ordered now on ``line_id`` (None: no clock yet)."""
    now = state.last_event_time
    if now is None or line_id not in state.lines:
        return None
    line = plant.line(line_id)
    first = line.stations[0].id
    ahead = len(members_of(state, line_id)[first].queue)
    probe = UnitState(
        unit_code="",
        line_id=line_id,
        product=line.product,
        options=dict(options),
        placed_at=now,
        position=Position("queued", first, now),
    )
    clock = plant.open_clock(line_id)
    eta = estimate(state, line, probe, ahead, clock)
    if eta is None:
        return None
    later_s = max(_heavier_than_average_s(plant, line.product, line_id, options), 0.0)
    finish: tuple[datetime, ...] = tuple(clock.after(t, later_s) for t in eta["finish"])
    ship = None
    if eta["ship"] is not None:
        ship = tuple(t + (f - f0) for t, f, f0 in zip(eta["ship"], finish, eta["finish"]))
    return {"line": line_id, "units_ahead": ahead, "finish": finish, "ship": ship, "basis": eta["basis"]}


def quote(state: FactoryState, plant: Plant, product_id: str, options: Mapping[str, str]) -> dict[str, Any] | None:
    """Return the quote of the line that would finish a unit of ``product_id`` first (None: no line can say yet)."""
    quotes = [q for line_id in lines_making(plant, product_id) if (q := quote_line(state, plant, line_id, options))]
    return min(quotes, key=lambda q: (q["finish"][1], q["line"])) if quotes else None
