"""Andon alarms: the rule worked by hand, stable ids, and who may acknowledge them (on the server)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app
from config import Settings
from factory.alarms import ALERT_AFTER_S, active_alarms, alarm_id, parse_alarm_id
from streams import events as ev
from streams.codec import format_time
from support import T0, EventFactory, add_kiosk, add_user, catch_up, sign_in


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
def factory(tmp_path):
    app = create_app(Settings(emulator=False, data_dir=tmp_path))
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
    catch_up(app)
    for name, role in (("mia", "manager"), ("wes", "executive")):
        add_user(app, name, role, PASSWORD)
    return app


PASSWORD = "correct horse battery"


def _ack(client, alarm):
    return client.post("/api/alarms/ack", json={"alarm": alarm})


@pytest.mark.parametrize("who", [None, "wall", "executive"])
def test_only_managers_acknowledge_even_when_calling_the_api_directly(factory, who):
    alarm = factory.queries.floor("ac1")["alarms"][0]["id"]
    client = factory.dash_app.server.test_client()
    if who == "wall":
        client.get(f"/kiosk/{add_kiosk(factory, 'Hall')}")
    elif who == "executive":
        sign_in(client, "wes", PASSWORD)
    with client.session_transaction() as session:
        session["role"] = session.get("role") and "manager"  # a forged role does not help: the session says otherwise
    assert _ack(client, alarm).status_code == 401
    catch_up(factory)
    assert factory.live.operations.acks == {}


def test_a_manager_acknowledges_an_active_alarm_once_and_every_worker_knows(factory, tmp_path):
    alarm = factory.queries.floor("ac1")["alarms"][0]["id"]
    client = factory.dash_app.server.test_client()
    sign_in(client, "mia", PASSWORD)
    assert _ack(client, alarm).status_code == 200
    catch_up(factory)
    assert factory.queries.floor("ac1")["alarms"][0]["ack"]["by"] == "mia"
    assert _ack(client, alarm).status_code == 409
    made_up = alarm.replace("brazing", "kitting")
    assert _ack(client, made_up).status_code == 404  # not an alarm the line raises
    assert _ack(client, "garbage").status_code == 404
    assert list(factory.live.operations.acks) == [alarm]
    # a second process on the same data directory (a restart) reads the acknowledgement back
    again = create_app(Settings(emulator=False, data_dir=tmp_path))
    assert list(again.live.operations.acks) == [alarm]
