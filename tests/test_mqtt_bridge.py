"""Real lines over MQTT: a real Mosquitto, events in, validated and ordered onto the bus."""

from __future__ import annotations

import shutil
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

from streams.codec import to_json
from streams.ingest import Ingestor
from streams.memory import MemoryBus
from streams.mqtt_bridge import MqttBridge
from support import free_port


@pytest.fixture
def mosquitto(tmp_path):
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not shutil.os.path.exists(binary):
        pytest.fail("mosquitto is missing: run scripts/test.sh, which installs Debian's mosquitto")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield port
    proc.terminate()
    proc.wait(5)


def _wait(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_events_published_per_line_reach_the_bus_in_order(mosquitto, events):
    bus = MemoryBus()
    ingestor = Ingestor(bus, bus.dead_letter, window_s=0.3)
    bridge = MqttBridge(f"mqtt://127.0.0.1:{mosquitto}", "factory/+/events", ingestor, client_id="test-bridge")
    bridge.start()
    try:
        assert _wait(lambda: bridge.connected)
        line = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="line-ac1")
        line.connect("127.0.0.1", mosquitto)
        line.loop_start()
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
        bridge.stop()
