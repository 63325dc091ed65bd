"""Real lines over MQTT: a real Mosquitto; events in, validated and ordered; poison and bursts survived."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from mosquitto_server import MosquittoServer

from streams import events as ev
from streams.codec import to_json
from streams.ingest import Ingestor
from streams.memory import MemoryBus
from streams.mqtt_bridge import MqttBridge
from support import T0, free_port


@pytest.fixture
def mosquitto(tmp_path):
    server = MosquittoServer(tmp_path)
    yield server.port
    server.stop()


def _wait(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


class Running:
    """A bridge with its worker thread, as the app runs it."""

    def __init__(self, port, ingestor, **kwargs):
        self.bridge = MqttBridge(f"mqtt://127.0.0.1:{port}", "factory/+/events", ingestor, **kwargs)
        self.bridge.start()
        self.worker = threading.Thread(target=self.bridge.run, daemon=True)
        self.worker.start()
        assert _wait(lambda: self.bridge.connected)

    def stop(self):
        self.bridge.stop()
        self.worker.join(10)


def _line(port):
    line = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"line-{free_port()}")
    line.max_inflight_messages_set(100)
    line.connect("127.0.0.1", port)
    line.loop_start()
    return line


def test_events_published_per_line_reach_the_bus_in_order(mosquitto, events):
    bus = MemoryBus()
    ingestor = Ingestor(bus, bus.dead_letter, window_s=0.3)
    running = Running(mosquitto, ingestor)
    try:
        line = _line(mosquitto)
        placed, entered, exited = (
            events.placed(0, "U1"),
            events.entered(1, "U1", "kitting"),
            events.exited(2, "U1", "kitting"),
        )
        for payload in (to_json(placed), to_json(exited), "not an event", to_json(entered), to_json(entered)):
            line.publish("factory/ac1/events", payload, qos=1).wait_for_publish(5)
        line.loop_stop()
        line.disconnect()
        assert _wait(
            lambda: ingestor.stats()["counts"].get("accepted") == 3 and ingestor.flush() >= 0 and len(bus.read()) == 3
        )
        assert [e for _, e in bus.read()] == [placed, entered, exited]
        counts = ingestor.stats()["counts"]
        assert counts["duplicate"] == 1 and counts["rejected:bad_json"] == 1
        assert bus.dead_letters[0][1].startswith("mqtt:factory/ac1/events")
    finally:
        running.stop()


POISON = [
    '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "p1", "source": "/x", '
    '"time": "9999-12-31T23:59:59+14:00", "data": {"unit_code": "U1", "line_id": "ac1"}}',
    "[" * 100_000,
    "\udcff not utf-8".encode("utf-8", "surrogateescape"),
    b"\xff\xfe\x00",
    "",
    '{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "p2", "source": "/x", '
    '"time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1", "line_id": "ac1", "station_id": "k", '
    '"visit": 1099511627776}}',
]


def test_poison_messages_are_dead_lettered_and_the_bridge_goes_on(mosquitto, events):
    bus = MemoryBus()
    ingestor = Ingestor(bus, bus.dead_letter, window_s=0.1)
    running = Running(mosquitto, ingestor)
    try:
        line = _line(mosquitto)
        for payload in POISON:
            line.publish("factory/ac1/events", payload, qos=1).wait_for_publish(5)
        good = events.placed(0, "U9")
        line.publish("factory/ac1/events", to_json(good), qos=1).wait_for_publish(5)
        assert _wait(lambda: running.bridge.handled == len(POISON) + 1)
        assert running.bridge.connected and running.worker.is_alive()
        assert len(bus.dead_letters) == len(POISON)
        assert _wait(lambda: ingestor.flush() >= 0 and [e for _, e in bus.read()] == [good])
        line.disconnect()
    finally:
        running.stop()


def test_a_message_the_bus_cannot_take_is_retried_then_set_aside_as_poison(mosquitto, events):
    bus = MemoryBus()
    dead = []

    class Broken(Ingestor):
        def submit(self, raw, origin):
            if b"BROKEN" in (raw if isinstance(raw, bytes) else str(raw).encode()):
                raise ConnectionError("bus away")
            return super().submit(raw, origin)

    ingestor = Broken(bus, lambda *a: dead.append(a), window_s=0.1)
    running = Running(mosquitto, ingestor, max_attempts=3)
    try:
        line = _line(mosquitto)
        line.publish("factory/ac1/events", "BROKEN", qos=1).wait_for_publish(5)
        line.publish("factory/ac1/events", to_json(events.placed(0, "U2")), qos=1).wait_for_publish(5)
        assert _wait(lambda: running.bridge.handled == 1 and running.bridge.poison == 1)
        assert dead and dead[0][0] == "poison" and "ConnectionError" in dead[0][1]
        line.disconnect()
    finally:
        running.stop()


def test_a_burst_of_ten_thousand_messages_loses_none(mosquitto):
    bus = MemoryBus()
    ingestor = Ingestor(bus, bus.dead_letter, window_s=0.1, check=None)
    running = Running(mosquitto, ingestor)
    try:
        line = _line(mosquitto)
        infos = []
        for i in range(10_000):
            event = ev.MachineDown(
                id=f"burst-{i}",
                source="/line/ac1",
                time=T0 + timedelta(seconds=i),
                line_id="ac1",
                station_id="brazing",
                machine=1,
                reason_code="MECH",
                reason="jam",
            )
            infos.append(line.publish("factory/ac1/events", to_json(event), qos=1))
        for info in infos:
            info.wait_for_publish(60)
        assert _wait(lambda: len(bus.read(limit=20_000)) == 10_000, seconds=120)
        assert ingestor.stats()["counts"] == {"accepted": 10_000} and running.bridge.received == 10_000
        line.disconnect()
    finally:
        running.stop()


def test_each_process_gets_its_own_client_id_unless_one_is_configured():
    bus = MemoryBus()
    a = MqttBridge("mqtt://127.0.0.1:1", "t", Ingestor(bus, bus.dead_letter))
    b = MqttBridge("mqtt://127.0.0.1:1", "t", Ingestor(bus, bus.dead_letter))
    assert a.client_id != b.client_id
    assert (
        MqttBridge("mqtt://127.0.0.1:1", "t", Ingestor(bus, bus.dead_letter), client_id="plant-7").client_id
        == "plant-7"
    )
    with pytest.raises(ValueError):
        MqttBridge("http://x", "t", Ingestor(bus, bus.dead_letter))
