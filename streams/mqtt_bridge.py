"""MQTT → ingestion: lines that publish their events over MQTT, one topic per line, none of them lost.

- MQTT 5 with a Receive Maximum of 65,535: the broker may have that many QoS 1 messages in
  flight to the bridge, instead of queueing them (Mosquitto drops QoS 1 messages beyond its
  ``max_queued_messages``, 1,000 by default, when a subscriber falls behind a burst).
- The network thread only queues messages (microseconds each); a worker hands them to the
  Ingestor (validation, dedup, ordering). The queue is bounded: when it is full the network
  thread waits, which is TCP back-pressure to the broker, never a silent drop.
- Every message is handled on its own: whatever it does (malformed JSON, a year-9999 time, deep
  nesting) ends in the dead letter, never in the network thread. paho-mqtt's own thread is
  also told to suppress exceptions, as a second guard.
- A message the Ingestor cannot take (the bus is away) is retried with backoff; after
  ``max_attempts`` it goes to the dead letter as ``poison`` so it cannot block the rest.
- A unique client id per process with a clean start by default; a configured id keeps a
  persistent session for a week (the broker holds QoS 1 messages while the bridge is away).
- paho reconnects by itself with backoff (1 s to 30 s).
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from streams.ingest import Ingestor

log = logging.getLogger(__name__)
QUEUE_SIZE = 100_000
SESSION_KEPT_S = 7 * 24 * 3600  # a configured client id: the broker keeps its session this long


class MqttBridge:
    def __init__(
        self,
        url: str,
        topic: str,
        ingestor: Ingestor,
        client_id: str | None = None,
        max_attempts: int = 5,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "mqtt" or not parsed.hostname:
            raise ValueError(f"not an MQTT URL (mqtt://host:port): {url!r}")
        self._host, self._port = parsed.hostname, parsed.port or 1883
        self._topic = topic
        self._ingestor = ingestor
        self.max_attempts = max_attempts
        self.persistent = client_id is not None
        self.client_id = client_id or f"tf-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        self._client.suppress_exceptions = True
        if parsed.username:
            self._client.username_pw_set(parsed.username, parsed.password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._queue: queue.Queue[tuple[bytes, str]] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self.connected = False
        self.received = 0
        self.handled = 0
        self.poison = 0
        self.failures = 0

    def start(self) -> None:
        """Connect in the background and keep the connection up."""
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = 65535
        if self.persistent:
            properties.SessionExpiryInterval = SESSION_KEPT_S
        self._client.connect_async(
            self._host, self._port, keepalive=30, clean_start=not self.persistent, properties=properties
        )
        self._client.loop_start()

    def run(self) -> None:
        """Hand queued messages to the Ingestor until stop() (the worker loop; run it supervised)."""
        while not self._stop.is_set() or not self._queue.empty():
            try:
                payload, topic = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self._handle(payload, topic)

    def _handle(self, payload: bytes, topic: str) -> None:
        origin = f"mqtt:{topic}"
        backoff = 0.1
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._ingestor.submit(payload, origin)
                self.handled += 1
                return
            except Exception as exc:  # noqa: BLE001 - the bus is away, or a bug: retry, then dead-letter it (logged)
                self.failures += 1
                if attempt == self.max_attempts:
                    self.poison += 1
                    log.error("MQTT message on %s dead-lettered after %d attempts: %s", topic, attempt, exc)
                    try:
                        self._ingestor._dead_letter(
                            "poison",
                            f"{origin}: {type(exc).__name__}: {exc}"[:500],
                            payload.decode("utf-8", "replace")[:65536],
                        )
                    except Exception:
                        log.exception("dead letter unreachable; MQTT message on %s lost", topic)
                    return
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        """Disconnect, then let the worker finish what is queued."""
        self._stop.set()
        self._client.disconnect()
        self._client.loop_stop()

    def status(self) -> dict[str, Any]:
        """Return the bridge's counters (for /ready)."""
        return {
            "connected": self.connected,
            "client_id": self.client_id,
            "received": self.received,
            "handled": self.handled,
            "queued": self._queue.qsize(),
            "poison": self.poison,
        }

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            return
        self.connected = True
        client.subscribe(self._topic, qos=1)
        log.info("MQTT bridge %s subscribed to %s on %s:%s", self.client_id, self._topic, self._host, self._port)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected = False
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            self.received += 1
            self._queue.put((bytes(message.payload), str(message.topic)))  # waits when full: back-pressure
        except Exception:  # never let anything end paho's network thread
            log.exception("MQTT message on %s not queued", getattr(message, "topic", "?"))
