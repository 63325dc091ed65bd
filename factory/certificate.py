"""A finished unit's birth certificate: the signed facts of its build, and their canonical bytes.

The facts come from the unit's localised public order view (factory.views.localise_order), so
a certificate never says more than the customer's tracker does: ID card (code, product,
options), journey (stations with times and visits), genealogy (components with supplier,
batch, serial), every measurement against its limits, the verdict, line and site. Names are in
the certificate's language; ids stay beside them, so two languages state the same facts.

The signature covers ``canonical(facts)``: JSON with sorted keys, no spaces, UTF-8, numbers as
JSON writes them. Nothing time-dependent is added when issuing, so the same unit gives the same
document and signature every time it is asked for (Ed25519 signatures are deterministic).
"""

from __future__ import annotations

import json
from typing import Any

FORMAT = "tf-birth-certificate/1"


class NotFinished(ValueError):
    """The unit has no certificate yet: it is still being built (or was scrapped)."""


def certificate_facts(
    view: dict[str, Any], localised: dict[str, Any], plant_id: str, shift: dict[str, str] | None = None
) -> dict[str, Any]:
    """Return the facts a certificate states about an order view's unit (``localised``: its names;
    ``shift``: the shift it was completed in, from the site's calendar)."""
    if not view.get("completed_at") or view.get("scrapped_at"):
        raise NotFinished(f"unit {view.get('unit_code')} is not finished")
    latest: dict[str, bool] = {}  # the last test at each gate decides (a failed test, then a repair, then a pass)
    for t in view["tests"]:
        latest[t["station"]] = t["passed"]
    tests = [
        {
            "station_id": t["station_id"],
            "station": t["station"],
            "time": t["time"],
            "passed": t["passed"],
            "measurements": [
                {
                    "name": m["name"], "label": m["label"], "unit": m["unit"], "value": m["value"],
                    "lower": m["lower"], "upper": m["upper"], "passed": m["passed"],
                }
                for m in t["measurements"]
            ],
        }
        for t in localised["tests"]
    ]  # fmt: skip
    return {
        "format": FORMAT,
        "language": localised["language"],
        "plant": plant_id,
        "unit_code": view["unit_code"],
        "order_id": view["order_id"],
        "product_id": view["product"],
        "product": localised["product"],
        "site_id": view["site"],
        "site": localised["site"],
        "line_id": view["line"],
        "line": localised["line"],
        "options": [{"option": o["option"], "label": o["label"], "choice": o["choice"], "value": o["value"]}
                    for o in localised["options"]],
        "journey": [{"station_id": s["id"], "station": s["name"], "entered": s["entered"], "exited": s["exited"],
                     "visits": s["visits"]} for s in localised["steps"] if s["visits"]],
        "reworks": view["reworks"],
        "components": [{"component": c["component"], "name": c["name"], "station_id": c["station"],
                        "supplier": c["supplier"], "batch": c["batch"], "serial": c["serial"],
                        "fitted_at": c["fitted_at"]} for c in localised["components"]],
        "tests": tests,
        "verdict": "passed" if latest and all(latest.values()) else "not tested" if not latest else "failed",
        "completed_at": view["completed_at"],
        "shift": shift,
    }  # fmt: skip


def canonical(facts: dict[str, Any]) -> bytes:
    """Return the bytes that are signed: the same facts always give the same bytes."""
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
