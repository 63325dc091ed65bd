"""One site's burst, another site's screen: how long a quiet site's tracker waits, one stream or one per site.

    python bench/site_burst.py [--burst 30000] [--bursts 5]

For each stream layout (one stream, then ``--stream-per-site``), in the same command: a private
redis-server, the app as its own process on it (``--redis-url --no-emulator``), and two trackers
(Socket.IO clients in their orders' rooms). Then
``--bursts`` times: ``--burst`` events of the Zhengzhou site (a simulated stretch of its lines,
re-stamped with the wall clock, as a line would send a shift it buffered while offline) are
published at once, and right after them one station entry of each of two probe units, one on
Shenyang's rf1 (the quiet site) and one on Zhengzhou's ac1 (the busy site, behind its own burst).
Measured: from the probes' publish until each one's tracker frame arrives. Medians and the ratio
per-site / one stream are printed last.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bus_throughput import start_redis
from wall_latency import plant_events

from factory.layout import load_plant
from streams import events as ev
from streams.site_streams import open_redis_events
from support import RunningApp

PROBES = {"quiet": ("rf1", "refrigerator"), "busy": ("ac1", "air_conditioner")}  # Shenyang, Zhengzhou


def token(name: str) -> str:
    return f"siteburst{name}probe0123456789abcdef"


def probe_order(name: str) -> ev.OrderPlaced:
    line, product = PROBES[name]
    return ev.OrderPlaced(
        id=f"probe-order-{name}",
        source="/bench/probe",
        time=datetime.now(UTC),
        order_id=f"SO-PROBE-{name}",
        unit_code=f"PROBE-{name}",
        tracking_token=token(name),
        line_id=line,
        product=product,
        options={},
    )


class Tracker:
    """A Socket.IO client in one probe order's room, noting when each frame arrives."""

    def __init__(self, base_url: str, name: str) -> None:
        self.arrived = threading.Event()
        self.at = 0.0
        self.client = socketio.Client(reconnection=False)
        self.client.on("order", self._frame)
        self.client.connect(base_url, auth={"view": "track", "token": token(name)}, transports=["websocket"],
                            wait_timeout=30)  # fmt: skip
        if not self.arrived.wait(30):
            raise RuntimeError(f"no join frame for the {name} probe")

    def _frame(self, _frame: object) -> None:
        self.at = time.perf_counter()
        self.arrived.set()


def run(layout: str, burst: list[ev.Event], bursts: int, folder: Path) -> dict:
    plant = load_plant(ROOT / "factory.yaml")
    redis_proc, url = start_redis(str(folder))
    app = None
    try:
        flag = ("--stream-per-site",) if layout == "per-site" else ("--single-stream",)
        app = RunningApp("--redis-url", url, "--no-emulator", *flag, data_dir=folder / "data", tracking_links=False)
        bus = open_redis_events(url, [s.id for s in plant.sites], plant.site_of_event, None)  # follows the app's
        bus.publish_many(probe_order(name) for name in PROBES)
        deadline = time.monotonic() + 60
        while any(requests.get(f"{app.base_url}/api/orders/{token(n)}", timeout=5).status_code != 200 for n in PROBES):
            if time.monotonic() > deadline:
                raise RuntimeError("the app does not know the probes' orders")
            time.sleep(0.5)
        trackers = {name: Tracker(app.base_url, name) for name in PROBES}
        waits: dict[str, list[float]] = {name: [] for name in PROBES}
        publish_s = []
        for k in range(bursts):
            now = datetime.now(UTC)
            stamped = [dataclasses.replace(e, id=f"b{k}-{e.id}", time=now) for e in burst]
            for tracker in trackers.values():
                tracker.arrived.clear()
            started = time.perf_counter()
            bus.publish_many(stamped)
            publish_s.append(time.perf_counter() - started)
            moves = []
            for name, (line, _product) in PROBES.items():
                station = plant.line(line).stations[k].id  # one station further each burst
                moves.append(
                    ev.StationEntered(
                        id=f"probe-{name}-{k}",
                        source="/bench/probe",
                        time=datetime.now(UTC),
                        unit_code=f"PROBE-{name}",
                        line_id=line,
                        station_id=station,
                    )
                )
            bus.publish_many(moves)
            published = time.perf_counter()
            for name, tracker in trackers.items():
                if not tracker.arrived.wait(120):
                    raise RuntimeError(f"the {name} probe's frame never came")
                waits[name].append((tracker.at - published) * 1000)
            time.sleep(3.0)  # the history writer catches up before the next burst
        for tracker in trackers.values():
            tracker.client.disconnect()
        return {"layout": layout, "waits_ms": waits, "publish_s": statistics.median(publish_s)}
    finally:
        if app is not None:
            app.stop()
        redis_proc.terminate()
        redis_proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=30_000, help="events of the busy site per burst")
    parser.add_argument("--bursts", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    busy = {line.id for line in plant.site("zhengzhou").lines}
    events = [e for e in plant_events(args.burst * 3) if getattr(e, "line_id", None) in busy][: args.burst]
    print(f"burst: {len(events):,} events of Zhengzhou's lines {sorted(busy)}; probes on rf1 (Shenyang) and ac1")
    results = {}
    for layout in ("single", "per-site"):
        with tempfile.TemporaryDirectory() as folder:
            r = results[layout] = run(layout, events, args.bursts, Path(folder))
        for name, waits in r["waits_ms"].items():
            print(
                f"[{layout}] {name} site's tracker waited: median {statistics.median(waits):,.0f} ms, "
                f"max {max(waits):,.0f} ms ({', '.join(f'{w:,.0f}' for w in waits)})"
            )
        print(f"[{layout}] publishing a burst took {r['publish_s']:.2f} s (median)")
    for name in PROBES:
        ratio = statistics.median(results["per-site"]["waits_ms"][name]) / statistics.median(
            results["single"]["waits_ms"][name]
        )
        print(f"per-site / one stream: {name} site's wait x{ratio:.2f}")


if __name__ == "__main__":
    main()
