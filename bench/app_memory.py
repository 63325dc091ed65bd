"""App memory over a month of plant time: does a worker's RSS level off, or grow with history?

    python bench/app_memory.py [--days 30] [--seed 7] [--out memory.json]

Starts a private redis-server and ``python app.py --redis-url … --no-emulator`` on it (a worker
as it runs beside a standalone plant), then feeds it the default plant one simulated day at a
time with ``python -m line_emulator --redis-url … --fast --duration 1d`` (each run resumes the
stream where the last ended). After each day it waits until the worker has recorded every
event of the stream (``/ready``), then samples the worker's resident set size (VmRSS).
Reported: RSS after each day, and the last day's RSS against day 3's (goal: within +20 %).

The worker consumes as fast as it can: the day-at-a-time feed keeps the stream's trimmed length
(1,000,000 entries) from overtaking a slow reader.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bus_throughput import start_redis

from support import RunningApp

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def published(client: redis.Redis) -> int:
    """Events ever appended to the stream (its trimmed length is capped)."""
    return int(client.xinfo_stream("tf:events")["entries-added"])


def recorded(base_url: str) -> int:
    ready = requests.get(f"{base_url}/ready", timeout=60).json()
    return int(ready["parts"]["history"]["recorded"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="write the samples as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tf-memory-"))
    redis_proc, url = start_redis(str(work), appendonly=False)  # the bench measures the app, not Redis
    client = redis.Redis.from_url(url)
    app = None
    samples: list[dict] = []
    try:
        # Day 1 is published before the worker starts, so it begins on a stream that holds a plant.
        for day in range(1, args.days + 1):
            feed = [sys.executable, "-m", "line_emulator", "--redis-url", url, "--fast", "--duration", "1d"]
            feed += ["--seed", str(args.seed)] + (["--start", START.isoformat()] if day == 1 else [])
            started = time.monotonic()
            subprocess.run(feed, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            emitted_s = time.monotonic() - started
            if app is None:
                app = RunningApp("--redis-url", url, "--no-emulator", data_dir=work / "app", tracking_links=False)
            target = published(client)
            started = time.monotonic()
            while recorded(app.base_url) < target:
                time.sleep(1.0)
            sample = {
                "day": day,
                "events": target,
                "rss_mb": round(rss_mb(app.proc.pid), 1),
                "emulate_s": round(emitted_s, 1),
                "catch_up_s": round(time.monotonic() - started, 1),
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
    finally:
        if app is not None:
            app.stop()
        redis_proc.terminate()
        redis_proc.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    base = next((s for s in samples if s["day"] == 3), samples[0])
    last = samples[-1]
    growth = last["rss_mb"] / base["rss_mb"] - 1
    summary = {"day3_rss_mb": base["rss_mb"], "last_rss_mb": last["rss_mb"], "growth_after_day3": round(growth, 3)}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({"samples": samples, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
