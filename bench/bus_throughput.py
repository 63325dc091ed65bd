"""Bus throughput and latency: the in-memory bus and Redis Streams on a private redis-server.

    python bench/bus_throughput.py [--events 200000] [--repeat 3]

Medians of --repeat runs. Baselines in the same run: sequential XADD (one round trip per event)
for the batched Redis publish; a plain Python list for the in-memory bus. Latency: a publisher
thread paced at 2,000 events/s, a consumer in blocking reads, each event's publish-to-receive
time. Memory: Redis used_memory per retained event after 100,000 events (or --events, if fewer).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.bus import Bus
from streams.codec import to_json
from streams.events import StationEntered
from streams.memory import MemoryBus
from streams.redis_streams import RedisStreamsBus

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def make_events(n: int) -> list[StationEntered]:
    return [
        StationEntered(
            id=f"b-{i}",
            source="/bench/ac1",
            time=T0 + timedelta(milliseconds=i),
            unit_code=f"AC2601-AC1-{i % 99999:05d}",
            line_id="ac1",
            station_id="brazing",
        )
        for i in range(n)
    ]


def drain(bus: Bus, limit: int = 5000) -> int:
    count, after = 0, None
    while True:
        batch = bus.read(after, limit=limit)
        if not batch:
            return count
        count += len(batch)
        after = batch[-1][0]


def start_redis(folder: str, appendonly: bool = True) -> tuple[subprocess.Popen, str]:
    """A private redis-server on a free port (append-only file on unless asked); returns it and its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not on PATH")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "yes" if appendonly else "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def rate(n: int, fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return n / (time.perf_counter() - started)


def throughput(url: str, stream: str, events: list[StationEntered], encoded: list[str]) -> dict[str, float]:
    """One run of every throughput measurement (events per second), on fresh buses."""
    n = len(events)
    out: dict[str, float] = {}
    bus = MemoryBus()
    out["mem_pub"] = rate(n, lambda: [bus.publish_many(events[i : i + 1000]) for i in range(0, n, 1000)])
    out["mem_read"] = rate(n, lambda: drain(bus))
    plain: list[StationEntered] = []

    def plain_list() -> int:
        plain.extend(events)
        return sum(1 for _ in plain)

    out["list"] = rate(n, plain_list)

    rbus = RedisStreamsBus(url, stream=stream)
    out["redis_pipe"] = rate(n, lambda: [rbus.publish_many(events[i : i + 500]) for i in range(0, n, 500)])
    out["redis_read"] = rate(n, lambda: drain(rbus))
    out["redis_json"] = rate(n, lambda: [rbus.publish_json(encoded[i : i + 500]) for i in range(0, n, 500)])
    sample = events[:20_000]
    seq = RedisStreamsBus(url, stream=f"{stream}:seq")
    out["redis_seq"] = rate(len(sample), lambda: [seq.publish(e) for e in sample])
    rbus.close()
    seq.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    events = make_events(args.events)
    med = statistics.median
    results: dict[str, list[float]] = {
        k: [] for k in ("mem_pub", "mem_read", "list", "redis_pipe", "redis_json", "redis_seq", "redis_read")
    }
    encoded = [to_json(e) for e in events]
    with tempfile.TemporaryDirectory() as folder:
        proc, url = start_redis(folder)
        try:
            for run in range(args.repeat):
                for name, value in throughput(url, f"bench:{run}", events, encoded).items():
                    results[name].append(value)

            # Latency at 2,000 events/s: publish one at a time on a steady beat, receive in blocking reads.
            lat_bus = RedisStreamsBus(url, stream="bench:latency")
            sent: dict[str, float] = {}
            received: list[float] = []
            stop = threading.Event()

            def consume() -> None:
                reader = RedisStreamsBus(url, stream="bench:latency")
                after = (
                    reader._redis.xinfo_stream("bench:latency")["last-generated-id"].decode()
                    if reader._redis.exists("bench:latency")
                    else "0-0"
                )
                while not stop.is_set():
                    for offset, event in reader.read(after, block_s=0.2):
                        received.append(time.perf_counter() - sent[event.id])
                        after = offset

            consumer = threading.Thread(target=consume)
            consumer.start()
            time.sleep(0.3)
            beat = 1 / 2000
            next_at = time.perf_counter()
            for event in events[:20_000]:  # 10 s at 2,000 events/s
                while time.perf_counter() < next_at:
                    pass
                sent[event.id] = time.perf_counter()
                lat_bus.publish(event)
                next_at += beat
            time.sleep(0.5)
            stop.set()
            consumer.join()

            client = redis.Redis.from_url(url)
            client.flushall()
            base = client.info("memory")["used_memory"]
            mem_bus = RedisStreamsBus(url, stream="bench:memory")
            retained = min(100_000, len(events))
            for i in range(0, retained, 500):
                mem_bus.publish_many(events[i : min(i + 500, retained)])
            per_event = (client.info("memory")["used_memory"] - base) / retained
        finally:
            proc.terminate()
            proc.wait()

    latencies_ms = sorted(x * 1000 for x in received)
    p = lambda q: latencies_ms[int(q * (len(latencies_ms) - 1))]  # noqa: E731
    print(f"{args.events:,} events per run, medians of {args.repeat}")
    print(
        f"memory bus: publish {med(results['mem_pub']):,.0f}/s, read {med(results['mem_read']):,.0f}/s "
        f"(plain list baseline {med(results['list']):,.0f}/s)"
    )
    print(
        f"redis: batched publish of encoded events {med(results['redis_json']):,.0f}/s; "
        f"encode + publish {med(results['redis_pipe']):,.0f}/s; sequential XADD (baseline) "
        f"{med(results['redis_seq']):,.0f}/s ({med(results['redis_json']) / med(results['redis_seq']):.1f}x); "
        f"read + decode {med(results['redis_read']):,.0f}/s"
    )
    print(
        f"redis latency XADD -> consumer at 2,000 events/s: p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms "
        f"({len(latencies_ms):,} events)"
    )
    print(f"redis memory per retained event: {per_event:,.0f} bytes ({retained:,} retained)")


if __name__ == "__main__":
    main()
