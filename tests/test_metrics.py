"""GET /metrics: the worker's own counters in Prometheus' text format, read back with Prometheus' parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from streams.codec import to_json
from support import API_KEY, TOKEN_A, EventFactory, build_factory, catch_up, client_as

KEY = {"Authorization": f"Bearer {API_KEY}"}


def scrape(client) -> dict[str, dict[tuple, float]]:
    """Return {sample name: {sorted labels: value}} of one scrape (the parser fails on malformed text)."""
    response = client.get("/metrics", headers=KEY)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_only_a_key_or_an_admin_reads_the_figures(factory):
    assert factory.dash_app.server.test_client().get("/metrics").status_code == 401
    for who in ("mia", "wes", "wall"):  # a manager, an executive, a wall screen: factory-wide figures are not theirs
        assert client_as(factory, who).get("/metrics").status_code == 401, who
    assert client_as(factory, "ada").get("/metrics").status_code == 200
    assert factory.dash_app.server.test_client().get("/metrics", headers=KEY).status_code == 200


def test_counters_are_the_workers_own_worked_by_hand(factory, events):
    # The factory read 3 events (two orders, one entry). Then: one more entry, and one about a
    # unit of another line, which the plant check refuses.
    stray = EventFactory(line_id="wm1").entered(3, "UA", "cabinet")
    factory.bus.publish_many([events.entered(2, "UB", "kitting"), stray])
    catch_up(factory)
    (reason,) = factory.live.skipped  # the reason code the plant check gave
    rooms = factory.rooms
    rooms.join("s1", f"order:{TOKEN_A}", None)
    rooms.join("s2", f"order:{TOKEN_A}", None)
    rooms.join("s3", "floor:ac1", None)
    figures = scrape(factory.dash_app.server.test_client())
    assert figures["tf_events_read_total"][()] == 5
    assert figures["tf_events_skipped_total"] == {(("reason", reason),): 1}
    assert figures["tf_viewers"] == {(("room", "order"),): 2, (("room", "floor"),): 1}
    assert figures["tf_pump_lag_seconds"][()] >= 0


def test_ingest_outcomes_and_request_latency_by_route_template(events, tmp_path):
    # The test's events are of March 2026: a window wide enough to take them.
    factory = build_factory(events, tmp_path, event_window_h=24 * 3650)
    client = factory.dash_app.server.test_client()
    body = to_json(events.completed(4, "UA")) + "\n{broken"
    client.post("/api/events", data=body, headers={**KEY, "Content-Type": "application/x-ndjson"})
    client.get(f"/api/orders/{TOKEN_A}")
    client.get("/api/orders/no-such-token-0123456789")
    figures = scrape(client)
    ingested = figures["tf_ingested_total"]
    assert ingested[(("outcome", "accepted"), ("reason", ""))] == 1
    assert ingested[(("outcome", "rejected"), ("reason", "bad_json"))] == 1
    counts = figures["tf_http_request_duration_seconds_count"]
    orders = sum(n for labels, n in counts.items() if dict(labels)["route"] == "/api/orders/<token>")
    assert orders == 2  # both under the route's template: a token never becomes a label
    assert not any(TOKEN_A in dict(labels)["route"] for labels in counts)
    statuses = {dict(labels)["status"] for labels in counts if dict(labels)["route"] == "/api/orders/<token>"}
    assert statuses == {"2xx", "4xx"}
