"""``GET /health`` (the process serves) and ``GET /ready`` (every part works), for load balancers and people.

``/ready`` answers 503 naming each failing part: the event bus (reachable; a stretch of the
stream that a reader missed because retention dropped it first is named there, a past loss that
does not fail), the history (the writer's last batch went in), the emulator and the MQTT bridge
(their tasks run), and the lag (how long since the pump last had nothing left to read).
The collector's pauses and the end-of-shift reports are told there too, never failing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import flask

from streams.bus import Bus
from web.services import Services, services

health = flask.Blueprint("health", __name__)
MAX_LAG_S = 10.0


def gaps_of(bus: Bus) -> dict[str, Any]:
    """What readers of this worker missed to the bus's retention (a past loss: told, not failing)."""
    if not bus.gaps:
        return {}
    last = bus.gaps[-1]
    return {"gaps": len(bus.gaps), "last_gap": {**asdict(last), "noticed": last.noticed.isoformat()}}


def readiness(svc: Services) -> dict[str, dict[str, Any]]:
    """Return each part's state: {"ok": bool, ...details}."""
    parts: dict[str, dict[str, Any]] = {}
    try:
        svc.bus.read(None, limit=1)
        parts["bus"] = {"ok": True, **gaps_of(svc.bus)}
    except Exception as exc:  # noqa: BLE001 - whatever the bus raises, /ready names it
        parts["bus"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    recorder = svc.extras.get("recorder")
    if recorder is not None:
        until = recorder.state.last_event_time
        parts["history"] = {
            "ok": recorder.healthy,
            "error": recorder.last_error,
            "recorded": recorder.recorded,
            "writer": not recorder.standby,  # False: another worker writes the shared history
            "recorded_until": until.isoformat() if until else None,
        }
    tasks = svc.supervisor.report()
    for name in ("emulator", "mqtt"):
        if name in tasks:
            task = tasks[name]
            part = {"ok": task["state"] == "running", **task}
            bridge = svc.extras.get("mqtt_bridge")
            if name == "mqtt" and bridge is not None:
                part.update(bridge.status())
                part["ok"] = part["ok"] and bridge.connected
            parts[name] = part
    failing = [name for name, task in tasks.items() if task["state"] not in ("running", "stopped")]
    restarts = {name: task["restarts"] for name, task in tasks.items()}
    parts["tasks"] = {"ok": not failing, "failing": failing, "restarts": restarts}
    collector = svc.extras.get("gc")
    if collector is not None:
        parts["gc"] = collector.report()  # never failing: the collector's pauses, told
    shift_reports = svc.extras.get("shift_reports")
    if shift_reports is not None:
        parts["reports"] = shift_reports.report()  # never failing: a report not written is tried again
    lag = svc.live.lag_s()
    parts["lag"] = {"ok": lag <= MAX_LAG_S, "seconds": round(lag, 3)}
    return parts


@health.get("/health")
def alive():
    """200 while the process serves requests."""
    return flask.jsonify({"status": "ok"})


@health.get("/ready")
def ready():
    """200 when every part works, else 503 naming the parts that do not."""
    parts = readiness(services())
    ok = all(part["ok"] for part in parts.values())
    body = {
        "status": "ready" if ok else "not ready",
        "parts": parts,
        "failing": [name for name, part in parts.items() if not part["ok"]],
    }
    return flask.jsonify(body), 200 if ok else 503
