"""One view model per audience, as the JSON-ready dicts that travel to browsers.

Each builder lists its keys one by one: a field reaches a viewer only if it is written here.
The order view in particular is the customer's whitelist: that order's fields and nothing
factory-wide (no other unit codes, no counts of other lines).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from factory.layout import Plant
from factory.state import FactoryState
from streams.codec import format_time


def _iso(t: datetime | None) -> str | None:
    return format_time(t) if t is not None else None


def floor_view(state: FactoryState, plant: Plant, line_id: str) -> dict[str, Any]:
    """Return what a floor screen of ``line_id`` shows: stations in flow order with their units."""
    line = plant.line(line_id)
    line_state = state.lines[line_id]
    stations = [
        {
            "id": s.id,
            "name": s.name,
            "units": list(line_state.stations[s.id].units),
            "queue": len(line_state.stations[s.id].queue),
            "status": line_state.stations[s.id].status,
            "since": _iso(line_state.stations[s.id].since),
            "down_reason": line_state.stations[s.id].down_reason,
        }
        for s in line.stations
    ]
    return {
        "line": {"id": line.id, "name": line.name},
        "as_of": _iso(state.last_event_time),
        "stations": stations,
        "wip": sum(len(s["units"]) + s["queue"] for s in stations[1:]) + len(stations[0]["units"]),
        "completed": line_state.completed,
        "planned_stop": line_state.planned_stop,
        "in_shift": line_state.in_shift,
    }


def order_view(state: FactoryState, plant: Plant, token: str) -> dict[str, Any] | None:
    """Return the public tracker's view of the order behind ``token``, or None if unknown."""
    unit_code = state.unit_by_token.get(token)
    if unit_code is None:
        return None
    unit = state.units[unit_code]
    line = plant.line(unit.line_id)
    product = plant.products[unit.product]
    last_visit = {v.station_id: v for v in unit.visits}  # the latest visit of each station wins
    steps = []
    for station in line.stations:
        visit = last_visit.get(station.id)
        if unit.station_id == station.id:
            step_state = "current"
        elif unit.queued_for == station.id and unit.status == "in_production":
            step_state = "waiting"
        elif visit is not None and visit.exited is not None:
            step_state = "done"
        else:
            step_state = "pending"
        steps.append({
            "id": station.id,
            "name": station.name,
            "state": step_state,
            "entered": _iso(visit.entered if visit else None),
            "exited": _iso(visit.exited if visit else None),
        })
    current = next((s["name"] for s in steps if s["state"] == "current"), None)
    waiting_for = next((s["name"] for s in steps if s["state"] == "waiting"), None)
    return {
        "order_id": unit.order_id,
        "unit_code": unit.unit_code,
        "product": product.name,
        "line": line.name,
        "options": [
            dict(zip(("label", "value"), product.choice_label(option_id, choice_id)))
            for option_id, choice_id in unit.options.items()
        ],
        "status": unit.status,
        "current_station": current,
        "waiting_for": waiting_for,
        "steps": steps,
        "placed_at": _iso(unit.placed_at),
        "completed_at": _iso(unit.completed_at),
        "as_of": _iso(state.last_event_time),
    }
