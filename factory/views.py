"""One view model per audience, as the JSON-ready dicts that travel to browsers.

Each builder lists its keys one by one: a field reaches a viewer only if it is written here.
The order view in particular is the customer's whitelist: that order's fields and nothing
factory-wide (no other unit codes, no counts of other lines).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from factory.alarms import active_alarms
from factory.derive import MembersCache, Position, in_shift, members_of, planned_stop, position, station_status
from factory.eta import estimate
from factory.layout import Line, Plant
from factory.state import FactoryState, UnitState
from streams.codec import format_time


def _iso(t: datetime | None) -> str | None:
    return format_time(t) if t is not None else None


def _range(times: tuple[datetime, datetime, datetime]) -> dict[str, str]:
    return dict(zip(("earliest", "expected", "latest"), map(_iso, times)))


def floor_view(state: FactoryState, plant: Plant, line_id: str, cache: MembersCache | None = None) -> dict[str, Any]:
    """Return what a floor screen of ``line_id`` shows: stations in flow order, their units and states."""
    line = plant.line(line_id)
    line_state = state.lines[line_id]
    members = members_of(state, line, cache)
    stations = []
    for s in line.stations:
        status, since, reason = station_status(line_state, line_state.stations[s.id], members[s.id])
        stations.append(
            {
                "id": s.id,
                "name": s.name,
                "units": [code for _, code, _ in members[s.id].at],
                "queue": len(members[s.id].queue),
                "status": status,
                "since": _iso(since),
                "down_reason": reason if status == "down" else None,
            }
        )
    backlog = len(members[line.stations[0].id].queue)
    now = state.last_event_time
    alarms = active_alarms(line.id, stations, _iso(now))
    alerting = {a["station"] for a in alarms}
    for s in stations:
        s["alert"] = s["id"] in alerting
    midnight = None if now is None else now.astimezone(plant.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "line": {"id": line.id, "name": line.name},
        "as_of": _iso(state.last_event_time),
        "stations": stations,
        "alarms": alarms,
        "wip": len(line_state.active) - backlog,  # released onto the line, not finished
        "backlog": backlog,
        "completed": line_state.completed,
        # completions are counted per UTC hour; the site's offset is whole hours in practice
        "completed_today": sum(n for hour, n in line_state.completed_by_hour.items() if hour >= midnight)
        if midnight is not None
        else 0,
        "planned_stop": planned_stop(line_state),
        "in_shift": in_shift(line_state),
    }


def order_status(unit: UnitState, where: Position) -> str:
    """Return the customer-facing status of a unit."""
    if unit.scrapped_at is not None:
        return "scrapped"
    if unit.shipped_at is not None:
        return "shipped"
    if unit.completed_at is not None:
        return "completed"
    if where.kind == "rework":
        return "in_rework"
    return "in_production" if unit.visits else "ordered"


def units_ahead(
    state: FactoryState, line: Line, unit: UnitState, where: Position, cache: MembersCache | None = None
) -> int:
    """Return how many units wait before this one in the same queue (0 when it is being worked on)."""
    if where.kind != "queued" or where.station_id is None:
        return 0
    queue = members_of(state, line, cache)[where.station_id].queue
    return next((i for i, (_, code) in enumerate(queue) if code == unit.unit_code), 0)


def order_view(
    state: FactoryState, plant: Plant, token: str, cache: MembersCache | None = None
) -> dict[str, Any] | None:
    """Return the public tracker's view of the order behind ``token``, or None if unknown."""
    unit_code = state.unit_by_token.get(token)
    if unit_code is None:
        return None
    unit = state.units[unit_code]
    line = plant.line(unit.line_id)
    product = plant.products[unit.product]
    where = position(unit, line)
    latest_visit = {}
    for visit in sorted(unit.visits.values(), key=lambda v: v.visit):
        latest_visit[visit.station_id] = visit
    steps = []
    for station in line.stations:
        visit = latest_visit.get(station.id)
        if where.kind == "at" and where.station_id == station.id:
            step_state = "current"
        elif where.kind in ("queued", "rework") and where.station_id == station.id and unit.visits:
            step_state = "waiting"
        elif visit is not None and visit.exited is not None:
            step_state = "done"
        else:
            step_state = "pending"
        steps.append(
            {
                "id": station.id,
                "name": station.name,
                "state": step_state,
                "entered": _iso(visit.entered if visit else None),
                "exited": _iso(visit.exited if visit else None),
            }
        )
    names = {s.id: s.name for s in line.stations}
    ahead = units_ahead(state, line, unit, where, cache)
    eta = estimate(state, line, unit, ahead)
    return {
        "order_id": unit.order_id,
        "unit_code": unit.unit_code,
        "product": product.name,
        "line": line.name,
        "options": [
            dict(zip(("label", "value"), product.choice_label(option_id, choice_id)))
            for option_id, choice_id in unit.options.items()
        ],
        "status": order_status(unit, where),
        "current_station": names[where.station_id] if where.kind == "at" else None,
        "waiting_for": names.get(where.station_id) if where.kind in ("queued", "rework") and unit.visits else None,
        "units_ahead": ahead,
        "eta": None
        if eta is None
        else {
            "finish": _range(eta["finish"]),
            "ship": _range(eta["ship"]) if eta["ship"] else None,
            "reason": eta["reason"],
            "basis": eta["basis"],
        },
        "reworks": len(unit.reworks),
        "steps": steps,
        "tests": [
            {
                "station": names[c.station_id],
                "time": _iso(c.time),
                "passed": c.passed,
                "measurements": [
                    {
                        "label": m.label,
                        "unit": m.unit,
                        "value": m.value,
                        "lower": m.lower,
                        "upper": m.upper,
                        "passed": m.passed,
                    }
                    for m in c.measurements
                ],
            }
            for c in sorted(unit.checks.values(), key=lambda c: c.time)
        ],
        "shipping": None
        if unit.shipped_at is None
        else {
            "carrier": unit.carrier,
            "shipment_id": unit.shipment_id,
            "shipped_at": _iso(unit.shipped_at),
            "estimated_delivery": unit.estimated_delivery,
        },
        "placed_at": _iso(unit.placed_at),
        "completed_at": _iso(unit.completed_at),
        "as_of": _iso(state.last_event_time),
    }


def orders_rows(state: FactoryState, plant: Plant, cache: MembersCache | None = None) -> list[dict[str, Any]]:
    """Return one row per known order for the managers' grid, newest first; ETAs for unfinished units only."""
    rows = []
    station_names = {line.id: {s.id: s.name for s in line.stations} for line in plant.lines}
    for unit in state.units.values():
        if unit.order_id is None:
            continue  # facts about a unit whose order has not arrived yet
        line = plant.line(unit.line_id)
        names = station_names[line.id]
        where = position(unit, line)
        status = order_status(unit, where)
        eta = None
        if not unit.finished:
            estimate_ = estimate(state, line, unit, units_ahead(state, line, unit, where, cache))
            eta = _iso(estimate_["finish"][1]) if estimate_ else None
        rows.append(
            {
                "order_id": unit.order_id,
                "unit_code": unit.unit_code,
                "line": line.name,
                "product": plant.products[unit.product].name if unit.product in plant.products else unit.product,
                "options": ", ".join(f"{k}: {v}" for k, v in sorted(unit.options.items())),
                "status": status,
                "where": names.get(where.station_id) if where.kind in ("at", "queued", "rework") else None,
                "placed": _iso(unit.placed_at),
                "eta": eta,
                "completed": _iso(unit.completed_at),
                "shipped": _iso(unit.shipped_at),
                "token": unit.tracking_token,
            }
        )
    rows.sort(key=lambda r: r["placed"] or "", reverse=True)
    return rows
