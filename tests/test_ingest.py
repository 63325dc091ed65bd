"""Ingestion of outside events: rejects dead-lettered with reasons, duplicates dropped, units reordered."""

from __future__ import annotations

import json

from streams.codec import to_dict, to_json
from streams.ingest import Ingestor
from streams.memory import MemoryBus


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def make(window_s=2.0):
    bus, dead, clock = MemoryBus(), [], Clock()
    return Ingestor(bus, lambda *args: dead.append(args), window_s=window_s, clock=clock), bus, dead, clock


def published(bus):
    return [e for _, e in bus.read()]


def test_invalid_input_is_dead_lettered_with_its_reason(events):
    ingest, bus, dead, _ = make()
    assert ingest.submit("{nope", "http") == "rejected:bad_json"
    bad_type = to_dict(events.completed(0, "U1"))
    bad_type["type"] = "com.example.other"
    assert ingest.submit(json.dumps(bad_type), "mqtt:factory/ac1/events") == "rejected:unknown_type"
    assert [d[0] for d in dead] == ["bad_json", "unknown_type"]
    assert "mqtt:factory/ac1/events" in dead[1][1] and dead[0][2] == "{nope"
    assert ingest.stats()["counts"] == {"rejected:bad_json": 1, "rejected:unknown_type": 1}
    assert published(bus) == []


def test_a_control_event_from_outside_is_refused(events):
    """Only the app writes people's actions; one from a line (an admin account, a session) never passes."""
    from datetime import UTC, datetime

    from streams import events as ev

    ingest, bus, dead, _ = make()
    admin = ev.AccountCreated(
        id="x-1",
        source="/evil",
        time=datetime.now(UTC),
        user="eve",
        role="admin",
        password_hash="h",
        site_id=None,
        by="x",
    )
    assert ingest.submit(to_json(admin), "mqtt:factory/ac1/events") == "rejected:control_event"
    assert ingest.submit(to_json(admin), "http", keep_refused=False) == "rejected:control_event"
    ingest.flush(force=True)
    assert published(bus) == [] and [d[0] for d in dead] == ["control_event"]


def test_a_refusal_released_late_keeps_where_it_came_from(events):
    """A unit's event refused when its unit is released is dead-lettered with its own origin, not "release"."""
    bus, dead = MemoryBus(), []
    ingest = Ingestor(bus, lambda *args: dead.append(args), admit=lambda event: "out_of_flow")
    assert ingest.submit(to_json(events.completed(0, "U1")), "mqtt:factory/ac1/events") == "accepted"
    ingest.flush(force=True)
    assert dead[0][0] == "out_of_flow" and dead[0][1].startswith("mqtt:factory/ac1/events: ")


def test_a_nul_character_in_any_text_is_refused(events):
    """A database text column cannot hold U+0000: one such event must not stall the shared history."""
    ingest, _bus, dead, _ = make()
    with_nul = to_dict(events.placed(0, "U1", options={"model": "AS12\u0000", "wifi": "wifi"}))
    assert ingest.submit(json.dumps(with_nul), "http") == "rejected:nul_character"
    in_id = to_dict(events.completed(1, "U2"))
    in_id["id"] = "a\u0000b"
    assert ingest.submit(json.dumps(in_id), "http") == "rejected:nul_character"
    assert [d[0] for d in dead] == ["nul_character", "nul_character"]
    assert ingest.submit(json.dumps(to_dict(events.completed(2, "U3"))), "http") == "accepted"


def test_duplicates_are_ignored(events):
    ingest, bus, _, _ = make()
    e = events.completed(0, "U1")
    assert [ingest.submit(to_json(e), "http") for _ in range(3)] == ["accepted", "duplicate", "duplicate"]
    ingest.flush(force=True)
    assert published(bus) == [e] and ingest.stats()["counts"] == {"accepted": 1, "duplicate": 2}


def test_a_units_events_are_released_in_time_order_after_the_window(events):
    ingest, bus, _, clock = make(window_s=2.0)
    entered, exited = events.entered(1, "U1", "kitting"), events.exited(2, "U1", "kitting")
    ingest.submit(to_json(exited), "http")
    clock.now = 0.5
    ingest.submit(to_dict(entered), "http")
    clock.now = 1.9
    assert ingest.flush() == 0 and published(bus) == []  # still inside the window
    clock.now = 2.0
    assert ingest.flush() == 2
    assert published(bus) == [entered, exited]


def test_events_without_a_unit_pass_straight_through(events):
    from streams import events as ev

    ingest, bus, _, _ = make()
    stop = ev.PlannedStopStarted(**events._env(0), line_id="ac1", kind="break", reason="Tea", planned_s=600.0)
    ingest.submit(to_json(stop), "http")
    assert published(bus) == [stop]


def test_late_events_are_published_counted_and_recorded(events):
    ingest, bus, _, clock = make(window_s=1.0)
    ingest.submit(to_json(events.exited(5, "U1", "kitting")), "http")
    clock.now = 1.0
    ingest.flush()
    late = events.entered(1, "U1", "kitting")  # four minutes older than what was already released
    assert ingest.submit(to_json(late), "http") == "accepted"
    assert published(bus)[-1] == late
    stats = ingest.stats()
    assert stats["counts"]["late"] == 1 and stats["late"][0]["unit_code"] == "U1"
