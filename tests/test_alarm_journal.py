"""The alarm journal (GET /api/alarms), shelving and priorities: worked by hand, on the real app.

One line, one station (kitting), 30 minutes after T0 (08:00 UTC, 16:00 in Zhengzhou):

    0  shift starts; orders U1, U2          9  U2 leaves kitting: starved since 9
    1  U1 enters kitting: running           25 machine 1 breaks down again ("Air")
    2  machine 1 breaks down ("Jam")        end of the range: 30
    4  it is repaired: running (U1 still at kitting)
    5  U1 leaves kitting: starved since 5
    8  U2 enters kitting: starved 3 min, less than 5: no alarm

So three alarms: down 2→4 (120 s), starved since 9 raised at 14 (5 minutes on) cleared at 25
(660 s), down since 25 still active at 30 (300 s).
People: mia acknowledges the first at 3; the last is acknowledged by ada at 26 and by mia at 27
(the first counts); mia shelves kitting's starved alarms at 12 until 20, so the one raised at 14
was raised shelved.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest

from app import create_app
from config import Settings
from factory.alarm_journal import floods, people_on, per_hour
from factory.alarms import alarm_id
from factory.layout import LayoutError, parse_plant
from streams import events as ev
from streams.codec import format_time
from support import API_KEY, PASSWORD, ROOT, T0, EventFactory, add_user, callback_body, catch_up, client_as, layout_text

KEY = {"Authorization": f"Bearer {API_KEY}"}


def at(minute: float) -> str:
    return format_time(T0 + timedelta(minutes=minute))


def down(events, minute, reason):
    return ev.MachineDown(
        **events._env(minute), line_id="ac1", station_id="kitting", machine=1, reason_code=reason[:3].upper(),
        reason=reason,
    )  # fmt: skip


def up(events, minute, lasted_s):
    return ev.MachineUp(
        **events._env(minute), line_id="ac1", station_id="kitting", machine=1, reason_code="JAM", down_s=lasted_s
    )


def line_events(events: EventFactory) -> list[ev.Event]:
    return [
        ev.ShiftStarted(**events._env(0), line_id="ac1", shift="A", planned_end=at(480)),
        events.placed(0, "U1"),
        events.placed(0, "U2"),
        events.entered(1, "U1", "kitting"),
        down(events, 2, "Jam"),
        up(events, 4, 120.0),
        events.exited(5, "U1", "kitting"),
        events.entered(8, "U2", "kitting"),
        events.exited(9, "U2", "kitting"),
        down(events, 25, "Air"),
    ]


FIRST, STARVED, LAST = (
    alarm_id("ac1", "kitting", "down", at(2)),
    alarm_id("ac1", "kitting", "starved", at(9)),
    alarm_id("ac1", "kitting", "down", at(25)),
)


def people(events: EventFactory) -> list[ev.Event]:
    def env(minute):
        return {**events._env(minute), "line_id": "ac1"}

    return [
        ev.AlarmAcknowledged(**env(3), alarm_id=FIRST, by="mia"),
        ev.AlarmShelved(**env(12), station_id="kitting", alarm_kind="starved", until=at(20), reason="refill", by="mia"),
        ev.AlarmAcknowledged(**env(26), alarm_id=LAST, by="ada"),
        ev.AlarmAcknowledged(**env(27), alarm_id=LAST, by="mia"),  # the history keeps one per alarm: the first
    ]


@pytest.fixture
def app(tmp_path):
    factory = create_app(Settings(emulator=False, data_dir=tmp_path, api_keys=(API_KEY,)))
    events = EventFactory()
    recorded = line_events(events)
    factory.bus.publish_many(recorded)
    factory.history.record(recorded + people(events))
    catch_up(factory)
    for name, role, site in (
        ("mia", "manager", None),
        ("wes", "executive", None),
        ("ada", "admin", None),
        ("sam", "manager", "shenyang"),
    ):
        add_user(factory, name, role, PASSWORD, site)
    return factory


def journal(app, who="mia", query="line=ac1", **kw):
    client = client_as(app, who) if who else app.dash_app.server.test_client()
    return client.get(f"/api/alarms?{query}&from={at(0)}&to={at(30)}", **kw)


def test_the_journal_worked_by_hand(app):
    answer = journal(app)
    assert answer.status_code == 200, answer.data
    rows = answer.get_json()["alarms"]
    assert [(r["id"], r["raised"], r["cleared"], r["lasted_s"]) for r in rows] == [
        (LAST, at(25), None, 300.0),
        (STARVED, at(14), at(25), 660.0),
        (FIRST, at(2), at(4), 120.0),
    ]
    last, starved, first = rows
    assert [r["state"] for r in rows] == ["acknowledged", "cleared unacknowledged", "normal"]
    assert (last["acknowledged"], last["acknowledged_by"]) == (at(26), "ada")  # the first acknowledgement counts
    assert (first["acknowledged"], first["acknowledged_by"]) == (at(3), "mia")
    assert [r["priority"] for r in rows] == ["high", "low", "high"]  # factory.yaml leaves the defaults
    assert [r["reason"] for r in rows] == ["Air", None, "Jam"]
    assert (starved["shelved_by"], starved["shelved_reason"]) == ("mia", "refill")
    assert first["shelved_by"] is None and last["shelved_by"] is None
    document = answer.get_json()
    assert document["per_hour"]["ac1"] == [{"hour": at(0), "alarms": 3}]
    assert document["floods"]["ac1"] == []
    assert document["flood_rule"] == {"more_than": 10, "window_min": 10}


def test_an_alarm_already_active_at_the_start_keeps_its_beginning(app):
    answer = client_as(app, "mia").get(f"/api/alarms?line=ac1&from={at(3)}&to={at(30)}")
    rows = answer.get_json()["alarms"]
    assert [r["id"] for r in rows] == [LAST, STARVED, FIRST]  # the first breakdown lasted into the range
    assert rows[-1]["since"] == at(2)
    assert answer.get_json()["per_hour"]["ac1"] == [{"hour": at(0), "alarms": 2}]  # raised inside: 14 and 25
    later = client_as(app, "mia").get(f"/api/alarms?line=ac1&from={at(26)}&to={at(30)}").get_json()["alarms"]
    assert [r["id"] for r in later] == [LAST]


def test_filters_and_csv(app):
    def ids(query):
        return [r["id"] for r in journal(app, query=query).get_json()["alarms"]]

    assert ids("line=ac1&kind=down") == [LAST, FIRST]
    assert ids("line=ac1&priority=low") == [STARVED]
    assert ids("line=ac1&priority=medium") == []
    assert ids("line=ac1&station=kitting") == [LAST, STARVED, FIRST]
    csv = journal(app, query="line=ac1&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("id,line,station,kind,priority,reason,since,raised,cleared")
    assert len(lines) == 4 and lines[1].startswith(LAST + ",ac1,kitting,down,high,Air,")


def test_bad_requests_get_4xx_with_a_reason(app):
    mia = client_as(app, "mia")
    for query, reason in (
        ("line=nope", "unknown_line"),
        ("line=ac1&station=nope", "unknown_station"),
        ("line=ac1&kind=idle", "bad_kind"),
        ("line=ac1&priority=urgent", "bad_priority"),
        ("line=ac1&from=yesterday", "bad_from"),
        (f"line=ac1&from={at(30)}&to={at(0)}", "bad_range"),
        (f"line=ac1&from={at(0)}&to={at(60 * 24 * 8)}", "range_too_long"),
        (f"from={at(0)}&to={at(60 * 24 * 2)}", "range_too_long"),  # six lines × two days
    ):
        answer = mia.get(f"/api/alarms?{query}")
        assert answer.status_code == 400, (query, answer.data)
        assert answer.get_json()["error"] == reason, query


def test_who_may_read_the_journal(app):
    assert journal(app, who=None).status_code == 401
    assert journal(app, who="wall").status_code == 401  # a wall screen shows the live andon, not the journal
    assert journal(app, who="wes").status_code == 200
    assert journal(app, who="sam").status_code == 403  # Shenyang's manager, Zhengzhou's line
    everything = journal(app, who="sam", query="").get_json()["alarms"]
    assert everything == []  # every line he may see: Shenyang's, which had none
    answer = app.dash_app.server.test_client().get(f"/api/alarms?line=ac1&from={at(0)}&to={at(30)}", headers=KEY)
    assert answer.status_code == 200 and len(answer.get_json()["alarms"]) == 3


def test_shelving_hides_an_alarm_point_on_the_floor_until_unshelved(app):
    mia = client_as(app, "mia")
    floor = app.queries.floor("ac1")
    assert [a["id"] for a in floor["alarms"]] == [LAST]
    body = {"line": "ac1", "station": "kitting", "kind": "down", "minutes": 30, "reason": "fitter on it"}
    answer = mia.post("/api/alarms/shelve", json=body)
    assert answer.status_code == 201, answer.data
    catch_up(app)
    floor = app.queries.floor("ac1")
    assert floor["alarms"] == [] and floor["shelved"] == 1
    point = {"line": "ac1", "station": "kitting", "kind": "down"}
    assert mia.post("/api/alarms/unshelve", json=point).status_code == 200
    catch_up(app)
    assert [a["id"] for a in app.queries.floor("ac1")["alarms"]] == [LAST]
    again = mia.post("/api/alarms/unshelve", json=point)
    assert again.status_code == 404 and again.get_json()["error"] == "not_shelved"


def test_shelving_needs_a_manager_a_reason_and_an_end(app):
    good = {"line": "ac1", "station": "kitting", "kind": "down", "minutes": 30, "reason": "fitter on it"}
    assert client_as(app, "wes").post("/api/alarms/shelve", json=good).status_code == 401
    assert app.dash_app.server.test_client().post("/api/alarms/shelve", json=good).status_code == 401
    assert client_as(app, "sam").post("/api/alarms/shelve", json=good).status_code == 404  # not his site's line
    mia = client_as(app, "mia")
    assert mia.post("/api/alarms/shelve", data={k: str(v) for k, v in good.items()}).status_code == 404  # no form
    for change, reason in (
        ({"station": "nope"}, "unknown_station"),
        ({"kind": "running"}, "bad_kind"),
        ({"minutes": 0}, "bad_duration"),
        ({"minutes": 12 * 60 + 1}, "bad_duration"),  # alarms.max_shelve_h: 12
        ({"minutes": True}, "bad_duration"),
        ({"minutes": "30"}, "bad_duration"),
        ({"reason": "  "}, "bad_reason"),
        ({"reason": "x" * 201}, "bad_reason"),
    ):
        answer = mia.post("/api/alarms/shelve", json={**good, **change})
        assert answer.status_code == 400, change
        assert answer.get_json()["error"] == reason, change
    assert mia.post("/api/alarms/shelve", json={**good, "minutes": 12 * 60}).status_code == 201


def test_people_on_folds_acknowledgements_and_shelving_in_time_order():
    events = EventFactory()
    env = lambda m: {**events._env(m), "line_id": "ac1"}  # noqa: E731
    shelve = lambda m, until, why: ev.AlarmShelved(  # noqa: E731
        **env(m), station_id="kitting", alarm_kind="down", until=at(until), reason=why, by="mia"
    )
    folded = people_on(
        [
            shelve(10, 40, "first"),
            shelve(20, 30, "again"),  # replaces the first from 20
            ev.AlarmUnshelved(**env(25), station_id="kitting", alarm_kind="down", by="mia"),  # ends it at 25
            shelve(50, 60, "expires"),
            ev.AlarmShelved(**env(70), station_id="kitting", alarm_kind="down", until="soon", reason="x", by="mia"),
            ev.AlarmAcknowledged(**env(9), alarm_id="a", by="zoe"),
            ev.AlarmAcknowledged(**env(8), alarm_id="a", by="yan"),  # arrived later, happened first
        ]
    )
    assert folded.acks == {"a": (T0 + timedelta(minutes=8), "yan")}
    assert [(s.start, s.end, s.reason) for s in folded.shelvings] == [
        (T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), "first"),
        (T0 + timedelta(minutes=20), T0 + timedelta(minutes=25), "again"),
        (T0 + timedelta(minutes=50), T0 + timedelta(minutes=60), "expires"),
    ]  # a shelving with an unreadable end is no shelving


def test_floods_more_than_n_alarms_within_the_window():
    t = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 3, 9.99, 10, 30, 31, 32, 33)]
    window = timedelta(minutes=10)
    # From 0: 0, 1, 2, 3, 9.99 in [0, 10): 5 alarms. From 30: 4.
    assert floods(t, 4, window) == [{"start": at(0), "end": at(11), "alarms": 6}]  # 1→11 has 1, 2, 3, 9.99, 10
    assert floods(t, 5, window) == []
    assert floods(t, 3, window) == [
        {"start": at(0), "end": at(12), "alarms": 6},  # the windows from 0, 1 and 2 overlap: one flood
        {"start": at(30), "end": at(40), "alarms": 4},
    ]
    assert floods([], 10, window) == []


def test_alarms_per_site_local_hour_with_partial_edges():
    from zoneinfo import ZoneInfo

    pune = ZoneInfo("Asia/Kolkata")  # +05:30: local hours start at :30 UTC
    raised = [T0 + timedelta(minutes=m) for m in (5, 29, 30, 95)]
    assert per_hour(raised, T0, T0 + timedelta(minutes=100), pune) == [
        {"hour": format_time(T0 - timedelta(minutes=30)), "alarms": 2},  # 07:30-08:30 UTC, from 08:00
        {"hour": format_time(T0 + timedelta(minutes=30)), "alarms": 1},
        {"hour": format_time(T0 + timedelta(minutes=90)), "alarms": 1},  # cut at 100
    ]


def test_priorities_come_from_the_factory_file(plant):
    import yaml

    doc = yaml.safe_load((ROOT / "factory.yaml").read_text(encoding="utf-8"))
    doc["alarms"] = {"priorities": {"starved": "medium", "spc": "high"}}
    doc["sites"][0]["lines"][0]["stations"][0]["alarm_priorities"] = {"down": "low"}
    custom = parse_plant(doc)
    assert custom.alarm_priority("ac1", "kitting", "down") == "low"  # the station's own
    assert custom.alarm_priority("ac1", "kitting", "starved") == "medium"  # the plant's
    assert custom.alarm_priority("ac1", "brazing", "blocked") == "medium"  # the default
    assert custom.alarm_priority("ac1", "leak_test", "spc") == "high"  # a broken SPC run rule
    assert plant.alarm_priority("ac1", "brazing", "starved") == "low"
    assert plant.alarm_priority("ac1", "leak_test", "spc") == "low"
    for bad, where in (
        ({"priorities": {"starved": "urgent"}}, "alarms.priorities.starved"),
        ({"priorities": {"idle": "low"}}, "alarms.priorities.idle"),
        ({"max_shelve_h": 0}, "alarms.max_shelve_h"),
        ({"flood_alarms": 0}, "alarms.flood_alarms"),
    ):
        doc["alarms"] = bad
        with pytest.raises(LayoutError, match=where.replace(".", r"\.")):
            parse_plant(doc)


# --- the page (/alarms): its layout and callbacks decide access on the server -----------------------------
def _deps(app):
    client = app.dash_app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").get_json()
    load = next(d for d in deps if d["output"].startswith("..alarms-grid.rowData"))
    shelve = next(d for d in deps if d["output"].startswith("..shelve-result.children"))
    return load, shelve


def _call(client, dep, values):
    response = client.post("/_dash-update-component", json=callback_body(dep, values))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_json() if response.status_code == 200 else None


LOAD = {"alarms-line.value": "ac1", "alarms-span.value": "24", "alarms-refresh.n_clicks": 1}


def test_the_page_and_its_callbacks_for_each_role(app):
    load, shelve = _deps(app)
    for who in (None, "wall"):
        client = client_as(app, who)
        assert "alarms-grid" not in layout_text(app, "/alarms", "?line=ac1", client=client)
        answer = json.dumps(_call(client, load, LOAD))
        assert "kitting" not in answer.lower() and "Jam" not in answer, who
        answer = json.dumps(_call(client, shelve, {"shelve-button.n_clicks": 1, "shelve-line.data": "ac1"}))
        assert "Sign in as a manager" in answer, who
    executive = client_as(app, "wes")
    text = layout_text(app, "/alarms", "?line=ac1", client=executive)
    assert "alarms-grid" in text and "Shelve a nuisance alarm" not in text  # reads, does not shelve
    rows = _call(executive, load, LOAD)["response"]["alarms-grid"]["rowData"]
    assert [(r["kind"], r["state"], r["reason"]) for r in rows] == [
        ("Breakdown", "Active, acknowledged", "Air"),
        ("Starved", "Cleared, unacknowledged", ""),
        ("Breakdown", "Cleared", "Jam"),
    ]
    assert rows[0]["raised"] == "2026-03-02 16:25:00"  # Zhengzhou's time, UTC+8
    assert rows[1]["shelved"] == "mia: refill" and rows[1]["lasted"] == "11 min 00 s"
    status = _call(executive, load, LOAD)["response"]["alarms-status"]["children"]
    assert status == "3 alarms · 0 active and unacknowledged"
    assert "Shelve a nuisance alarm on" in layout_text(app, "/alarms", "?line=ac1", client=client_as(app, "mia"))
    other = client_as(app, "sam")  # Shenyang's manager asks for Zhengzhou's line
    answer = _call(other, load, LOAD)["response"]
    assert answer["alarms-grid"]["rowData"] == [] and "own site" in answer["alarms-status"]["children"]


def test_a_manager_shelves_and_unshelves_from_the_page(app):
    _, shelve = _deps(app)
    mia = client_as(app, "mia")
    values = {
        "shelve-button.n_clicks": 1, "shelve-line.data": "ac1", "shelve-station.value": "kitting",
        "shelve-kind.value": "down", "shelve-minutes.value": 45, "shelve-reason.value": "fitter on it",
    }  # fmt: skip
    refused = _call(mia, shelve, {**values, "shelve-reason.value": ""})["response"]["shelve-result"]["children"]
    assert refused.startswith("say why")
    threading.Thread(target=lambda: [catch_up(app) for _ in range(40) if not time.sleep(0.05)]).start()
    answer = _call(mia, shelve, values)["response"]
    assert answer["shelve-result"]["children"].startswith("Shelved until ")
    assert "shelved by mia" in json.dumps(answer["shelved-list"]["children"])
    assert app.queries.floor("ac1")["shelved"] == 1
    assert _call(client_as(app, "sam"), shelve, values)["response"]["shelve-result"]["children"] == (
        "no such line of yours"
    )


def test_the_journal_is_the_same_from_a_shared_postgresql_history(postgres_url, tmp_path):
    # Several workers share one PostgreSQL history: each rebuilds the same journal from it.
    from factory.history import open_history
    from factory.history.alarm_log import line_journal
    from factory.layout import load_plant

    plant = load_plant(ROOT / "factory.yaml")
    events = EventFactory()
    recorded = line_events(events) + people(events)
    journals = []
    for target in (postgres_url, tmp_path / "history.duckdb"):
        history = open_history(target, plant)
        history.record(recorded)
        journals.append(line_journal(history, plant, "ac1", T0, T0 + timedelta(minutes=30)))
        history.close()
    shared, local = journals
    assert [r["id"] for r in shared["alarms"]] == [LAST, STARVED, FIRST]
    assert shared == local
