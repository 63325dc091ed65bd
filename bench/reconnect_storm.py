"""Reconnect storm: a worker with many tracker viewers restarts; how fast, and how evenly, are they back?

    python bench/reconnect_storm.py [--viewers 1000] [--join-rate PER_SECOND] [--out storm.json]

A private redis-server carries the stream, with one order per viewer; the app runs as its own
process (``--redis-url --no-emulator``) on a fixed port. This process connects one asyncio
Socket.IO client per order (each joins its own order's room and gets its snapshot), with the
reconnection settings the pages use (1 s first delay, 10 s at most, +-50 % jitter). Then the
worker is stopped (SIGTERM) and started again on the same port and data directory, and every
client's first snapshot after the restart is timed. ``--join-rate`` is passed to the app (its own
default otherwise; 0 turns the pace off).

Reported: seconds from the stop (and from the new worker listening) until all viewers have
their snapshot again, and the arrival spread: the largest share of viewers that came back
within any one second (goal: all within 20 s, no second above 30 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bus_throughput import start_redis

from dashboard.components.live_socket import RECONNECT as PAGES
from streams import events as ev
from streams.redis_streams import RedisStreamsBus
from support import RunningApp, free_port

T0 = datetime(2026, 1, 5, tzinfo=UTC)
# What the tracker and floor pages give their socket.io client, in python-socketio's words.
RECONNECT = {
    "reconnection_delay": PAGES["reconnectionDelay"] / 1000,
    "reconnection_delay_max": PAGES["reconnectionDelayMax"] / 1000,
    "randomization_factor": PAGES["randomizationFactor"],
}


def place_orders(bus: RedisStreamsBus, n: int) -> list[str]:
    tokens = [f"stormtoken{i:012d}abcdefgh" for i in range(n)]
    bus.publish_many(
        ev.OrderPlaced(
            id=f"storm-{i}",
            source="/bench/storm",
            time=T0,
            order_id=f"O{i}",
            unit_code=f"STORM-{i:05d}",
            tracking_token=token,
            line_id="ac1",
            product="air_conditioner",
            options={"model": "AS09", "panel": "white", "wifi": "none"},
        )
        for i, token in enumerate(tokens)
    )
    return tokens


def wait_for_orders(base_url: str, token: str) -> None:
    deadline = time.monotonic() + 120
    while requests.get(f"{base_url}/api/orders/{token}", timeout=30).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the app does not know the orders placed before it started")
        time.sleep(1.0)


async def connect_all(url: str, tokens: list[str], snapshots: list[list[float]]) -> list[socketio.AsyncClient]:
    """One client per token; ``snapshots[i]`` collects when client i got a whole frame."""
    clients: list[socketio.AsyncClient] = []

    async def one(index: int, token: str) -> None:
        client = socketio.AsyncClient(reconnection=True, reconnection_attempts=0, **RECONNECT)

        def on_order(frame: dict) -> None:
            if "v" in frame:  # a whole frame: what a (re)joining socket gets
                snapshots[index].append(time.monotonic())

        client.on("order", on_order)
        await client.connect(url, auth={"view": "track", "token": token}, transports=["websocket"], wait_timeout=60)
        clients.append(client)

    for start in range(0, len(tokens), 100):
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens[start : start + 100], start)))
    return clients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--join-rate", type=float, default=None, help="the app's --join-rate (default: its own)")
    parser.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        bus = RedisStreamsBus(redis_url)
        tokens = place_orders(bus, args.viewers)
        port, data = free_port(), Path(folder) / "data"
        worker = ["--redis-url", redis_url, "--no-emulator"]
        if args.join_rate is not None:
            worker += ["--join-rate", str(args.join_rate)]
        app = RunningApp(*worker, data_dir=data, port=port, tracking_links=False)
        loop = asyncio.new_event_loop()
        clients: list[socketio.AsyncClient] = []
        try:
            wait_for_orders(app.base_url, tokens[-1])
            snapshots: list[list[float]] = [[] for _ in tokens]
            started = time.monotonic()
            clients = loop.run_until_complete(connect_all(app.base_url, tokens, snapshots))
            threading.Thread(target=loop.run_forever, daemon=True).start()
            deadline = time.monotonic() + 60  # the app paces joins: the last snapshots come seconds later
            while not all(snapshots) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert all(snapshots), "a viewer got no snapshot on joining"
            connect_s = time.monotonic() - started
            time.sleep(2)
            before = [len(s) for s in snapshots]

            stopped_at = time.monotonic()
            app.stop()
            app = RunningApp(*worker, data_dir=data, port=port, tracking_links=False)
            listening_at = time.monotonic()
            deadline = listening_at + 120
            while time.monotonic() < deadline and any(len(s) <= b for s, b in zip(snapshots, before)):
                time.sleep(0.1)
            back = [s[b] for s, b in zip(snapshots, before) if len(s) > b]
            per_second = Counter(int(t - listening_at) for t in back)
            median = sorted(back)[len(back) // 2] if back else None
            result = {
                "viewers": args.viewers,
                "join_rate": args.join_rate,
                "connect_s": round(connect_s, 1),
                "restart_s": round(listening_at - stopped_at, 1),
                "resynced": len(back),
                "all_back_after_stop_s": round(max(back) - stopped_at, 1) if back else None,
                "all_back_after_listening_s": round(max(back) - listening_at, 1) if back else None,
                "median_back_after_listening_s": round(median - listening_at, 1) if median else None,
                "largest_share_in_one_second": round(max(per_second.values()) / args.viewers, 3) if back else None,
                "per_second": {str(k): v for k, v in sorted(per_second.items())},
            }
            print(json.dumps(result, indent=1), flush=True)
            if args.out:
                args.out.write_text(json.dumps(result, indent=1))
        finally:

            async def close_all() -> None:
                await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)

            if clients and loop.is_running():
                asyncio.run_coroutine_threadsafe(close_all(), loop).result(60)
            app.stop()
            redis_proc.terminate()
            redis_proc.wait(30)


if __name__ == "__main__":
    main()
