"""Helpers shared by tests: paths, free ports, an event builder."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

from streams import events as ev

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def free_port() -> int:
    """Return a TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EventFactory:
    """Builds events of one source with increasing ids, at given minutes after T0."""

    def __init__(self, line_id: str = "ac1") -> None:
        self.line_id = line_id
        self.n = 0

    def _env(self, minute: float) -> dict:
        self.n += 1
        return {"id": f"t-{self.n}", "source": f"/test/{self.line_id}", "time": T0 + timedelta(minutes=minute)}

    def placed(self, minute, unit, token=None, options=None):
        return ev.OrderPlaced(**self._env(minute), order_id=f"SO-{unit}", unit_code=unit,
                              tracking_token=token or f"token-{unit}-0123456789", line_id=self.line_id,
                              product="air_conditioner", options=options or {"model": "AS12", "wifi": "wifi"})

    def entered(self, minute, unit, station, visit=1):
        return ev.StationEntered(**self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit)

    def exited(self, minute, unit, station, visit=1):
        return ev.StationExited(**self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit)

    def completed(self, minute, unit):
        return ev.UnitCompleted(**self._env(minute), unit_code=unit, line_id=self.line_id)
