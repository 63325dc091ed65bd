"""Helpers shared by tests: paths, free ports, an event builder."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streams import events as ev

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# 11:20 at the plant (UTC+8), past the meal break: an app started here warms up a busy hour and
# shows a working floor, whatever the time
# of the test run (at night the order pattern places a few dozen orders an hour).
DAY_SHIFT = "2026-03-02T03:20:00Z"


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
        return ev.OrderPlaced(
            **self._env(minute),
            order_id=f"SO-{unit}",
            unit_code=unit,
            tracking_token=token or f"token-{unit}-0123456789",
            line_id=self.line_id,
            product="air_conditioner",
            options=options or {"model": "AS12", "wifi": "wifi"},
        )

    def entered(self, minute, unit, station, visit=1):
        return ev.StationEntered(
            **self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit
        )

    def exited(self, minute, unit, station, visit=1):
        return ev.StationExited(
            **self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit
        )

    def completed(self, minute, unit):
        return ev.UnitCompleted(**self._env(minute), unit_code=unit, line_id=self.line_id)


class RunningApp:
    """``python app.py`` on a free port, with the URLs it printed at start."""

    def __init__(
        self,
        *args: str,
        data_dir: Path,
        start_timeout_s: float = 20.0,
        port: int | None = None,
        tracking_links: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), "--data-dir", str(data_dir), *args]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.output: list[str] = []
        self.tracking_urls: list[str] = []
        self.kiosk_url: str | None = None
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            kiosk = re.search(r"(http://\S+/kiosk/\S+)", line)
            if kiosk:
                self.kiosk_url = kiosk.group(1)
            match = re.search(r"(http://\S+/track/\S+)", line)
            if match:
                self.tracking_urls.append(match.group(1))
            if "Tracking link" not in line and self.tracking_urls:
                break
            if not tracking_links and "Sign in:" in line:
                break
            if len(self.tracking_urls) >= 3:
                break
        if tracking_links and not self.tracking_urls:
            self.stop()
            raise RuntimeError("app did not print tracking links:\n" + "".join(self.output))
        while time.monotonic() < deadline:  # the links are printed just before the server listens
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"app is not listening on port {self.port}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
