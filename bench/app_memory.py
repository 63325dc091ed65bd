"""App memory over a month of plant time: does a worker's RSS level off, or grow with history?

    python bench/app_memory.py [--days 30] [--seed 7] [--out memory.json]

Starts a private redis-server and ``python app.py --redis-url … --no-emulator`` on it (a worker
as it runs beside a standalone plant), and one ``python -m line_emulator --redis-url … --fast
--duration <days>d`` that publishes the default plant's month as fast as it can. Each time the
worker has recorded another simulated day (``/ready``: ``recorded_until``), the worker's resident
set size (VmRSS) is sampled. Reported: RSS after each day, and the last day's against day 3's
(goal: within +20 %).

The stream is trimmed (its newest 1,000,000 entries are kept), so a publisher far ahead of a
slow reader would trim events the worker has not read. The bench holds the emulator
(SIGSTOP / SIGCONT) while the worker is more than ``--max-behind`` events behind: the worker
still consumes as fast as it can, and nothing is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from bus_throughput import start_redis

from support import RunningApp

# The plant starts at today's midnight (UTC) and runs ahead of the wall clock, which stamps what
# people do (the accounts made at start): the recorded clock is then the plant's from day 1 on.
START = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def published(client: redis.Redis) -> int:
    """Events ever appended to the stream (its trimmed length is capped)."""
    try:
        return int(client.xinfo_stream("tf:events")["entries-added"])
    except redis.ResponseError:  # no stream yet
        return 0


def history_part(base_url: str) -> dict:
    return requests.get(f"{base_url}/ready", timeout=60).json()["parts"]["history"]


class Hold:
    """Stop the emulator (SIGSTOP) while the worker is more than ``limit`` events behind, go on below a third."""

    def __init__(self, emulator: subprocess.Popen, client: redis.Redis, recorded: list[int], limit: int) -> None:
        self.emulator, self.client, self.recorded, self.limit = emulator, client, recorded, limit
        self.held_s = 0.0

    def run(self) -> None:
        held_since = None
        while self.emulator.poll() is None:
            try:
                behind = published(self.client) - self.recorded[0]
            except redis.RedisError as exc:  # a busy Redis times out now and then: the hold must not end
                print(f"hold: {exc}", file=sys.stderr, flush=True)
                time.sleep(0.5)
                continue
            if held_since is None and behind > self.limit:
                self.emulator.send_signal(signal.SIGSTOP)
                held_since = time.monotonic()
                print(f"hold: held {behind} behind", file=sys.stderr, flush=True)
            elif held_since is not None and behind < self.limit // 3:
                self.emulator.send_signal(signal.SIGCONT)
                print(f"hold: resumed {behind} behind", file=sys.stderr, flush=True)
                self.held_s += time.monotonic() - held_since
                held_since = None
            time.sleep(0.05)


def sample_of(day: int, part: dict, pid: int, began: float, held_s: float) -> dict:
    return {
        "day": day,
        "events": int(part["recorded"]),
        "rss_mb": round(rss_mb(pid), 1),
        "elapsed_s": round(time.monotonic() - began, 1),
        "emulator_held_s": round(held_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-behind", type=int, default=300_000, help="hold the emulator beyond this backlog")
    parser.add_argument("--out", type=Path, default=None, help="write the samples as JSON")
    parser.add_argument("--app-arg", action="append", default=[], help="extra argument for app.py (repeatable)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tf-memory-"))
    redis_proc, url = start_redis(str(work), appendonly=False)  # the bench measures the app, not Redis
    client = redis.Redis.from_url(url)
    feed = [sys.executable, "-m", "line_emulator", "--redis-url", url, "--fast", "--duration", f"{args.days}d"]
    feed += ["--seed", str(args.seed), "--start", START.isoformat()]
    app = RunningApp("--redis-url", url, "--no-emulator", *args.app_arg, data_dir=work / "app", tracking_links=False)
    emulator = subprocess.Popen(feed, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[dict] = []
    began = time.monotonic()
    recorded = [0]  # what the worker said last (its /ready can be slow while it is busy)
    hold = Hold(emulator, client, recorded, args.max_behind)
    threading.Thread(target=hold.run, daemon=True).start()
    try:
        day = 1
        while day <= args.days:
            part = history_part(app.base_url)
            recorded[0] = int(part["recorded"])
            until = datetime.fromisoformat(part["recorded_until"]) if part.get("recorded_until") else None
            if until is not None and until >= START + timedelta(days=day):
                samples.append(sample_of(day, part, app.proc.pid, began, hold.held_s))
                print(json.dumps(samples[-1]), flush=True)
                day += 1
                continue
            if emulator.poll() is not None and published(client) <= recorded[0]:
                if emulator.returncode != 0:
                    raise RuntimeError(f"the emulator stopped with {emulator.returncode}")
                if until is not None:  # the month's last events fall just before its last midnight
                    samples.append(sample_of(day, part, app.proc.pid, began, hold.held_s))
                    print(json.dumps(samples[-1]), flush=True)
                break
            if published(client) - recorded[0] > 1_000_000:
                raise RuntimeError("the stream's trim overtook the worker: the run is not valid")
            time.sleep(1.0)
        if published(client) - recorded[0] > 1_000_000:
            raise RuntimeError("the stream's trim overtook the worker: the run is not valid")
    finally:
        if emulator.poll() is None:
            os.kill(emulator.pid, signal.SIGCONT)
            emulator.terminate()
            emulator.wait(30)
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
