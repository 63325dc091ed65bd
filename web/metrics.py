"""``GET /metrics``: this worker's figures in Prometheus' text format, for a scraper with an API key.

Each worker is its own process with its own port, so each serves its own figures and the
scraper tells them apart by target (Prometheus' ``instance`` label); nothing is shared between
processes, so nothing needs prometheus-client's multi-process mode. The counters are the ones the
worker already keeps (the pump's, the rooms', the ingest's, the history writer's, the
collector's): a collector reads them at each scrape, so /metrics and /ready never disagree.
Request latencies are the one figure kept here, in a histogram per route template.

The figures are factory-wide (events per reason, viewers), so the endpoint asks for an API key
or a signed-in admin, like the rest of the operator API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from web import auth
from web.api import has_key, unauthorised
from web.services import Services, current_who

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WorkerCollector(Collector):
    """Reads the worker's own counters at each scrape."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Any]:
        svc = self.svc
        live = svc.live
        with live.lock:
            events_read, skipped = live.events_read, dict(live.skipped)
            newest = live.state.last_event_time
        yield _counter("tf_events_read", "Events the pump read from the event bus since start", events_read)
        yield _counter(
            "tf_events_skipped", "Events the plant check refused, by reason", None, ("reason",), skipped.items()
        )
        ingest = svc.ingestor.stats()["counts"]
        outcomes: dict[tuple[str, str], int] = {}
        for key, n in ingest.items():
            outcome, _, reason = key.partition(":")
            outcomes[(outcome, reason)] = outcomes.get((outcome, reason), 0) + n
        yield _counter(
            "tf_ingested",
            "Events offered over HTTP or MQTT, by outcome (accepted, duplicate, late, rejected) and reason",
            None,
            ("outcome", "reason"),
            outcomes.items(),
        )
        yield _gauge("tf_pump_lag_seconds", "Seconds since the pump last had nothing left to read", live.lag_s())
        rooms = svc.rooms
        yield _counter(
            "tf_frames_sent", "Frames sent to Socket.IO rooms, by room kind", None, ("room",), rooms.frames_sent.items()
        )
        yield _counter("tf_frames_failed", "Room frames that could not be built", rooms.frames_failed)
        viewers = {"floor": 0, "order": 0, **rooms.viewers_by_kind()}
        yield _gauge("tf_viewers", "Sockets watching a room now, by room kind", None, ("room",), viewers.items())
        recorder = svc.extras.get("recorder")
        if recorder is not None:
            yield _counter("tf_history_recorded", "Events this worker recorded into the history", recorder.recorded)
            yield _gauge("tf_history_healthy", "1 while the history writer's last batch went in", int(recorder.healthy))
            yield _gauge("tf_history_writer", "1 when this worker writes the history", int(not recorder.standby))
            recorded_until = recorder.state.last_event_time
            lag = (newest - recorded_until).total_seconds() if newest and recorded_until else 0.0
            yield _gauge(
                "tf_history_write_lag_seconds",
                "Event time the history is behind the live state (the writer's backlog)",
                max(0.0, lag),
            )
        collector = svc.extras.get("gc")
        if collector is not None:
            pauses = collector.report()
            yield _counter(
                "tf_gc_collections",
                "Garbage collections by generation",
                None,
                ("generation",),
                pauses["collections"].items(),
            )
            yield _counter(
                "tf_gc_pause_seconds",
                "Time the garbage collector held the interpreter, by generation",
                None,
                ("generation",),
                ((g, ms / 1000) for g, ms in pauses["total_ms"].items()),
            )
            yield _gauge(
                "tf_gc_frozen_objects", "Objects frozen out of the collector's sight", pauses["frozen_objects"]
            )


def _counter(name, documentation, value=None, labels=(), samples=()):
    family = CounterMetricFamily(name, documentation, value=value, labels=list(labels) if labels else None)
    for key, n in samples:
        family.add_metric(list(key) if isinstance(key, tuple) else [key], n)
    return family


def _gauge(name, documentation, value=None, labels=(), samples=()):
    family = GaugeMetricFamily(name, documentation, value=value, labels=list(labels) if labels else None)
    for key, n in samples:
        family.add_metric(list(key) if isinstance(key, tuple) else [key], n)
    return family


def install(server: flask.Flask, svc: Services) -> CollectorRegistry:
    """Serve /metrics on ``server`` and time its requests; return the worker's registry."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(WorkerCollector(svc))
    latency = Histogram(
        "tf_http_request_duration_seconds",
        "HTTP request latency by method, route template and status class",
        ("method", "route", "status"),
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )

    @server.before_request
    def _started():
        flask.g.tf_started = time.perf_counter()

    @server.after_request
    def _timed(response: flask.Response) -> flask.Response:
        started = flask.g.get("tf_started")
        if started is not None:
            rule = flask.request.url_rule
            # The route's template, never the path: a tracking token must not become a label.
            route = rule.rule if rule is not None else "unmatched"
            latency.labels(flask.request.method, route, f"{response.status_code // 100}xx").observe(
                time.perf_counter() - started
            )
        return response

    @server.get("/metrics")
    def metrics():
        who = current_who()
        if not has_key() and not (who is not None and auth.may(who, "admin")):
            return unauthorised()
        return flask.Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return registry
