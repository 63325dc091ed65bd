"""MQTT → ingestion: lines that publish their events over MQTT, one topic per line.

Subscribes (QoS 1) to a topic filter such as ``factory/+/events`` and hands every message to the
Ingestor, which validates, deduplicates and orders it. paho reconnects by itself with backoff.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from streams.ingest import Ingestor

log = logging.getLogger(__name__)


class MqttBridge:
    def __init__(self, url: str, topic: str, ingestor: Ingestor, client_id: str = "transparent-factory") -> None:
        parsed = urlparse(url)
        if parsed.scheme != "mqtt" or not parsed.hostname:
            raise ValueError(f"not an MQTT URL (mqtt://host:port): {url!r}")
        self._host, self._port = parsed.hostname, parsed.port or 1883
        self._topic = topic
        self._ingestor = ingestor
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if parsed.username:
            self._client.username_pw_set(parsed.username, parsed.password)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self.connected = False

    def start(self) -> None:
        """Connect in the background and keep the connection up."""
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            return
        self.connected = True
        client.subscribe(self._topic, qos=1)
        log.info("MQTT bridge subscribed to %s on %s:%s", self._topic, self._host, self._port)

    def _on_message(self, _client, _userdata, message) -> None:
        self._ingestor.submit(message.payload, f"mqtt:{message.topic}")
