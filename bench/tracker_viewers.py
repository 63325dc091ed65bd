"""Tracker viewers at scale: event -> tracker update latency, server CPU and memory, page load.

    python bench/tracker_viewers.py [--viewers 2000] [--rate 2000] [--seconds 20] [--ours worker|gateway|both]
                                    [--baseline plain|flask-gevent|both|none] [--client-procs 1]

Each server gets a private redis-server carrying the stream. Ours is the app as its own process
(``--redis-url --no-emulator``), its viewers on the worker's own sockets (``--ours worker``), or
on the customers' push gateway (``tf push``, ``--ours gateway``: alone while publishing, as the
plain server is; the worker that serves the tracker page is started for the page load, after);
``both`` (the default) runs the two, one after the other. This process places one order per viewer
(each unit entering the line's first station at once, so no backlog drains in the window), connects one asyncio
Socket.IO client per order (each joins only its own order's room), then publishes station
entries at ``--rate`` events/s spread over all orders (each unit goes round its line's stations,
one visit more each round, so every event is a new fact that moves its unit), recording when
each unit's latest event was published. Latency = frame received - publish time of that unit's
latest event (coalescing included). Server CPU from /proc (user + system) over the publishing
window; memory and open files per viewer from the server's RSS and descriptors before and after
connecting. Page load: headless Chromium opening one tracker link until it shows "Live", median
of 5. A viewer whose connection is refused retries it after a jittered pause, three times at
most, as a tracker page would; how many were retried is printed.

``--baseline plain`` (the default) then runs the same load, in the same command, against
bench/plain_socketio_server.py: python-socketio's asyncio server reading the same kind of
stream and emitting, for every station event, one frame of the mean size of the frames ours
sent in this run, to the order's room; the ratio ours / plain is printed last.
``--baseline flask-gevent`` runs the same plain server on the product's own stack instead
(bench/plain_flask_gevent_server.py: Flask-SocketIO under gevent), and ``both`` runs the two, so
the cost of the server model and that of our own code can be told apart.

The clients run in ``--client-procs`` processes (the viewers split between them), each with one
asyncio loop; the publisher stays in this process. Their CPU over the publishing window is
reported, since they share the machine's cores with the server and can be the tail themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bus_throughput import start_redis
from wall_soak import launch_chromium

from factory.validation import MAX_VISITS
from streams import events as ev
from streams.redis_streams import RedisStreamsBus
from support import RunningApp, RunningGateway
from web.gc_pauses import LongLivedObjects

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
    url: str, tokens: list[tuple[int, str]], on_frame: Callable[[int, object], None]
) -> list[socketio.AsyncClient]:
    clients: list[socketio.AsyncClient] = []
    retried = [0]

    async def one(index: int, token: str) -> None:
        # A real tracker retries a refused connection after a jittered pause (tf-track.js); so does
        # this viewer, three times, so a server busy accepting thousands is not a lost viewer.
        for attempt in range(4):
            client = socketio.AsyncClient(reconnection=False)
            client.on("order", lambda frame: on_frame(index, frame))
            try:
                await client.connect(
                    url, auth={"view": "track", "token": token}, transports=["websocket"], wait_timeout=30
                )
            except socketio.exceptions.ConnectionError:
                if attempt == 3:
                    raise
                retried[0] += 1
                await asyncio.sleep(random.uniform(1, 2) * 2**attempt)
                continue
            clients.append(client)
            return

    for start in range(0, len(tokens), 100):
        await asyncio.gather(*(one(i, t) for i, t in tokens[start : start + 100]))
    if retried[0]:
        print(f"  (connections retried after a refusal: {retried[0]:,})", file=sys.stderr, flush=True)
    return clients


def viewers_proc(url: str, tokens: list[tuple[int, str]], published: Any, flags: Any, out: Any) -> None:
    """One client process: connect its viewers, time their frames while ``flags`` say so, report.

    ``published[i]`` is the publish time (perf_counter, the same clock in every process) of unit
    i's latest event; ``flags``: [measuring, (unused), stop].
    """
    latencies: list[float] = []
    counts = {"frames": 0, "bytes": 0, "sized": 0}
    joined: set[int] = set()  # viewers that got their room's whole view

    def on_frame(index: int, frame: object) -> None:
        joined.add(index)
        if flags[0]:  # read per frame: the first frames may come before the loop below sees the flag
            counts["frames"] += 1
            sent = published[index]
            if not math.isnan(sent):
                latencies.append(time.perf_counter() - sent)
            counts["bytes"] += len(orjson.dumps(frame))
            counts["sized"] += 1

    async def run() -> None:
        started = time.perf_counter()
        clients = await connect_all(url, tokens, on_frame)
        deadline = time.perf_counter() + 300
        while len(joined) < len(tokens) and time.perf_counter() < deadline:  # joins may be paced
            await asyncio.sleep(0.01)
        out.put(("connected", len(joined), time.perf_counter() - started))
        # The viewers' own long-lived objects (thousands of clients, and what each waits on until
        # its next frame) out of their collector's sight, as the gateway does: its full
        # collections would otherwise delay the receipt of frames and count as server latency.
        collector = LongLivedObjects(freeze_every_s=1.0)
        collector.start()
        while not flags[0]:
            await asyncio.sleep(0.005)
        cpu_before = time.process_time()
        ticked = time.perf_counter()
        while flags[0]:
            await asyncio.sleep(0.005)
            if time.perf_counter() - ticked >= 1.0:
                collector.tick()
                ticked = time.perf_counter()
        cpu = time.process_time() - cpu_before
        collector.stop()
        pause_ms = max(collector.longest_s.values()) * 1000
        out.put(("report", latencies, counts["frames"], counts["bytes"], counts["sized"], cpu, pause_ms))
        while not flags[2]:
            await asyncio.sleep(0.05)
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)

    asyncio.run(run())


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orders:
    """The bench's orders and the station events that move their units."""

    def __init__(self, bus: RedisStreamsBus, viewers: int) -> None:
        self.bus, self.viewers, self.n, self.step = bus, viewers, 0, 0
        self.units = [f"BENCH-{i:05d}" for i in range(viewers)]
        self.tokens = [f"benchtoken{i:012d}abcdefgh" for i in range(viewers)]
        bus.publish_many(
            ev.OrderPlaced(
                **self._env(T0),
                order_id=f"O{i}",
                unit_code=u,
                tracking_token=tok,
                line_id="ac1",
                product="air_conditioner",
                options={"model": "AS09"},
            )
            for i, (u, tok) in enumerate(zip(self.units, self.tokens))
        )
        # Every unit enters the first station before the viewers connect, so the window measures
        # units moving along the line, not a backlog of 2,000 draining in a second: each start
        # of that would move every order behind it up the queue (their trackers hear of it at
        # the queue's own beat, web/push/queue_moves.py), which no real line does.
        self.offset = 0
        bus.publish_many(self.moves(0, viewers))
        self.offset = viewers  # the window's moves come after that first round

    def _env(self, t: datetime) -> dict:
        self.n += 1
        return {"id": f"bench-{self.n}", "source": "/bench/ac1", "time": t}

    def moves(self, first: int, count: int) -> list[ev.Event]:
        """Station entries number ``first`` .. ``first + count - 1`` (after ``offset``), round-robin over the units."""
        batch: list[ev.Event] = []
        for k in range(first + self.offset, first + self.offset + count):
            lap, at = divmod(k // self.viewers, len(STATIONS))
            self.step += 1
            batch.append(
                ev.StationEntered(
                    **self._env(T0 + timedelta(seconds=self.step)),
                    unit_code=self.units[k % self.viewers],
                    line_id="ac1",
                    station_id=STATIONS[at],
                    visit=min(lap + 1, MAX_VISITS),
                )
            )
        return batch


def measure(
    server_pid: int,
    url: str,
    orders: Orders,
    args: argparse.Namespace,
    page: str | Callable[[], str] | None = None,
    beside: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Connect the viewers, publish for ``args.seconds``, and return what was seen.

    ``page``: the tracker page to load at the end (or what starts its server and returns it).
    ``beside``: other processes of the server whose CPU counts too.
    """
    beside = beside or {}
    ctx = mp.get_context("spawn")
    published = ctx.Array("d", [math.nan] * args.viewers, lock=False)
    flags = ctx.Array("b", [0, 0, 0], lock=False)
    out = ctx.Queue()
    indexed = list(enumerate(orders.tokens))
    procs = [
        ctx.Process(target=viewers_proc, args=(url, indexed[k :: args.client_procs], published, flags, out))
        for k in range(args.client_procs)
    ]
    rss_before = proc_status(server_pid, "VmRSS")
    files_before = len(os.listdir(f"/proc/{server_pid}/fd"))
    for proc in procs:
        proc.start()
    try:
        replies = [out.get(timeout=600) for _ in procs]
        connected = sum(r[1] for r in replies)
        connect_s = max(r[2] for r in replies)
        time.sleep(2)
        rss_after = proc_status(server_pid, "VmRSS")
        files_after = len(os.listdir(f"/proc/{server_pid}/fd"))

        # Publish station entries round-robin over the orders, in 10 ms ticks.
        beside_before = {name: proc_cpu_s(pid) for name, pid in beside.items()}
        cpu_before, own_before, wall_before = proc_cpu_s(server_pid), time.process_time(), time.perf_counter()
        flags[0] = 1
        tick, per_tick, sent_events = 0.01, max(1, args.rate // 100), 0
        next_at = time.perf_counter()
        while time.perf_counter() - wall_before < args.seconds:
            batch = orders.moves(sent_events, per_tick)
            now = time.perf_counter()
            for k in range(sent_events, sent_events + per_tick):
                published[k % args.viewers] = now
            sent_events += per_tick
            orders.bus.publish_many(batch)
            next_at += tick
            time.sleep(max(0.0, next_at - time.perf_counter()))
        wall = time.perf_counter() - wall_before
        cpu = proc_cpu_s(server_pid) - cpu_before
        beside_cpu = {name: proc_cpu_s(pid) - beside_before[name] for name, pid in beside.items()}
        publisher_cpu = time.process_time() - own_before
        time.sleep(1)
        flags[0] = 0
        reports = [out.get(timeout=120) for _ in procs]
        threads = proc_status(server_pid, "Threads")
        load_ms: float | None = None
        if page is not None:
            from playwright.sync_api import Error as PlaywrightError

            try:  # with every viewer still connected
                load_ms = page_load_ms(page() if callable(page) else page)
            except PlaywrightError:  # a saturated server may not answer in time: say so
                load_ms = math.nan
    finally:
        flags[2] = 1
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
    lat = sorted(x * 1000 for r in reports for x in r[1])
    pct = lambda q: lat[int(q * (len(lat) - 1))] if lat else math.nan  # noqa: E731
    sized = sum(r[4] for r in reports)
    return {
        "viewers": connected,
        "connect_s": connect_s,
        "events": sent_events,
        "wall_s": wall,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] if lat else math.nan,
        "timed": len(lat),
        "frames": sum(r[2] for r in reports),
        "frame_bytes": sum(r[3] for r in reports) / max(1, sized),
        "server_cores": cpu / wall,
        "beside_cores": {name: c / wall for name, c in beside_cpu.items()},
        "kb_per_viewer": (rss_after - rss_before) / max(1, connected),
        "files_per_viewer": (files_after - files_before) / max(1, connected),
        "threads": threads,
        "client_cores": sum(r[5] for r in reports) / wall,
        "client_cores_each": [round(r[5] / wall, 2) for r in reports],
        "client_gc_ms": max(r[6] for r in reports),
        "publisher_cores": publisher_cpu / wall,
        "page_load_ms": load_ms,
    }


def run_ours(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        app = None
        try:
            orders = Orders(RedisStreamsBus(redis_url), args.viewers)
            app = RunningApp("--redis-url", redis_url, "--no-emulator", data_dir=Path(folder) / "data",
                             tracking_links=False)  # fmt: skip
            deadline = time.monotonic() + 60
            while requests.get(f"{app.base_url}/api/orders/{orders.tokens[-1]}", timeout=5).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app does not know the orders placed before it started")
                time.sleep(1.0)  # each miss counts against this client's allowance of unknown tokens
            return measure(app.proc.pid, app.base_url, orders, args, page=f"{app.base_url}/track/{orders.tokens[0]}")
        finally:
            if app is not None:
                app.proc.kill()
                app.proc.wait(10)
            redis_proc.terminate()
            redis_proc.wait()


def run_gateway(args: argparse.Namespace) -> dict[str, Any]:
    """The viewers on the push gateway (tf push), alone on the machine as the plain server is.

    The worker that serves the tracker page is started after the publishing, for the page load:
    beside the gateway on these two cores it would take its own share (it folds the stream and
    records the history too), and in production it runs on cores of its own.
    """
    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        started: list[RunningApp] = []
        gateway = None
        try:
            orders = Orders(RedisStreamsBus(redis_url), args.viewers)
            port = free_port()
            gateway = RunningGateway("--allowed-origin", f"http://127.0.0.1:{port}", redis_url=redis_url)

            def page() -> str:
                assert gateway is not None
                started.append(RunningApp("--redis-url", redis_url, "--no-emulator", "--push-url", gateway.base_url,
                                          data_dir=Path(folder) / "data", port=port, tracking_links=False))  # fmt: skip
                return f"{started[0].base_url}/track/{orders.tokens[0]}"

            deadline = time.monotonic() + 60
            last = f"/api/live/order/{orders.tokens[-1]}"
            while requests.get(gateway.base_url + last, timeout=5).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the gateway does not know the orders placed before it started")
                time.sleep(1.0)  # each miss counts against this client's allowance of unknown tokens
            result = measure(gateway.proc.pid, gateway.base_url, orders, args, page=page)
            health = gateway.health(timeout_s=120)  # it may be busy with thousands of goodbyes
            result["server_gc_ms"] = health["gc"]["longest_ms"]  # since its start
            return result
        finally:
            for part in (*started, gateway):
                if part is not None:
                    part.proc.kill()
                    part.proc.wait(10)
            redis_proc.terminate()
            redis_proc.wait()


BASELINES = {"plain": "plain_socketio_server.py", "flask-gevent": "plain_flask_gevent_server.py"}


def run_plain(args: argparse.Namespace, frame_bytes: int, script: str = BASELINES["plain"]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        redis_proc, redis_url = start_redis(folder)
        server = None
        try:
            orders = Orders(RedisStreamsBus(redis_url), args.viewers)
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / script), "--redis-url", redis_url,
                 "--port", str(port), "--frame-bytes", str(frame_bytes)],
                stdout=subprocess.DEVNULL,
                cwd=ROOT / "bench",
            )  # fmt: skip
            url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{url}/ready", timeout=5).json()["orders"] >= args.viewers:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the plain server did not start or did not read the orders")
                time.sleep(0.2)
            return measure(server.pid, url, orders, args)
        finally:
            if server is not None:
                server.kill()
                server.wait(10)
            redis_proc.terminate()
            redis_proc.wait()


def report(name: str, r: dict[str, Any]) -> None:
    print(
        f"[{name}] {r['viewers']:,} tracker viewers connected and joined (first frame) in {r['connect_s']:.1f} s; "
        f"{r['events']:,} events in {r['wall_s']:.1f} s ({r['events'] / r['wall_s']:,.0f}/s)\n"
        f"[{name}] event -> tracker update: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max "
        f"{r['max_ms']:.0f} ms over {r['timed']:,} frames timed (frames received {r['frames']:,}, events "
        f"{r['events']:,}); mean frame {r['frame_bytes']:,.0f} B\n"
        f"[{name}] server CPU while publishing: {r['server_cores']:.2f} cores; memory per viewer: "
        f"{r['kb_per_viewer']:,.0f} kB; open files per viewer: {r['files_per_viewer']:.2f}; "
        f"server threads: {r['threads']}"
        + "".join(f"; {name} beside it: {c:.2f} cores" for name, c in r.get("beside_cores", {}).items())
        + (
            f"; longest collector pause by generation since its start (connecting included): {r['server_gc_ms']} ms"
            if "server_gc_ms" in r
            else ""
        )
        + "\n"
        f"[{name}] client CPU while publishing: viewers {r['client_cores']:.2f} cores "
        f"({', '.join(f'{c:.2f}' for c in r['client_cores_each'])} per process; longest collector pause "
        f"{r['client_gc_ms']:.0f} ms), publisher "
        f"{r['publisher_cores']:.2f} cores",
        flush=True,
    )
    if r["page_load_ms"] is not None:
        if math.isnan(r["page_load_ms"]):
            print(f"[{name}] tracker page load: did not complete", flush=True)
        else:
            print(f"[{name}] tracker page load until live (Chromium, loopback): median {r['page_load_ms']:,.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--baseline",
        choices=("plain", "flask-gevent", "both", "none"),
        default="plain",
        help="after ours: python-socketio's asyncio server (plain), the same on Flask-SocketIO and gevent, or both",
    )
    parser.add_argument("--client-procs", type=int, default=1, help="processes the viewers are spread over")
    parser.add_argument(
        "--ours",
        choices=("worker", "gateway", "both"),
        default="both",
        help="viewers on a worker's own sockets, on the push gateway (tf push), or both, one after the other",
    )
    args = parser.parse_args()
    runs = {"worker": run_ours, "gateway": run_gateway}
    ours = {}
    for name in runs if args.ours == "both" else (args.ours,):
        ours[name] = runs[name](args)
        report(name, ours[name])
    if args.baseline == "none":
        return
    frame_bytes = round(next(iter(ours.values()))["frame_bytes"])
    for name in ("plain", "flask-gevent") if args.baseline == "both" else (args.baseline,):
        base = run_plain(args, frame_bytes, BASELINES[name])
        report(name, base)
        for mine, r in ours.items():
            ratio = lambda key, b=base, r=r: r[key] / b[key] if b[key] else math.nan  # noqa: E731
            print(
                f"{mine} / {name}: p50 x{ratio('p50_ms'):.2g}, p99 x{ratio('p99_ms'):.2g}, server CPU "
                f"x{ratio('server_cores'):.2g}, memory per viewer x{ratio('kb_per_viewer'):.2g}, connect "
                f"x{ratio('connect_s'):.2g}",
                flush=True,
            )


if __name__ == "__main__":
    main()
