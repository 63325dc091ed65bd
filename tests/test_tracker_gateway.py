"""The customers' push gateway (tf push) as a process of its own, on a real redis-server.

Sockets from python-socketio's client, as a phone's page would open them: the tracker room of a
known token gets its whole view, then patches as the unit moves; anything else is refused. The
gateway's resync answers with the same epoch, unknown tokens count against the client, and a
Redis that goes away and comes back costs frames for that long, not the gateway.
"""

from __future__ import annotations

import queue
import secrets
import time

import pytest
import requests
import socketio

from factory.layout import load_plant
from redis_server import RedisServer
from streams.site_streams import open_redis_events
from support import ROOT, EventFactory, RunningGateway
from web.ratelimit import MISSES_PER_MINUTE

TOKEN = "gatewayToken-0123456789"
OTHER = "otherGatewayToken-0123456789"
APP_ORIGIN = "http://factory.example.test"


@pytest.fixture
def plant_stream(tmp_path):
    server = RedisServer(tmp_path / "redis")
    plant = load_plant(ROOT / "factory.yaml")
    bus = open_redis_events(server.url, [site.id for site in plant.sites], plant.site_of_event, None)
    events = EventFactory()
    bus.publish_many([events.placed(0, "UG1", token=TOKEN), events.placed(1, "UG2", token=OTHER)])
    yield server, bus, events
    server.stop()


class Tracker:
    """One phone's socket: the frames it got, in order."""

    def __init__(self, url: str, auth: object) -> None:
        self.frames: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("order", self.frames.put)
        self.client.connect(url, auth=auth, transports=["websocket"])  # type: ignore[arg-type]

    def next(self, timeout: float = 30.0) -> dict:
        return self.frames.get(timeout=timeout)


def _refused(url: str, auth: object) -> bool:
    try:
        Tracker(url, auth).client.disconnect()
    except socketio.exceptions.ConnectionError:
        return True
    return False


def _upgrade_status(url: str, origin: str) -> int:
    """The HTTP status of a WebSocket handshake from a page of ``origin`` (101: upgraded)."""
    import websocket

    try:
        ws = websocket.create_connection(
            url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", origin=origin, timeout=10
        )
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101


@pytest.fixture
def gateway(plant_stream):
    """``tf push`` on the plant's stream, pages of APP_ORIGIN allowed; stopped after the test."""
    gateway = RunningGateway("--allowed-origin", APP_ORIGIN, redis_url=plant_stream[0].url)
    yield gateway
    gateway.stop()


def test_a_tracker_socket_gets_its_order_then_each_move_and_nothing_else(plant_stream, gateway):
    _server, bus, events = plant_stream
    phone = Tracker(gateway.base_url, {"view": "track", "token": TOKEN})
    whole = phone.next()
    assert whole["v"]["unit_code"] == "UG1" and "b" not in whole  # its own order, whole
    bus.publish(events.entered(2, "UG1", "kitting"))
    patch = phone.next()
    assert (patch["e"], patch["b"], patch["s"]) == (whole["e"], whole["s"], whole["s"] + 1)
    bus.publish(events.entered(3, "UG2", "kitting"))  # another customer's unit: no frame here
    bus.publish(events.exited(4, "UG1", "kitting"))
    assert phone.next()["b"] == patch["s"]  # the next frame is its own unit's, in sequence
    assert phone.frames.empty()

    # A page's resync gets the same room's frame, in the same epoch, and the page's origin may read it.
    answer = requests.get(f"{gateway.base_url}/api/live/order/{TOKEN}", headers={"Origin": APP_ORIGIN}, timeout=10)
    assert answer.status_code == 200 and answer.json()["e"] == whole["e"]
    assert answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert answer.headers["Cache-Control"] == "no-store"
    health = gateway.health()
    assert health["viewers"] == 1
    assert health["gc"]["freezes"] >= 1  # what the start built is out of the full collections' walk
    assert requests.get(f"{gateway.base_url}/healthz", timeout=10).json() == {"status": "ok"}  # no key: no counts

    # Nothing but a known order's tracker: no floor (that needs a session), no guess, no junk.
    url = gateway.base_url
    assert _refused(url, {"view": "floor", "line": "ac1"})
    assert _refused(url, {"view": "track", "token": secrets.token_urlsafe(16)})
    assert _refused(url, {"view": "track", "token": "../" * 10})
    assert _refused(url, ["track", TOKEN])
    assert _upgrade_status(url, "http://elsewhere.example") == 400  # a page of another site
    assert _upgrade_status(url, APP_ORIGIN) == 101  # the workers' pages
    assert gateway.health()["viewers"] == 1
    assert any("room for about" in line for line in gateway.output)  # its open-files limit, raised
    phone.client.disconnect()
    deadline = time.monotonic() + 10
    while gateway.health()["viewers"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.health()["viewers"] == 0
    watcher = Tracker(gateway.base_url, {"view": "track", "token": TOKEN})  # still connected when it stops
    watcher.next()
    started = time.monotonic()
    gateway.stop()
    assert gateway.proc.returncode == 0  # SIGTERM: a clean exit
    assert time.monotonic() - started < 10  # its sockets closed, not waited for


def test_guessing_is_limited_per_client_and_a_redis_outage_only_pauses_frames(plant_stream, gateway):
    server, bus, events = plant_stream
    phone = Tracker(gateway.base_url, {"view": "track", "token": TOKEN})
    whole = phone.next()
    for _ in range(MISSES_PER_MINUTE):
        assert (
            requests.get(f"{gateway.base_url}/api/live/order/{secrets.token_urlsafe(16)}", timeout=10).status_code
            == 404
        )
    assert requests.get(f"{gateway.base_url}/api/live/order/{TOKEN}", timeout=10).status_code == 429
    assert _refused(gateway.base_url, {"view": "track", "token": OTHER})  # the guesser's sockets too

    server.kill()  # mid-stream, as a power cut
    time.sleep(2)
    assert gateway.proc.poll() is None
    server.start()  # its append-only file brings the stream back
    bus.publish(events.entered(2, "UG1", "kitting"))
    frame = phone.next(timeout=60)
    assert (frame["e"], frame["b"]) == (whole["e"], whole["s"])  # the same room, in sequence
    assert gateway.health()["read_failures"] >= 1


def test_the_gateway_says_what_it_needs_in_one_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "push", "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "give --redis-url" in done.stderr


def test_with_the_workers_shared_history_it_knows_orders_the_stream_no_longer_holds(tmp_path, postgres_url):
    from factory.history import open_history

    server = RedisServer(tmp_path / "redis")
    plant = load_plant(ROOT / "factory.yaml")
    events = EventFactory()
    history = open_history(postgres_url, plant)
    history.record([events.placed(0, "UH1", token=TOKEN), events.entered(1, "UH1", "kitting")])
    history.close()  # what the workers recorded; the stream (trimmed, or new) has none of it
    gateway = RunningGateway("--history-url", postgres_url, redis_url=server.url)
    try:
        phone = Tracker(gateway.base_url, {"view": "track", "token": TOKEN})
        whole = phone.next()
        assert (whole["v"]["unit_code"], whole["v"]["current_station"]) == ("UH1", "kitting")
        bus = open_redis_events(server.url, [site.id for site in plant.sites], plant.site_of_event, None)
        bus.publish(events.exited(2, "UH1", "kitting"))
        assert phone.next()["b"] == whole["s"]
    finally:
        gateway.stop()
        server.stop()
