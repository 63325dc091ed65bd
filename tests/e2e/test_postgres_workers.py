"""One emulator, two app workers, one Redis and one PostgreSQL history: one writer, the same KPIs, a takeover.

Real processes: redis-server, PostgreSQL (tests/postgres_server.py), ``tf emulate`` on Redis and
two ``app.py`` workers with ``--history-url``. One worker writes the shared history, the other
waits; both answer /api/kpis the same; when the writer stops (SIGTERM, or kill -9 on per-site
streams), the other takes over, and in the end every event of the stream is stored exactly once.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest
import redis
import requests
from test_history_contract import same

from redis_server import RedisServer
from support import ROOT, RunningApp

pytestmark = pytest.mark.e2e


def ready(worker: RunningApp) -> dict:
    return requests.get(worker.base_url + "/ready", timeout=30).json()["parts"]["history"]


def api_key(worker: RunningApp) -> str:
    found = re.search(r"API key \(.*\): (\S+)", "".join(worker.output))
    assert found, "".join(worker.output)
    return found.group(1)


def wait_for(condition, timeout_s: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s  # generous: a loaded machine is slow, not wrong
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def stream_length(client: redis.Redis) -> int:
    """The entries of the event stream, on one stream or on one per site."""
    keys = [k for k in client.scan_iter("tf:events*") if client.type(k) == b"stream"]
    return sum(int(client.xlen(k)) for k in keys)


@pytest.mark.parametrize(
    ("ending", "layout"),
    [("SIGTERM", "--single-stream"), ("kill -9", "--stream-per-site")],
)
def test_two_workers_share_one_history_with_one_writer_and_a_takeover(postgres, tmp_path, ending, layout):
    server = RedisServer(tmp_path / "redis")
    url = postgres.create_database(f"workers_{layout.strip('-').replace('-', '_')}")
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "line_emulator",
            "--redis-url",
            server.url,
            layout,
            "--speed",
            "120",
            "--duration",
            "2d",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[RunningApp] = []
    try:
        client = redis.Redis.from_url(server.url)
        wait_for(lambda: stream_length(client) >= 200, what="events on the stream")
        for name in ("a", "b"):
            args = ("--redis-url", server.url, "--no-emulator", "--history-url", url)
            workers.append(RunningApp(*args, data_dir=tmp_path / name))
        wait_for(lambda: sorted(ready(w)["writer"] for w in workers) == [False, True], what="one writer")
        writer, standby = sorted(workers, key=lambda w: not ready(w)["writer"])
        wait_for(lambda: ready(writer)["recorded"] > 500, what="the writer's first batches")

        # Both read the one history: the same KPIs for a range it holds whole.
        with psycopg.connect(url) as conn:  # the plant's clock; people's actions are on the wall clock
            first, last = conn.execute("SELECT min(time), max(time) FROM events WHERE line_id IS NOT NULL").fetchone()
        # A range the history holds whole: events arrive in time order, so none will fall into it now.
        start, end = first.isoformat() + "Z", (last - timedelta(minutes=10)).isoformat() + "Z"
        answers = [
            requests.get(
                f"{w.base_url}/api/kpis",
                params={"from": start, "to": end},
                headers={"Authorization": f"Bearer {api_key(w)}"},
                timeout=60,
            )
            for w in (writer, standby)
        ]
        assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
        same(answers[0].json(), answers[1].json())
        assert answers[0].json()["enterprise"]["orders_placed"] > 0

        if ending == "SIGTERM":
            writer.stop()  # it flushes, writes a checkpoint and lets go of the writer's lock
        else:
            writer.proc.kill()  # mid-batch, maybe: that transaction never commits, its offsets neither
            writer.proc.wait(30)
        wait_for(lambda: ready(standby)["writer"], what="the takeover")
        wait_for(lambda: ready(standby)["recorded"] > 0, what="the new writer's first batch")
        assert "this worker writes the history now" in "".join(standby.output)

        emulator.terminate()
        emulator.wait(30)
        total = stream_length(client) + client.xlen("tf:control")

        def stored() -> int:
            with psycopg.connect(url) as conn:
                return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])

        wait_for(lambda: stored() == total, what="every event of the stream in the history")
        with psycopg.connect(url) as conn:
            distinct = conn.execute("SELECT count(DISTINCT (source, id)) FROM events").fetchone()[0]
        assert distinct == total  # each once: the takeover read nothing twice and lost nothing
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait(10)
        for worker in workers:
            if worker.proc.poll() is None:
                worker.stop()
        server.stop()
