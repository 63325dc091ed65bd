"""Event -> wall-screen latency and main-thread time per applied frame, at a background event rate.

    python bench/wall_latency.py [--rate 2000] [--baseline-rate 200] [--seconds 60]

A private redis-server carries the stream. The app runs as its own process (``--redis-url
--no-emulator``). Background load: simulated days of the default plant (generated first, as
fast as possible) are replayed into the stream at exactly ``--rate`` events/s, in batches every
50 ms, each event re-stamped with the wall clock. This process also moves one probe unit along
line ac1 (one station every 0.5 s) and records when each move was published; headless Chromium
shows the ac1 floor screen, and a MutationObserver notes when the probe's chip appears at its
new station. Latency = chip seen (browser clock) - move published (same machine clock), so it
includes the stream, the projection, the frame coalescing (--frame-interval), Socket.IO, Dash's
clientside callback and the page's renderer (assets/tf-floor.js). Main-thread time per frame
= Chromium's TaskDuration over the window (DevTools Performance metrics) / floor frames
received over the WebSocket. The same run at ``--baseline-rate`` comes first, for a ratio on
this noisy machine.

Per frame (p50/p95/max): a Chromium trace (DevTools timeline categories) of the same window.
An init script of this benchmark (not the page's code) marks each floor frame as it arrives
(``performance.mark`` in the WebSocket's message task, before Socket.IO's own handler). Frame
k's main-thread time is the busy time of the renderer's main thread (union of its top-level
tasks) from the start of the task that received frame k to the start of the one that received
frame k + 1: everything the page does because of that frame (the message, Dash's callback,
React's render, style, layout, paint) and whatever else ran meanwhile (timers, GC). The same
windows give script, style, layout, paint and GC time per frame. ``--profile`` adds a sampling
CPU profile of the page at the loaded rate and prints where its script time goes.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import itertools
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bus_throughput import start_redis
from wall_soak import launch_chromium

from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev
from streams.redis_streams import RedisStreamsBus
from support import RunningApp

DEBUG = False  # print each probe move and its latency
WATCH = """() => {
  window.__probe = [];
  const noted = new Set();
  new MutationObserver(() => {
    document.querySelectorAll('.unit-chip[title^="PROBE-"]').forEach((chip) => {
      const where = chip.title + '@' + chip.closest('.station-tile').dataset.station;
      if (!noted.has(where)) { noted.add(where); window.__probe.push([where, Date.now()]); }
    });
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


MARK = "tf-floor-frame"
MARK_FRAMES = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.startsWith('42["floor"')) performance.mark('MARK');
      });
    }
  };
})();""".replace("MARK", MARK)
TRACE_CATEGORIES = ",".join(
    ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing", "v8.execute"]
)
KINDS = {  # trace event names on the main thread -> what they are
    "script": {"FunctionCall", "EvaluateScript", "RunMicrotasks", "TimerFire", "FireAnimationFrame", "EventDispatch",
               "v8.callFunction", "v8.run", "V8.Execute"},
    "style": {"UpdateLayoutTree", "RecalculateStyles", "ParseAuthorStyleSheet"},
    "layout": {"Layout", "UpdateLayerTree"},
    "paint": {"Paint", "PrePaint", "Layerize", "PaintImage", "CompositeLayers", "Commit"},
    "gc": {"MinorGC", "MajorGC", "V8.GCScavenger", "V8.GCFinalizeMC", "BlinkGC.AtomicPhase"},
}  # fmt: skip


def union_ms(spans: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Return the time (ms) covered by ``spans`` (start, end in µs) within [lo, hi)."""
    total, reach = 0.0, lo
    for start, end in sorted(spans):
        start, end = max(start, reach), min(end, hi)
        if end > start:
            total += end - start
            reach = end
    return total / 1000


def trace_events(cdp, page) -> list[dict]:
    """Stop the trace started on ``cdp`` and return its events."""
    done: list[dict] = []
    cdp.on("Tracing.tracingComplete", lambda params: done.append(params))
    cdp.send("Tracing.end")
    deadline = time.monotonic() + 120
    while not done and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    if not done:
        raise RuntimeError("the trace did not complete")
    chunks, handle = [], done[0]["stream"]
    while True:
        answer = cdp.send("IO.read", {"handle": handle, "size": 1 << 22})
        chunks.append(answer["data"])
        if answer.get("eof"):
            break
    cdp.send("IO.close", {"handle": handle})
    doc = json.loads("".join(chunks))
    return doc["traceEvents"] if isinstance(doc, dict) else doc


def per_frame_ms(events: list[dict]) -> dict[str, list[float]]:
    """Main-thread time per floor frame, in total and by kind (see the module's docstring)."""
    marks = [e for e in events if e.get("name") == MARK and e.get("ph") in ("R", "I", "i", "n", "b", "e")]
    if not marks:
        return {}
    main = (marks[0]["pid"], marks[0]["tid"])
    mine = [e for e in events if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X" and "dur" in e]
    tasks = sorted(
        (e["ts"], e["ts"] + e["dur"]) for e in mine if e["name"] in ("ThreadControllerImpl::RunTask", "RunTask")
    )
    starts = []
    for mark in sorted({m["ts"] for m in marks}):
        before = bisect.bisect_right(tasks, (mark, math.inf)) - 1  # the last task begun by the mark
        starts.append(tasks[before][0] if before >= 0 and tasks[before][1] >= mark else mark)
    spans = {kind: [(e["ts"], e["ts"] + e["dur"]) for e in mine if e["name"] in names] for kind, names in KINDS.items()}
    out: dict[str, list[float]] = {"total": [], **{kind: [] for kind in KINDS}}
    for lo, hi in itertools.pairwise(starts):
        out["total"].append(union_ms(tasks, lo, hi))
        for kind in KINDS:
            out[kind].append(union_ms(spans[kind], lo, hi))
    return out


def profile_top(profile: dict, top: int = 12) -> list[tuple[str, float]]:
    """Return where a CDP CPU profile's busy samples went: by script file, then the top functions.

    Shares are of the samples that were neither idle nor ``(program)`` (the browser's own native
    work outside script: style, layout, paint, IPC); a minified function is named by file:line:column.
    """
    nodes = {n["id"]: n for n in profile["nodes"]}
    hits: dict[int, int] = {}
    for sample in profile["samples"]:
        hits[sample] = hits.get(sample, 0) + 1
    by_name: dict[str, int] = {}
    by_file: dict[str, int] = {}
    for node_id, count in hits.items():
        frame = nodes[node_id]["callFrame"]
        name = frame["functionName"] or "(anonymous)"
        where = frame["url"].rsplit("/", 1)[-1].split("?")[0]
        if name in ("(idle)", "(program)"):
            continue
        key = f"{name} {where}:{frame['lineNumber'] + 1}:{frame['columnNumber'] + 1}" if where else name
        by_name[key] = by_name.get(key, 0) + count
        file = where or "(native: DOM, timers, GC)"
        by_file[file] = by_file.get(file, 0) + count
    busy = sum(by_name.values()) or 1
    files = sorted(((f"file {k}", c / busy) for k, c in by_file.items()), key=lambda kc: -kc[1])[:6]
    names = sorted(((k, c / busy) for k, c in by_name.items()), key=lambda kc: -kc[1])[:top]
    program = sum(c for n, c in hits.items() if nodes[n]["callFrame"]["functionName"] == "(program)")
    return [("(program), beside the script samples", program / busy), *files, *names]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def plant_events(count: int) -> list[ev.Event]:
    """Return at least ``count`` events of the default plant (whole simulated days, ~110k each)."""
    events: list[ev.Event] = []
    model = PlantModel(load_plant(ROOT / "factory.yaml"), events.append, datetime.now(UTC), seed=3)
    days = 0
    while len(events) < count:
        days += 1
        run_fast(model, days * 86400)
    return events


def load(bus: RedisStreamsBus, events: list[ev.Event], rate: float, stop: threading.Event) -> None:
    """Publish ``events`` at ``rate`` per second (batches every 50 ms), stamped with the wall clock."""
    per_batch, i, next_at = max(1, round(rate / 20)), 0, time.monotonic()
    while not stop.is_set() and i < len(events):
        now = datetime.now(UTC)
        bus.publish_many([dataclasses.replace(e, time=now) for e in events[i : i + per_batch]])
        i += per_batch
        next_at += 0.05
        time.sleep(max(0.0, next_at - time.monotonic()))


def run(
    browser,
    rate: float,
    seconds: float,
    folder: Path,
    background: list[ev.Event],
    app_args: tuple[str, ...] = (),
    size: tuple[int, int] = (1920, 1080),
    profile: bool = False,
) -> dict:
    proc, url = start_redis(str(folder))
    loader = app = None
    try:
        app = RunningApp(
            "--redis-url",
            url,
            "--no-emulator",
            "--api-key",
            "bench-key-0123456789abcdef",
            *app_args,
            data_dir=folder,
            tracking_links=False,
        )
        stop = threading.Event()
        loader = threading.Thread(target=load, args=(RedisStreamsBus(url), background, rate, stop), daemon=True)
        loader.start()
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        page.add_init_script(MARK_FRAMES)
        frames = []
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda f: frames.append(time.monotonic()) if '"floor"' in str(f)[:40] else None
            ),
        )
        page.goto(app.kiosk_url)  # signs in as a wall screen
        page.goto(app.base_url + "/floor?line=ac1")
        page.wait_for_selector(".freshness.live", timeout=15_000)
        page.evaluate(WATCH)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        time.sleep(5)  # the replayed plant fills the line

        bus = RedisStreamsBus(url)
        stations = [s.id for s in load_plant(ROOT / "factory.yaml").line("ac1").stations]
        published: dict[str, float] = {}
        r = redis.Redis.from_url(url)
        length_before = r.xlen(bus.stream)
        cdp.send("Tracing.start", {"categories": TRACE_CATEGORIES, "transferMode": "ReturnAsStream"})
        if profile:
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 200})
            cdp.send("Profiler.start")
        metrics_before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        frames_before, started, n = len(frames), time.monotonic(), 0
        while time.monotonic() - started < seconds:
            unit = f"PROBE-{n // len(stations):05d}"
            station = stations[n % len(stations)]
            t = datetime.now(UTC)
            if n % len(stations) == 0:
                bus.publish(
                    ev.OrderPlaced(
                        id=f"probe-p-{n}",
                        source="/bench/probe",
                        time=t,
                        order_id=f"SO-{unit}",
                        unit_code=unit,
                        tracking_token=f"probe-token-{n:08d}-abcdef",
                        line_id="ac1",
                        product="air_conditioner",
                        options={"model": "AS12"},
                    )
                )
            bus.publish(
                ev.StationEntered(
                    id=f"probe-{n}",
                    source="/bench/probe",
                    time=t,
                    unit_code=unit,
                    line_id="ac1",
                    station_id=station,
                    visit=1,
                )
            )
            published[f"{unit}@{station}"] = time.time() * 1000
            n += 1
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        time.sleep(1.5)
        metrics_after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        top = profile_top(cdp.send("Profiler.stop")["profile"]) if profile else []
        frame_ms = per_frame_ms(trace_events(cdp, page))
        frame_count = len(frames) - frames_before
        seen = dict(page.evaluate("() => window.__probe"))
        latencies = [seen[key] - t for key, t in published.items() if key in seen]
        if DEBUG:
            print({k: (round(seen[k] - t) if k in seen else None) for k, t in published.items()})
        events_per_s = (r.xlen(bus.stream) - length_before) / (elapsed + 1.5)
        page.close()
        per_frame = {
            k: (metrics_after[k] - metrics_before[k]) / max(frame_count, 1) * 1000
            for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
        }
        return {
            "rate_target": rate,
            "seconds": round(elapsed, 1),
            "probes": len(published),
            "seen": len(latencies),
            "p50_ms": statistics.median(latencies),
            "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies),
            "frames_per_s": frame_count / elapsed,
            "main_thread_ms_per_frame": per_frame,
            "traced_frames": len(frame_ms.get("total", [])),
            "per_frame_p50": {k: statistics.median(v) for k, v in frame_ms.items() if v},
            "per_frame_p95": {k: percentile(v, 95) for k, v in frame_ms.items() if v},
            "per_frame_max": {k: max(v) for k, v in frame_ms.items() if v},
            "profile_top": top,
            "events_per_s": events_per_s,
        }
    finally:
        if loader is not None:
            stop.set()
            loader.join(10)
        if app is not None:
            app.stop()
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--baseline-rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--frame-interval", type=float, default=None, help="the app's --frame-interval (default: its own)"
    )
    parser.add_argument("--size", default="1920x1080", help="the browser window, WIDTHxHEIGHT (e.g. 3840x2160)")
    parser.add_argument("--profile", action="store_true", help="also profile the page's script at --rate")
    parser.add_argument(
        "--history",
        choices=("duckdb", "postgresql"),
        default="duckdb",
        help="the app's history: its DuckDB file (default) or a PostgreSQL server the benchmark starts",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    app_args = ("--frame-interval", str(args.frame_interval)) if args.frame_interval else ()
    from playwright.sync_api import sync_playwright

    results, background = [], plant_events(round(args.rate * (args.seconds + 15)))
    with sync_playwright() as p:
        browser = launch_chromium(p)
        postgres = None
        if args.history == "postgresql":
            from postgres_server import PostgresServer

            postgres = PostgresServer(durable=True)
        for n, rate in enumerate((args.baseline_rate, args.rate)):
            history = ("--history-url", postgres.create_database(f"bench{n}")) if postgres else ()
            with tempfile.TemporaryDirectory() as folder:
                result = run(browser, rate, args.seconds, Path(folder), background, (*app_args, *history),
                             (width, height), profile=args.profile and rate == args.rate)  # fmt: skip
            results.append(result)
            mt = result["main_thread_ms_per_frame"]
            print(
                f"{result['events_per_s']:7.0f} events/s: latency p50 {result['p50_ms']:.0f} ms, p95 "
                f"{result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms "
                f"({result['seen']}/{result['probes']} moves seen); {result['frames_per_s']:.1f} frames/s; main thread "
                f"{mt['TaskDuration']:.1f} ms/frame (script {mt['ScriptDuration']:.1f}, layout "
                f"{mt['LayoutDuration']:.1f}, style {mt['RecalcStyleDuration']:.1f})",
                flush=True,
            )
            p50, p95, most = result["per_frame_p50"], result["per_frame_p95"], result["per_frame_max"]
            print(
                f"         at {args.size}, per frame over {result['traced_frames']} traced frames: main thread p50 "
                f"{p50.get('total', math.nan):.1f} ms, p95 {p95.get('total', math.nan):.1f} ms, max "
                f"{most.get('total', math.nan):.1f} ms; p95 by kind: "
                + ", ".join(f"{k} {p95[k]:.1f}" for k in ("script", "style", "layout", "paint", "gc") if k in p95),
                flush=True,
            )
            for name, share in result["profile_top"]:
                print(f"         {share * 100:5.1f} %  {name}", flush=True)
        browser.close()
        if postgres is not None:
            postgres.close()
    base, loaded = results
    task = loaded["main_thread_ms_per_frame"]["TaskDuration"] / base["main_thread_ms_per_frame"]["TaskDuration"]
    p95 = loaded["per_frame_p95"].get("total", math.nan) / base["per_frame_p95"].get("total", math.nan)
    print(
        f"ratio at {args.rate:g} vs {args.baseline_rate:g} events/s: p99 x{loaded['p99_ms'] / base['p99_ms']:.2f}, "
        f"main thread per frame x{task:.2f}, per-frame p95 x{p95:.2f}"
    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
