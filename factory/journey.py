"""A unit's journey: every visit to a station in the order it happened, with the time spent, and its reworks.

The customer's time-lapse (/track/<token>/replay) plays this. It comes from the unit's own
events only (folded into a state of that one unit), so it shows nothing of other units.
"""

from __future__ import annotations

from typing import Any

from factory.state import UnitState
from streams.codec import format_time


def journey(unit: UnitState) -> dict[str, Any]:
    """Return the unit's visits in the order it entered them, and where rework sent it back.

    A visit's ``spent_s`` runs from entering the station to leaving it (None while it is still
    there); ``waited_s`` is the time since it left the previous station (None for the first).
    """
    visits = sorted((v for v in unit.visits.values() if v.entered is not None), key=lambda v: (v.entered, v.visit))
    steps: list[dict[str, Any]] = []
    left = None
    for v in visits:
        assert v.entered is not None  # sorted above from entered visits only
        steps.append({
            "station": v.station_id,
            "visit": v.visit,
            "entered": format_time(v.entered),
            "exited": format_time(v.exited) if v.exited is not None else None,
            "spent_s": (v.exited - v.entered).total_seconds() if v.exited is not None else None,
            "waited_s": (v.entered - left).total_seconds() if left is not None else None,
        })  # fmt: skip
        left = v.exited or left
    reworks = [
        {"station": r.station_id, "time": format_time(r.time), "back_to": r.reenter_at, "defect": r.defect_code}
        for r in sorted(unit.reworks.values(), key=lambda r: r.time)
    ]
    return {
        "unit_code": unit.unit_code,
        "line": unit.line_id,
        "placed_at": format_time(unit.placed_at) if unit.placed_at else None,
        "visits": steps,
        "reworks": reworks,
        "completed_at": format_time(unit.completed_at) if unit.completed_at else None,
        "scrapped_at": format_time(unit.scrapped_at) if unit.scrapped_at else None,
    }
