"""The history's backing store goes away mid-run: a full disk, a dead Redis.

/ready must say so within seconds, nothing acknowledged may be lost, and recording must catch
up by itself once the store is back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import redis
import requests

from factory.history import open_history
from factory.layout import load_plant
from line_emulator.cli import seeded_tokens
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from redis_server import RedisServer
from streams.codec import to_dict
from support import ROOT, RunningApp

KEY = "outage-key-0123456789abcdef"


def _ready(app) -> dict:
    return requests.get(f"{app.base_url}/ready", timeout=60).json()


def _wait(predicate, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    return predicate()


def _events(hours: float, seed: int):
    plant = load_plant(ROOT / "factory.yaml")
    out = []
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours + 0.1)
    run_fast(PlantModel(plant, out.append, start, seed=seed, new_token=seeded_tokens(seed)), hours * 3600)
    return out


def _post(app, events) -> None:
    body = b"\n".join(orjson.dumps(to_dict(e)) for e in events)
    answer = requests.post(
        f"{app.base_url}/api/events",
        data=body,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-ndjson"},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text[:500]  # acknowledged: from here on it must not be lost


def _stored_ids(data_dir: Path) -> set[tuple[str, str]]:
    history = open_history(data_dir / "history.duckdb", load_plant(ROOT / "factory.yaml"))
    try:
        return {tuple(row) for row in history.query("SELECT source, id FROM events")}
    finally:
        history.close()


def _stream_ids(client) -> set[tuple[str, str]]:
    return {(doc["source"], doc["id"]) for doc in (orjson.loads(f[b"e"]) for _, f in client.xrange("tf:events"))}


@pytest.fixture
def small_disk(tmp_path):
    """A 48 MB tmpfs for the data directory (mounting needs root; CI runs the tests as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Take every free byte of the file system ``folder`` is on."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_reported_and_recording_catches_up_when_space_returns(small_disk):
    data = small_disk / "data"
    app = RunningApp("--no-emulator", "--api-key", KEY, data_dir=data, tracking_links=False)
    try:
        events = _events(3, seed=21)
        third = len(events) // 3
        _post(app, events[:third])
        assert _wait(lambda: _ready(app)["parts"]["history"]["recorded"] >= third)

        filler = _fill(small_disk)
        _post(app, events[third : 2 * third])  # taken and held in memory while the disk is full
        failing = _wait(lambda: "history" in _ready(app)["failing"] and _ready(app))
        assert failing, "a full disk did not show on /ready"
        assert _ready(app)["parts"]["history"]["error"]

        filler.unlink()
        _post(app, events[2 * third :])
        assert _wait(lambda: _ready(app)["status"] == "ready"), _ready(app)
        assert _wait(lambda: _ready(app)["parts"]["history"]["recorded"] >= len(events)), _ready(app)
    finally:
        app.stop()
    assert {(e.source, e.id) for e in events} <= _stored_ids(data)


def test_a_dead_redis_is_reported_and_nothing_it_acknowledged_is_lost(tmp_path):
    server = RedisServer(tmp_path / "redis")
    app = RunningApp("--redis-url", server.url, "--no-emulator", data_dir=tmp_path / "data", tracking_links=False)
    plant = subprocess.Popen(  # a finite plant on the stream: 3 simulated hours in about 12 s
        [sys.executable, "-m", "line_emulator", "--redis-url", server.url, "--duration", "3h", "--speed", "900"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = redis.Redis.from_url(server.url)
        assert _wait(lambda: client.xlen("tf:events") > 1000)
        server.kill()
        assert _wait(lambda: "bus" in _ready(app)["failing"], 60), _ready(app)
        time.sleep(2)  # the plant holds its events and retries meanwhile
        server.start()
        assert plant.wait(300) == 0, plant.stderr.read() if plant.stderr else ""
        assert _wait(lambda: _ready(app)["status"] == "ready"), _ready(app)

        def settled() -> bool:  # the writer took everything and has nothing more to take
            before = _ready(app)["parts"]["history"]["recorded"]
            time.sleep(2)
            return before == _ready(app)["parts"]["history"]["recorded"] >= len(_stream_ids(client))

        assert _wait(settled), _ready(app)
    finally:
        if plant.poll() is None:
            plant.kill()
        app.stop()
    stream = _stream_ids(client)  # a batch the plant re-sent after the outage holds copies: ids count once
    server.stop()
    assert len(stream) > 1000
    assert stream <= _stored_ids(tmp_path / "data")  # every event Redis acknowledged is in the history
