"""One view model per audience, as the JSON-ready dicts that travel to browsers.

Each builder lists its keys one by one: a field reaches a viewer only if it is written here.
The order view in particular is the customer's whitelist: that order's fields and nothing
factory-wide (no other unit codes, no counts of other lines). Views carry ids, not names:
each page receives the names of its plant once, in the viewer's language (:func:`names_for`),
so one frame serves every viewer of a room whatever language they read, and frames stay small.
:func:`localise_order` gives the human-readable order for the REST API, the PDF and the CSV.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from factory.alarms import active_alarms
from factory.derive import MembersCache, in_shift, members_of, planned_stop, queue_place, station_status
from factory.eta import estimate
from factory.layout import Line, Plant, text
from factory.state import FactoryState, LineState, Position, UnitState, Visit
from streams.codec import format_time


def _iso(t: datetime | None) -> str | None:
    return format_time(t) if t is not None else None


def _range(times: tuple[datetime, datetime, datetime]) -> dict[str, str | None]:
    return dict(zip(("earliest", "expected", "latest"), map(_iso, times)))


def floor_view(state: FactoryState, plant: Plant, line_id: str, cache: MembersCache | None = None) -> dict[str, Any]:
    """Return what a floor screen of ``line_id`` shows: stations in flow order, their units and states."""
    line = plant.line(line_id)
    line_state = state.lines[line_id]
    members = members_of(state, line_id, cache)
    stations = []
    for s in line.stations:
        status, since, reason = station_status(line_state, line_state.stations[s.id], members[s.id])
        stations.append(
            {
                "id": s.id,
                "units": [code for _, code, _ in members[s.id].at],
                "queue": len(members[s.id].queue),
                "status": status,
                "since": _iso(since),
                "down_reason": reason if status == "down" else None,
            }
        )
    backlog = len(members[line.stations[0].id].queue)
    now = state.last_event_time
    alarms = active_alarms(line.id, stations, _iso(now), lambda sid, kind: plant.alarm_priority(line.id, sid, kind))
    alerting = {a["station"] for a in alarms}
    for st in stations:
        st["alert"] = st["id"] in alerting
    tz = plant.tz_of(line_id)
    midnight = None if now is None else now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "line": line.id,
        "site": line.site_id,
        "as_of": _iso(state.last_event_time),
        "stations": stations,
        "alarms": alarms,
        "wip": len(line_state.active) - backlog,  # released onto the line, not finished
        "backlog": backlog,
        "completed": line_state.completed,
        "completed_today": sum(n for hour, n in line_state.completed_by_hour.items() if hour >= midnight)
        if midnight is not None else 0,
        "planned_stop": planned_stop(line_state),
        "in_shift": in_shift(line_state),
        "orders": incoming_orders(state, line_state),
    }  # fmt: skip


def incoming_orders(state: FactoryState, line_state: LineState) -> list[dict[str, Any]]:
    """Return the line's latest orders, newest first: unit code, when placed, options, released to the line yet."""
    orders = []
    for placed_at, code in reversed(line_state.orders_log):
        unit = state.units.get(code)
        if unit is None:
            continue  # built and gone: no longer news
        orders.append({"unit": code, "placed_at": _iso(placed_at), "options": dict(unit.options),
                       "released": bool(unit.visits)})  # fmt: skip
    return orders


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


def units_ahead(state: FactoryState, unit: UnitState, where: Position) -> int:
    """Return how many units wait before this one in the same queue (0 when it is being worked on)."""
    if where.kind != "queued" or where.station_id is None:
        return 0
    return queue_place(state.lines[unit.line_id], where.station_id, unit.unit_code) or 0


def _where(unit: UnitState, line: Line) -> Position:
    if unit.position is not None:
        return unit.position
    from factory.derive import position

    return position(unit, tuple(s.id for s in line.stations))


def order_view(state: FactoryState, plant: Plant, token: str) -> dict[str, Any] | None:
    """Return the public tracker's view of the order behind ``token``, or None if unknown."""
    unit_code = state.unit_by_token.get(token)
    if unit_code is None or unit_code not in state.units:
        return None
    return unit_view(state, plant, state.units[unit_code])


def unit_view(state: FactoryState, plant: Plant, unit: UnitState) -> dict[str, Any]:
    """Return the public view of one unit (its order's tracker), from ``state``."""
    line = plant.line(unit.line_id)
    where = _where(unit, line)
    latest_visit: dict[str, Visit] = {}  # station -> its latest visit (a unit sent back has several)
    for v in unit.visits.values():
        known = latest_visit.get(v.station_id)
        if known is None or v.visit > known.visit:
            latest_visit[v.station_id] = v
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
        steps.append({
            "id": station.id,
            "state": step_state,
            "entered": _iso(visit.entered if visit else None),
            "exited": _iso(visit.exited if visit else None),
            "visits": visit.visit if visit else 0,
        })  # fmt: skip
    ahead = units_ahead(state, unit, where)
    eta = estimate(state, line, unit, ahead, plant.open_clock(line.id))
    return {
        "order_id": unit.order_id,
        "unit_code": unit.unit_code,
        "product": unit.product,
        "line": line.id,
        "site": line.site_id,
        "options": dict(unit.options),
        "status": order_status(unit, where),
        "current_station": where.station_id if where.kind == "at" else None,
        "waiting_for": where.station_id if where.kind in ("queued", "rework") and unit.visits else None,
        "units_ahead": ahead,
        "eta": None if eta is None else {
            "finish": _range(eta["finish"]), "ship": _range(eta["ship"]) if eta["ship"] else None,
            "reason": eta["reason"], "basis": eta["basis"]},
        "reworks": len(unit.reworks),
        "steps": steps,
        "tests": [
            {"station": c.station_id, "time": _iso(c.time), "passed": c.passed, "visit": c.visit,
             "measurements": [{"name": m.name, "value": m.value, "lower": m.lower, "upper": m.upper,
                               "passed": m.passed} for m in c.measurements]}
            for c in sorted(unit.checks.values(), key=lambda c: c.time)
        ],
        "components": [
            {"component": name, "station": f.station_id, "supplier": f.supplier, "batch": f.batch, "serial": f.serial,
             "fitted_at": _iso(f.time)}
            for name, f in sorted(unit.components.items(), key=lambda kv: (kv[1].time, kv[0]))
        ],
        "shipping": None if unit.shipped_at is None else {
            "carrier": unit.carrier, "shipment_id": unit.shipment_id, "shipped_at": _iso(unit.shipped_at),
            "estimated_delivery": unit.estimated_delivery},
        "placed_at": _iso(unit.placed_at),
        "promised_by": unit.promised_by,
        "completed_at": _iso(unit.completed_at),
        "scrapped_at": _iso(unit.scrapped_at),
        "as_of": _iso(unit.last_fact),
    }  # fmt: skip


def names_for(plant: Plant, line_id: str, lang: str) -> dict[str, Any]:
    """Return the names a page of one line shows, in ``lang``: line, site, stations, product, options, checks."""
    line = plant.line(line_id)
    product = plant.products[line.product]
    spec = plant.spec.products[line.product]
    return {
        "line": text(line.names, lang),
        "site": text(plant.site(line.site_id).names, lang),
        "product": text(product.names, lang),
        "stations": {s.id: text(s.names, lang) for s in line.stations},
        "options": {o.id: text(o.names, lang) for o in product.options},
        "choices": {o.id: {c.id: text(c.names, lang) for c in o.choices} for o in product.options},
        "checks": {name: {"label": text(c.label, lang), "unit": text(c.unit, lang)} for name, c in spec.checks.items()},
        "components": {name: text(c.name, lang) for name, c in spec.components.items()},
        "reasons": {code: text(names, lang) for code, names in plant.reasons.items()},
    }


def localise_order(view: dict[str, Any], plant: Plant, lang: str = "en") -> dict[str, Any]:
    """Return an order view with names in ``lang`` beside the ids (REST API, test report, certificate)."""
    names = names_for(plant, view["line"], lang)
    stations = names["stations"]
    out = dict(view)
    out.update(
        product=names["product"], line=names["line"], site=names["site"],
        options=[{"option": o, "choice": c, "label": names["options"].get(o, o),
                  "value": names["choices"].get(o, {}).get(c, c)} for o, c in view["options"].items()],
        current_station=stations.get(view["current_station"]) if view["current_station"] else None,
        waiting_for=stations.get(view["waiting_for"]) if view["waiting_for"] else None,
        steps=[{**s, "name": stations[s["id"]]} for s in view["steps"]],
        tests=[{**t, "station_id": t["station"], "station": stations.get(t["station"], t["station"]),
                "measurements": [{**m, **names["checks"].get(m["name"], {"label": m["name"], "unit": ""})}
                                 for m in t["measurements"]]} for t in view["tests"]],
        components=[{**c, "name": names["components"].get(c["component"], c["component"]),
                     "station_name": stations.get(c["station"], c["station"])} for c in view["components"]],
        language=lang,
    )  # fmt: skip
    return out


def orders_rows(state: FactoryState, plant: Plant) -> list[dict[str, Any]]:
    """Return one row per known order for the managers' grid, newest first; ETAs for unfinished units only."""
    rows = []
    station_names = {line.id: {s.id: s.name for s in line.stations} for line in plant.lines}
    for unit in state.units.values():
        if unit.order_id is None:
            continue  # facts about a unit whose order has not arrived yet
        line = plant.line(unit.line_id)
        names = station_names[line.id]
        where = _where(unit, line)
        status = order_status(unit, where)
        eta = None
        if not unit.finished:
            estimate_ = estimate(state, line, unit, units_ahead(state, unit, where), plant.open_clock(line.id))
            eta = _iso(estimate_["finish"][1]) if estimate_ else None
        product = plant.products.get(unit.product or "")
        rows.append({
            "order_id": unit.order_id, "unit_code": unit.unit_code, "line": line.name, "site": line.site_id,
            "product": product.name if product else unit.product,
            "options": ", ".join(f"{k}: {v}" for k, v in sorted(unit.options.items())),
            "status": status, "where": names.get(where.station_id or "") if where.kind in ("at", "queued", "rework")
            else None,
            "placed": _iso(unit.placed_at), "eta": eta, "completed": _iso(unit.completed_at),
            "shipped": _iso(unit.shipped_at), "token": unit.tracking_token,
        })  # fmt: skip
    rows.sort(key=lambda r: r["placed"] or "", reverse=True)
    return rows
