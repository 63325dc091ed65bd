"""Andon alarms: the rule worked by hand, stable ids, and who may acknowledge them (on the server)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app import create_app
from config import Settings
from factory.alarms import ALERT_AFTER_S, active_alarms, alarm_id, parse_alarm_id
from streams import events as ev
from streams.codec import format_time
from support import T0, EventFactory


def station(sid, status, since_s, reason=None):
    return {
        "id": sid,
        "name": sid.title(),
        "status": status,
        "since": format_time(T0 + timedelta(seconds=since_s)),
        "down_reason": reason,
    }


def test_a_breakdown_alarms_at_once_starved_and_blocked_after_five_minutes():
    now = format_time(T0 + timedelta(seconds=1000))
    stations = [
        station("a", "running", 0),
        station("b", "starved", 1000 - ALERT_AFTER_S + 1),
        station("c", "blocked", 1000 - ALERT_AFTER_S),
        station("d", "down", 999, "Jam"),
        station("e", "idle", 0),
    ]
    alarms = active_alarms("ac1", stations, now)
    assert [(a["station"], a["kind"]) for a in alarms] == [("d", "down"), ("c", "blocked")]  # b: 299 s, not yet
    down, blocked = alarms
    assert down["raised"] == down["since"] and down["reason"] == "Jam"
    assert blocked["raised"] == format_time(T0 + timedelta(seconds=1000))  # since + 300 s
    assert down["id"] == alarm_id("ac1", "d", "down", down["since"])
    assert parse_alarm_id(down["id"])[:3] == ("ac1", "d", "down")
    for bad in (None, 17, "x", "ac1/d/running/" + down["since"], "ac1/d/down/yesterday", "a/b/down/" + "9" * 300):
        assert parse_alarm_id(bad) is None


@pytest.fixture
def factory():
    app = create_app(Settings(emulator=False, data_dir=None))
    events = EventFactory()
    app.bus.publish_many(
        [
            ev.ShiftStarted(
                **events._env(0), line_id="ac1", shift="A", planned_end=format_time(T0 + timedelta(hours=8))
            ),
            events.placed(0, "U1"),
            events.entered(1, "U1", "kitting"),
            ev.MachineDown(
                **events._env(2),
                line_id="ac1",
                station_id="brazing",
                machine=1,
                reason_code="TORCH",
                reason="Torch fault",
            ),
        ]
    )
    app.live.catch_up()
    return app


def _ack_body(alarm):
    return {
        "output": "andon-ack-result.children",
        "outputs": {"id": "andon-ack-result", "property": "children"},
        "inputs": [[{"id": {"type": "andon-ack", "alarm": alarm}, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [json.dumps({"alarm": alarm, "type": "andon-ack"}, separators=(",", ":")) + ".n_clicks"],
        "state": [],
    }


@pytest.mark.parametrize("role", [None, "wall", "executive"])
def test_only_managers_acknowledge_even_when_calling_the_callback_directly(factory, role):
    alarm = factory.live.floor("ac1")["alarms"][0]["id"]
    client = factory.dash_app.server.test_client()
    if role:
        with client.session_transaction() as session:
            session["role"] = role
    response = client.post("/_dash-update-component", json=_ack_body(alarm))
    assert response.status_code == 200 and "Only a signed-in manager" in response.get_data(as_text=True)
    assert factory.history.alarm_acks(T0 - timedelta(days=3650)) == {}


def test_a_manager_acknowledges_an_active_alarm_once(factory):
    alarm = factory.live.floor("ac1")["alarms"][0]["id"]
    client = factory.dash_app.server.test_client()
    with client.session_transaction() as session:
        session.update(role="manager", user="mia")
    assert client.post("/_dash-update-component", json=_ack_body(alarm)).status_code == 200
    assert factory.live.frame("floor:ac1")["view"]["alarms"][0]["ack"]["by"] == "mia"
    assert factory.live.acknowledge(alarm, "max") == "already"
    made_up = alarm.replace("brazing", "kitting")
    assert factory.live.acknowledge(made_up, "mia") == "unknown"  # not an alarm the line raises
    assert list(factory.history.alarm_acks(T0 - timedelta(days=3650))) == [alarm]
