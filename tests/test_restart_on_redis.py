"""Restarts on a shared Redis stream: the standalone emulator resumes it; workers do not re-read it.

A real redis-server per test (free port, its own folder).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
import redis

from app import StartError, create_app
from config import Settings
from factory.history.writer import Recorder, recorded_offsets
from factory.layout import load_plant
from redis_server import RedisServer
from streams import events as ev
from streams.codec import from_json
from streams.site_streams import SiteStreamsBus
from support import ROOT

START = "2026-03-02T02:00:00Z"  # 10:00 at the Chinese sites: lines at work


@pytest.fixture
def server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def _emulate(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "line_emulator", "--redis-url", url, "--fast", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _stream(url: str) -> list[ev.Event]:
    return [from_json(fields[b"e"]) for _, fields in redis.Redis.from_url(url).xrange("tf:events")]


def test_a_restarted_emulator_continues_the_plant_the_stream_holds(server):
    first = _emulate(server.url, "--seed", "4", "--start", START, "--duration", "1h")
    assert first.returncode == 0, first.stderr
    before = _stream(server.url)
    second = _emulate(server.url, "--seed", "4", "--duration", "1h")
    assert second.returncode == 0, second.stderr
    assert "resuming the plant" in second.stderr
    events = _stream(server.url)
    later = events[len(before) :]
    assert later, "the second run emitted nothing"

    ids = Counter((e.source, e.id) for e in events)
    assert max(ids.values()) == 1  # no id twice
    codes = Counter(e.unit_code for e in events if isinstance(e, ev.OrderPlaced))
    assert max(codes.values()) == 1  # no unit code twice
    tokens = Counter(e.tracking_token for e in events if isinstance(e, ev.OrderPlaced))
    assert max(tokens.values()) == 1
    line_times = [e.time for e in before if getattr(e, "line_id", None)]
    assert min(e.time for e in later) >= max(line_times)  # the clock went on, not back
    # Units that were under way when the first run stopped are finished by the second.
    placed_first = {e.unit_code for e in before if isinstance(e, ev.OrderPlaced)}
    done_first = {e.unit_code for e in before if isinstance(e, (ev.UnitCompleted, ev.UnitScrapped))}
    done_later = {e.unit_code for e in later if isinstance(e, (ev.UnitCompleted, ev.UnitScrapped))}
    assert (placed_first - done_first) & done_later
    assert not {e.unit_code for e in later if isinstance(e, ev.OrderPlaced)} & placed_first


def test_an_emulator_start_before_what_the_stream_holds_is_refused(server):
    assert _emulate(server.url, "--seed", "4", "--start", START, "--duration", "30m").returncode == 0
    again = _emulate(server.url, "--seed", "4", "--start", START, "--duration", "30m")
    assert again.returncode == 2
    assert "already holds" in again.stderr and "--start" in again.stderr


def _worker(tmp_path, url: str, **kwargs):
    return create_app(Settings(emulator=False, data_dir=tmp_path / "worker", redis_url=url, **kwargs))


def _record_all(svc) -> Recorder:
    sources = {"events": svc.bus, "control": svc.control}
    recorder = Recorder(svc.history, sources, start_after=recorded_offsets(svc.history, sources))
    while recorder.step():
        pass
    return recorder


def test_a_worker_reads_on_from_its_history_and_reset_forgets_the_retained_stream(server, tmp_path):
    assert _emulate(server.url, "--seed", "5", "--start", START, "--duration", "30m").returncode == 0
    held = redis.Redis.from_url(server.url).xlen("tf:events")
    svc = _worker(tmp_path, server.url)
    assert svc.live.events_read == held  # a new history: the whole stream is news
    recorder = _record_all(svc)
    assert recorder.recorded == held
    tail = svc.bus.tail()
    svc.bus.close()

    again = _worker(tmp_path, server.url)
    assert again.live.offsets["events"] == tail
    assert again.live.events_read == 0  # it read on from where its history ends, not the stream again
    assert again.live.state.units == svc.live.state.units  # ... and knows the same plant
    again.bus.close()

    reset = _worker(tmp_path, server.url, reset=True)
    assert reset.history.count() == 0
    assert reset.live.events_read == 0 and not reset.live.state.units  # the old run stays out
    assert _record_all(reset).recorded == 0
    reset.bus.close()


def _site_streams(url: str) -> dict[str, list[ev.Event]]:
    client = redis.Redis.from_url(url)
    keys = sorted(k.decode() for k in client.scan_iter("tf:events:*") if client.type(k) == b"stream")
    return {key: [from_json(fields[b"e"]) for _, fields in client.xrange(key)] for key in keys}


def test_a_stream_per_site_carries_the_enterprise_through_restarts_of_emulator_and_worker(server, tmp_path):
    first = _emulate(server.url, "--stream-per-site", "--seed", "6", "--start", START, "--duration", "30m")
    assert first.returncode == 0, first.stderr
    streams = _site_streams(server.url)
    assert not redis.Redis.from_url(server.url).exists("tf:events")  # nothing on the single stream
    plant = load_plant(ROOT / "factory.yaml")
    for key, events in streams.items():
        site = key.rpartition(":")[2]
        assert {plant.site_of_event(e) or "enterprise" for e in events} == {site}, key  # each site's own events
    working = [key for key, events in streams.items() if events]
    assert len(working) >= 4, working  # the enterprise's sites at work at 10:00 Chinese time

    second = _emulate(server.url, "--seed", "6", "--duration", "30m")  # no flag: follows what the Redis carries
    assert second.returncode == 0, second.stderr
    assert "resuming the plant" in second.stderr
    events = [e for stream in _site_streams(server.url).values() for e in stream]
    assert max(Counter((e.source, e.id) for e in events).values()) == 1  # no event twice
    assert max(Counter(e.unit_code for e in events if isinstance(e, ev.OrderPlaced)).values()) == 1

    svc = _worker(tmp_path, server.url)  # no flag either
    assert isinstance(svc.bus, SiteStreamsBus)
    while svc.live.read_once():
        pass  # what serve() does before it listens
    assert svc.live.events_read == len(events)
    assert _record_all(svc).recorded == len(events)
    assert len({line.site_id for line in plant.lines if svc.live.state.lines[line.id].active}) >= 4
    svc.bus.close()
    again = _worker(tmp_path, server.url)
    assert again.live.read_once() == 0 and again.live.events_read == 0  # read on from where its history ends
    assert again.live.state.units == svc.live.state.units
    assert _record_all(again).recorded == 0  # nothing recorded twice
    again.bus.close()
    with pytest.raises(StartError, match="with --stream-per-site"):
        _worker(tmp_path / "other", server.url, stream_per_site=False)
