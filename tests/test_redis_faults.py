"""Redis killed mid-stream: the emulator holds its events, retries, resumes; nothing lost or counted twice."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from datetime import datetime

import redis

from factory.projector import apply
from factory.state import empty_state
from line_emulator.cli import seeded_tokens
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from redis_server import RedisServer
from streams.codec import from_json
from support import ROOT

START = "2026-03-02T00:00:00+00:00"
DURATION_S = 2 * 3600
SPEED = 1200  # 2 simulated hours in 6 s: about 1,500 events/s


def _reference(plant):
    out = []
    model = PlantModel(plant, out.append, datetime.fromisoformat(START), seed=3, new_token=seeded_tokens(3))
    run_fast(model, DURATION_S)
    return out


def _run_ids(events):
    return {e.id.rsplit("-", 2)[1] for e in events}


def _retagged(events, run_id):
    """The events with ``run_id`` in their ids: every start of the emulator tags its ids with a
    fresh run id (so two starts never share ids), which the in-process reference cannot know."""
    return [
        dataclasses.replace(e, id="-".join([e.id.split("-", 1)[0], run_id, e.id.rsplit("-", 1)[1]])) for e in events
    ]


def _fold(plant, events):
    state = empty_state(plant)
    for e in events:
        apply(state, e)
    state.events_applied = 0
    return state


def test_kill_9_of_redis_mid_stream_loses_nothing(plant, tmp_path):
    server = RedisServer(tmp_path)
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "line_emulator",
            "--redis-url",
            server.url,
            "--seed",
            "3",
            "--start",
            START,
            "--duration",
            f"{DURATION_S}s",
            "--speed",
            str(SPEED),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = redis.Redis.from_url(server.url)
        deadline = time.monotonic() + 120  # a generous ceiling: a loaded machine starts slowly
        while client.xlen("tf:events") < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)  # until it is streaming at full speed
        before_kill = client.xlen("tf:events")
        server.kill()
        time.sleep(1.5)  # the emulator holds its events and retries meanwhile
        server.start()
        _, stderr = emulator.communicate(timeout=300)
    finally:
        if emulator.poll() is None:
            emulator.kill()
    try:
        assert emulator.returncode == 0, stderr
        assert before_kill > 1000  # it was streaming at speed when Redis died
        assert "bus unreachable" in stderr and "reachable again" in stderr
        entries = redis.Redis.from_url(server.url).xrange("tf:events")
        got = [from_json(fields[b"e"]) for _, fields in entries]
        expected = _reference(plant)
        assert len(_run_ids(got)) == 1  # one start, one run id
        got = _retagged(got, *_run_ids(expected))
        assert {(e.source, e.id) for e in got} == {(e.source, e.id) for e in expected}  # none lost
        assert _fold(plant, got) == _fold(plant, expected)  # none counted twice
    finally:
        server.stop()
