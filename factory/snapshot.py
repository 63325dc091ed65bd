"""The live projection as JSON and back: checkpoints for restarts and for replaying the floor.

A checkpoint is the state after the events up to some arrival number; the state at any later
moment is the checkpoint plus the events after it (factory.history). The format is this
module's alone; nothing outside reads the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import fields
from datetime import datetime
from typing import Any

import orjson

from factory.layout import Plant
from factory.state import (
    Check,
    FactoryState,
    Fitted,
    LineState,
    Machine,
    Position,
    Rework,
    StationState,
    UnitState,
    Visit,
    empty_state,
)
from streams.events import Measurement

VERSION = 1


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _unit_doc(u: UnitState) -> dict[str, Any]:
    return {
        "code": u.unit_code, "line": u.line_id, "order": u.order_id, "token": u.tracking_token, "product": u.product,
        "options": u.options, "placed": _t(u.placed_at), "promised": u.promised_by,
        "visits": [[v.station_id, v.visit, _t(v.entered), _t(v.work_done), _t(v.exited)] for v in u.visits.values()],
        "checks": [[c.station_id, c.visit, _t(c.time), c.passed, c.defect_code,
                    [[m.name, m.label, m.unit, m.value, m.lower, m.upper, m.passed] for m in c.measurements]]
                   for c in u.checks.values()],
        "reworks": {k: [_t(w.time), w.station_id, w.reenter_at, w.defect_code] for k, w in u.reworks.items()},
        "components": {k: [f.station_id, _t(f.time), f.supplier, f.batch, f.serial] for k, f in u.components.items()},
        "completed": _t(u.completed_at), "scrapped": _t(u.scrapped_at), "shipped": _t(u.shipped_at),
        "shipment": u.shipment_id, "carrier": u.carrier, "delivery": u.estimated_delivery, "last": _t(u.last_fact),
    }  # fmt: skip


def _unit(doc: dict[str, Any]) -> UnitState:
    u = UnitState(
        doc["code"],
        doc["line"],
        doc["order"],
        doc["token"],
        doc["product"],
        dict(doc["options"]),
        _dt(doc["placed"]),
        doc["promised"],
    )
    for sid, n, entered, done, exited in doc["visits"]:
        u.visits[(sid, n)] = Visit(sid, n, _dt(entered), _dt(done), _dt(exited))
    for sid, n, t, passed, defect, ms in doc["checks"]:
        u.checks[(sid, n)] = Check(sid, n, _dt(t), passed, tuple(Measurement(*m) for m in ms), defect)  # type: ignore[arg-type]
    u.reworks = {k: Rework(_dt(t), sid, again, defect) for k, (t, sid, again, defect) in doc["reworks"].items()}  # type: ignore[arg-type]
    u.components = {
        k: Fitted(sid, _dt(t), sup, batch, serial)  # type: ignore[arg-type]
        for k, (sid, t, sup, batch, serial) in doc["components"].items()
    }
    u.completed_at, u.scrapped_at, u.shipped_at = _dt(doc["completed"]), _dt(doc["scrapped"]), _dt(doc["shipped"])
    u.shipment_id, u.carrier, u.estimated_delivery, u.last_fact = (
        doc["shipment"],
        doc["carrier"],
        doc["delivery"],
        _dt(doc["last"]),
    )
    return u


def to_json(state: FactoryState) -> str:
    """Return the state as one JSON document."""
    lines = {}
    for lid, line in state.lines.items():
        lines[lid] = {
            "stations": {sid: {"machines": {str(k): [_t(m.last_down), _t(m.last_up), m.reason, m.reason_code]
                                            for k, m in st.machines.items()},
                               "co": [_t(st.changeover_started), _t(st.changeover_finished)], "last": _t(st.last_fact)}
                         for sid, st in line.stations.items()},
            "completed": line.completed,
            "by_hour": {_t(h): n for h, n in line.completed_by_hour.items()},
            "recent": [_unit_doc(line.recent[code]) for _, code in line.completed_log if code in line.recent],
            "calendar": [_t(line.shift_started), _t(line.shift_ended), _t(line.stop_started), _t(line.stop_ended),
                         line.stop_reason],
        }  # fmt: skip
    return json.dumps({
        "version": VERSION, "last_event_time": _t(state.last_event_time), "applied": state.events_applied,
        "skipped": state.events_skipped, "evicted": state.units_evicted, "lines": lines,
        "units": [_unit_doc(u) for u in state.units.values()],
    }, separators=(",", ":"), ensure_ascii=False)  # fmt: skip


def from_json(text: str, plant: Plant, lines: Collection[str] | None = None) -> FactoryState:
    """Rebuild a state from to_json's output, against the plant it was taken of.

    ``lines`` limits it to those lines and their units (a replay of one line's floor does not
    build the rest of the enterprise); the other lines stay empty.
    """
    from factory.derive import reposition
    from factory.projector import note_order

    doc = orjson.loads(text)
    if doc.get("version") != VERSION:
        raise ValueError(f"checkpoint format {doc.get('version')} is not {VERSION}")
    state = empty_state(plant)
    state.last_event_time = _dt(doc["last_event_time"])
    state.events_applied, state.events_skipped, state.units_evicted = doc["applied"], doc["skipped"], doc["evicted"]
    for lid, line_doc in doc["lines"].items():
        line = state.lines.get(lid)
        if line is None or (lines is not None and lid not in lines):
            continue  # a line no longer in the factory file, or not asked for
        _fill_line(line, line_doc)
    for unit_doc in doc["units"]:
        if lines is not None and unit_doc["line"] not in lines:
            continue
        unit = _unit(unit_doc)
        line = state.lines.get(unit.line_id)
        if line is None:
            continue
        state.units[unit.unit_code] = unit
        if unit.tracking_token:
            state.unit_by_token[unit.tracking_token] = unit.unit_code
        if not unit.finished:
            line.active.add(unit.unit_code)
        reposition(line, unit)
    for line in state.lines.values():  # recent completions: the live unit when it is still there
        line.recent = {code: state.units.get(code, u) for code, u in line.recent.items()}
    for unit in sorted((u for u in state.units.values() if u.placed_at), key=lambda u: u.placed_at):  # type: ignore[arg-type,return-value]
        note_order(state.lines[unit.line_id], unit.placed_at, unit.unit_code)  # type: ignore[arg-type]
    return state


def _fill_line(line: LineState, doc: dict[str, Any]) -> None:
    for sid, st_doc in doc["stations"].items():
        st: StationState | None = line.stations.get(sid)
        if st is None:
            continue
        st.machines = {
            int(k): Machine(_dt(a), _dt(b), reason, code) for k, (a, b, reason, code) in st_doc["machines"].items()
        }
        st.changeover_started, st.changeover_finished = _dt(st_doc["co"][0]), _dt(st_doc["co"][1])
        st.last_fact = _dt(st_doc["last"])
    line.completed = doc["completed"]
    line.completed_by_hour = {_dt(h): n for h, n in doc["by_hour"].items()}  # type: ignore[misc]
    recent = [_unit(u) for u in doc["recent"]]
    line.completed_log = sorted((u.completed_at, u.unit_code) for u in recent if u.completed_at)
    line.recent = {u.unit_code: u for u in recent}
    (line.shift_started, line.shift_ended, line.stop_started, line.stop_ended) = map(_dt, doc["calendar"][:4])
    line.stop_reason = doc["calendar"][4]


__all__ = ["Position", "fields", "from_json", "to_json"]
