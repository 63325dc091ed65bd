"""10^5 events over HTTP and MQTT, valid ones mixed with plant-impossible ones and garbage.

The app (no emulator, real Mosquitto) must answer no 5xx, keep every task running, dead-letter
every bad event with a reason, apply every good one (counted in the history) and keep a floor
screen in a real browser fed with frames throughout.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
import requests
from mosquitto_server import MosquittoServer

from factory.history import open_history
from factory.layout import load_plant
from line_emulator.cli import seeded_tokens
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev
from streams.codec import to_dict
from support import ROOT, RunningApp, free_port

TOTAL = 100_000
KEY = "fuzz-key-0123456789abcdef"
HTTP_LINES = ("ac1", "rf1", "wm1")  # the other lines' events travel over MQTT
BATCH = 2000


def _valid_events() -> list[ev.Event]:
    """Seven working hours of the built-in plant, within the last day (inside the time window).

    They begin at 01:00 UTC (09:00 at the Chinese sites, whose lines are the busiest), today's
    if that is long enough ago, else yesterday's, so the traffic does not depend on the hour.
    """
    plant = load_plant(ROOT / "factory.yaml")
    out: list[ev.Event] = []
    now = datetime.now(UTC)
    start = now.replace(hour=1, minute=0, second=0, microsecond=0)
    if start > now - timedelta(hours=7, minutes=5):
        start -= timedelta(days=1)
    model = PlantModel(plant, out.append, start, seed=11, new_token=seeded_tokens(11))
    run_fast(model, 7 * 3600)
    return out


# Each mutation turns a valid event's document into one the app must refuse, whatever it has
# seen; it answers False when it does not apply to that event.
def _set(field, value, types=None):
    def mutate(d) -> bool:
        if types is not None and d["type"] not in types:
            return False
        if field in ("time", "type"):
            d[field] = value
        elif field in d["data"] or field in ("line_id", "surprise"):
            d["data"][field] = value
        else:
            return False
        return True

    return mutate


MUTATIONS = [
    _set("line_id", "zz9"),  # unknown_line
    _set("station_id", "nowhere"),  # unknown_station
    _set("time", "2150-01-01T00:00:00Z"),  # out_of_window (future)
    _set("time", "1971-01-01T00:00:00Z"),  # out_of_window (past)
    _set("time", "9999-12-31T23:59:59+14:00"),  # not a time the codec takes
    _set("work_s", 1e12, {ev.StationWorkDone.TYPE}),  # bad_number
    _set("visit", 2**40),  # beyond 32 bits
    _set("visit", 5000),  # bad_visit
    _set("machine", 99, {ev.MachineDown.TYPE, ev.MachineUp.TYPE}),  # unknown_machine
    _set("options", {"model": "no-such-model"}, {ev.OrderPlaced.TYPE}),  # unknown_option
    _set("tracking_token", "x", {ev.OrderPlaced.TYPE}),  # bad_token
    _set("surprise", 1),  # unknown_field
    _set("type", "com.transparentfactory.unit.teleported.v1"),  # unknown type
]
RAW = [
    b"not json at all",
    b"\xff\xfe\x00garbage",
    b"[" * 5000 + b"]" * 5000,  # deep nesting
    b'{"specversion": "1.0", "data": ' + b'{"a": ' * 300 + b"1" + b"}" * 301,
    b"{}",
    b'{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "lone",'
    b' "source": "/x", "time": "2026-01-01T00:00:00Z", "data": {"unit_code": "\\ud800"}}',  # lone surrogate
]


def _invalid(valid: list[ev.Event], n: int, rng: random.Random) -> list[bytes]:
    out: list[bytes] = []
    while len(out) < n:
        if rng.random() < 0.1:
            out.append(RAW[len(out) % len(RAW)])
            continue
        doc = to_dict(rng.choice(valid))
        doc["id"] = f"fuzz-{len(out)}"  # a new id: a copy would be a mere duplicate
        if rng.choice(MUTATIONS)(doc):
            out.append(orjson.dumps(doc))
    return out


def _line_of(doc: bytes) -> str | None:
    try:
        line = orjson.loads(doc).get("data", {}).get("line_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return line if isinstance(line, str) else None


def test_a_flood_of_good_and_bad_events_over_http_and_mqtt(browser, tmp_path):
    rng = random.Random(5)
    valid = _valid_events()
    invalid = _invalid(valid, TOTAL - len(valid), rng)
    assert len(valid) > 30_000  # a good part of the flood is real traffic
    good = [(e.line_id if hasattr(e, "line_id") else None, orjson.dumps(to_dict(e))) for e in valid]

    # Mix the bad ones into the good stream at random places; a unit's good events keep their order.
    http: list[bytes] = []
    mqtt_messages: list[tuple[str, bytes]] = []
    positions = sorted(rng.randrange(len(good)) for _ in invalid)
    bad = iter(invalid)
    j = 0
    for i, (line, doc) in enumerate(good):
        while j < len(positions) and positions[j] == i:
            b = next(bad)
            j += 1
            if rng.random() < 0.5:
                http.append(b)
            else:
                mqtt_messages.append((_line_of(b) or "ac2", b))
        if line in HTTP_LINES or line is None:
            http.append(doc)
        else:
            mqtt_messages.append((line, doc))
    assert len(http) + len(mqtt_messages) == TOTAL

    broker = MosquittoServer(tmp_path)
    app = RunningApp(
        "--no-emulator",
        "--mqtt-url",
        broker.url,
        "--api-key",
        KEY,
        "--kiosk-rotate",
        "0",
        "--stale-after",
        "600",
        data_dir=tmp_path / "data",
        tracking_links=False,
    )
    auth = {"Authorization": f"Bearer {KEY}"}
    try:

        def ready() -> dict:
            return requests.get(f"{app.base_url}/ready", timeout=60).json()

        deadline = time.monotonic() + 120
        while "mqtt" in ready()["failing"] and time.monotonic() < deadline:
            time.sleep(0.5)  # the bridge connects to the broker
        recorded_before = ready()["parts"]["history"]["recorded"]

        wall = browser.new_page(viewport={"width": 1920, "height": 1080})
        wall.goto(app.kiosk_url)
        wall.wait_for_function("() => window.tf && window.tf.framesReceived > 0")

        statuses: Counter[int] = Counter()

        def send_http() -> None:
            for k in range(0, len(http), BATCH):
                body = b"\n".join(http[k : k + BATCH])
                answer = requests.post(
                    f"{app.base_url}/api/events",
                    data=body,
                    headers={**auth, "Content-Type": "application/x-ndjson"},
                    timeout=300,
                )
                statuses[answer.status_code] += 1

        def send_mqtt() -> None:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fuzz-{free_port()}")
            client.max_inflight_messages_set(200)
            client.connect("127.0.0.1", broker.port)
            client.loop_start()
            infos = [client.publish(f"factory/{line}/events", doc, qos=1) for line, doc in mqtt_messages]
            for info in infos:
                info.wait_for_publish(300)
            client.loop_stop()
            client.disconnect()

        errors: list[Exception] = []

        def catching(send):
            def run() -> None:
                try:
                    send()
                except Exception as exc:  # noqa: BLE001 - the assertion below reports it
                    errors.append(exc)

            return run

        senders = [threading.Thread(target=catching(send_http)), threading.Thread(target=catching(send_mqtt))]
        for s in senders:
            s.start()
        frames = []
        while any(s.is_alive() for s in senders):
            frames.append(wall.evaluate("() => window.tf.framesReceived"))
            time.sleep(3)
        for s in senders:
            s.join()
        assert not errors, errors
        frames.append(wall.evaluate("() => window.tf.framesReceived"))

        # Flow checks run when a unit's held events are released, a few seconds later.
        def settled() -> tuple[dict, dict]:
            stats = requests.get(f"{app.base_url}/api/ingest/stats", headers=auth, timeout=60).json()
            return stats, ready()

        deadline = time.monotonic() + 300
        stats, state = settled()
        while time.monotonic() < deadline:
            counts = stats["counts"]
            taken = counts.get("accepted", 0) + sum(v for k, v in counts.items() if k.startswith("rejected:"))
            recorded = state["parts"]["history"]["recorded"] - recorded_before
            if taken >= TOTAL and stats["held"] == 0 and recorded >= len(valid):
                break
            time.sleep(1)
            stats, state = settled()

        counts = stats["counts"]
        rejected = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("rejected:")}
        assert not [code for code in statuses if code >= 500], statuses
        assert counts.get("accepted", 0) == len(valid), (counts, len(valid), state["parts"])
        assert sum(rejected.values()) == len(invalid), (rejected, len(invalid))
        assert counts.get("duplicate", 0) == 0
        # Every kind of bad input was recognised for what it is.
        for reason in ("unknown_line", "unknown_station", "out_of_window", "bad_number", "bad_visit"):
            assert rejected.get(reason), (reason, rejected)
        assert state["parts"]["tasks"]["failing"] == [], state["parts"]
        assert not any(state["parts"]["tasks"]["restarts"].values()), state["parts"]["tasks"]
        assert state["parts"]["mqtt"]["ok"], state["parts"]["mqtt"]
        # The wall screen was fed all along: frames kept coming in every sampling interval.
        assert len(frames) >= 3
        assert all(b > a for a, b in itertools.pairwise(frames)), frames
    finally:
        app.stop()
        broker.stop()
    # Every good event is in the history, once; none of the bad ones is.
    history = open_history(tmp_path / "data" / "history.duckdb", load_plant(ROOT / "factory.yaml"))
    try:
        stored = {tuple(row) for row in history.query("SELECT source, id FROM events")}
        wanted = {(e.source, e.id) for e in valid}
        assert wanted <= stored
        assert not {s for s in stored if s[1].startswith("fuzz-")}
        assert history.count() - len(history.control_events()) == len(valid)
    finally:
        history.close()
