"""Tracker viewers at scale: event -> tracker update latency, server CPU and memory, page load.

    python bench/tracker_viewers.py [--viewers 2000] [--rate 2000] [--seconds 20]

A private redis-server carries the stream; the app runs as its own process (``--redis-url
--no-emulator``). This process places one order per viewer, connects one asyncio Socket.IO
client per order (each joins only its own order's room), then publishes station entries at
``--rate`` events/s spread over all orders (each unit goes round its line's stations, one visit
more each round, so every event is a new fact that moves its unit), recording when each unit's
latest event was published. Latency = frame received - publish time of that unit's latest
event (coalescing included). Server CPU from /proc (user + system) over the publishing window;
memory per viewer from the server's RSS before and after connecting. Page load: headless
Chromium opening one tracker link until it shows "Live", median of 5.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bus_throughput import start_redis
from wall_soak import launch_chromium

from factory.validation import MAX_VISITS
from streams import events as ev
from streams.redis_streams import RedisStreamsBus
from support import RunningApp

T0 = datetime(2026, 1, 5, tzinfo=UTC)
STATIONS = ["kitting", "sheet_metal", "brazing", "assembly", "wiring", "vacuum_charge", "leak_test", "run_test"]


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int, field: str) -> int:
    """Return a number from /proc/<pid>/status (VmRSS in kB, Threads)."""
    found = re.search(rf"{field}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    if found is None:
        raise RuntimeError(f"no {field} in /proc/{pid}/status")
    return int(found.group(1))


async def connect_all(
    url: str, tokens: list[str], on_frame: Callable[[int, object], None]
) -> list[socketio.AsyncClient]:
    clients: list[socketio.AsyncClient] = []

    async def one(index: int, token: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("order", lambda frame: on_frame(index, frame))
        await client.connect(url, auth={"view": "track", "token": token}, transports=["websocket"], wait_timeout=30)
        clients.append(client)

    for start in range(0, len(tokens), 100):
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens[start : start + 100], start)))
    return clients


def page_load_ms(url: str) -> float:
    """Median time for headless Chromium to open a tracker link until it says it is live (5 loads)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        loads = []
        for _ in range(5):
            page = browser.new_page(viewport={"width": 390, "height": 844})
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".freshness.live", timeout=15_000)
            loads.append((time.perf_counter() - started) * 1000)
            page.close()
        browser.close()
    return statistics.median(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    from playwright.sync_api import Error as PlaywrightError

    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        bus = RedisStreamsBus(redis_url)
        n = 0

        def env(t: datetime) -> dict:
            nonlocal n
            n += 1
            return {"id": f"bench-{n}", "source": "/bench/ac1", "time": t}

        units = [f"BENCH-{i:05d}" for i in range(args.viewers)]
        tokens = [f"benchtoken{i:012d}abcdefgh" for i in range(args.viewers)]
        bus.publish_many(
            ev.OrderPlaced(
                **env(T0),
                order_id=f"O{i}",
                unit_code=u,
                tracking_token=tok,
                line_id="ac1",
                product="air_conditioner",
                options={"model": "AS09"},
            )
            for i, (u, tok) in enumerate(zip(units, tokens))
        )
        app = None
        try:
            app = RunningApp("--redis-url", redis_url, "--no-emulator", data_dir=Path(folder) / "data",
                             tracking_links=False)  # fmt: skip
            server, url = app.proc, app.base_url
            import requests

            deadline = time.monotonic() + 60
            while requests.get(f"{url}/api/orders/{tokens[-1]}", timeout=5).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app does not know the orders placed before it started")
                time.sleep(1.0)  # each miss counts against this client's allowance of unknown tokens
            rss_before = proc_status(server.pid, "VmRSS")
            published: dict[int, float] = {}
            latencies: list[float] = []
            frames = [0]
            measuring = threading.Event()

            def on_frame(index: int, _frame: object) -> None:
                frames[0] += 1
                sent = published.get(index)
                if measuring.is_set() and sent is not None:
                    latencies.append(time.perf_counter() - sent)

            loop = asyncio.new_event_loop()
            started = time.perf_counter()
            clients = loop.run_until_complete(connect_all(url, tokens, on_frame))
            connect_s = time.perf_counter() - started
            loop_thread = threading.Thread(target=loop.run_forever, daemon=True)
            loop_thread.start()
            time.sleep(2)
            rss_after = proc_status(server.pid, "VmRSS")

            # Publish station entries round-robin over the orders, in 10 ms ticks.
            cpu_before, wall_before = proc_cpu_s(server.pid), time.perf_counter()
            measuring.set()
            tick, per_tick, sent_events, step = 0.01, max(1, args.rate // 100), 0, 0
            next_at = time.perf_counter()
            while time.perf_counter() - wall_before < args.seconds:
                batch, indexes = [], []
                for _ in range(per_tick):
                    i = sent_events % args.viewers
                    lap, at = divmod(sent_events // args.viewers, len(STATIONS))
                    batch.append(
                        ev.StationEntered(
                            **env(T0 + timedelta(seconds=step)),
                            unit_code=units[i],
                            line_id="ac1",
                            station_id=STATIONS[at],
                            visit=min(lap + 1, MAX_VISITS),
                        )
                    )
                    indexes.append(i)
                    sent_events += 1
                    step += 1
                now = time.perf_counter()
                for i in indexes:
                    published[i] = now
                bus.publish_many(batch)
                next_at += tick
                time.sleep(max(0.0, next_at - time.perf_counter()))
            wall = time.perf_counter() - wall_before
            cpu = proc_cpu_s(server.pid) - cpu_before
            time.sleep(1)
            measuring.clear()
            lat = sorted(x * 1000 for x in latencies)
            pct = lambda q: lat[int(q * (len(lat) - 1))] if lat else float("nan")  # noqa: E731
            threads = proc_status(server.pid, "Threads")
            print(
                f"{len(clients):,} tracker viewers connected in {connect_s:.1f} s; "
                f"{sent_events:,} events in {wall:.1f} s ({sent_events / wall:,.0f}/s)",
                flush=True,
            )
            print(
                f"event -> tracker update: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms over {len(lat):,} "
                f"frames (expected {sent_events:,})",
                flush=True,
            )
            print(
                f"server CPU while publishing: {cpu / wall:.2f} cores; memory per viewer: "
                f"{(rss_after - rss_before) / max(1, len(clients)):,.0f} kB; server threads: {threads}",
                flush=True,
            )
            try:  # with every viewer still connected
                load_ms = page_load_ms(f"{url}/track/{tokens[0]}")
                print(f"tracker page load until live (Chromium, loopback): median {load_ms:,.0f} ms", flush=True)
            except PlaywrightError as exc:  # a saturated server may not answer in time: say so
                print(f"tracker page load: did not complete ({type(exc).__name__})", flush=True)
            for client in clients:
                asyncio.run_coroutine_threadsafe(client.disconnect(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        finally:
            if app is not None:
                app.proc.kill()
                app.proc.wait(10)
            redis_proc.terminate()
            redis_proc.wait()


if __name__ == "__main__":
    main()
