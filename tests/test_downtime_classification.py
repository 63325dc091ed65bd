"""Downtime classification: the tree's checks, the API's answers and the Pareto, all worked by hand.

Three stops on line ac1's brazing station (T0 = 2026-03-02 08:00 UTC, the line open throughout:
no shift events, so the whole range is open time):
- S1, machine 1, GAS, 08:10 → 08:40 (1,800 s), classified mech_jam, then re-classified org_maintenance;
- S2, machine 2, TORCH, 08:20 → 08:35 (900 s), classified elec_fault;
- S3, machine 1, MECH, 09:00 → 09:12 (720 s), never classified: MECH's default is mech_jam.
So the Pareto over 08:00-10:00 is org_maintenance 1,800 s, elec_fault 900 s, mech_jam 720 s, and
2,700 of 3,420 s are classified by people (0.789…). Had the re-classification been lost, mech_jam
would show 2,520 s.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from factory.exec_view import exec_view
from factory.history import queries as hq
from factory.history.writer import Recorder
from factory.layout import LayoutError, parse_plant
from streams import events as ev
from support import API_KEY, T0, catch_up, client_as

S1 = {"line": "ac1", "station": "brazing", "machine": 1, "down_since": "2026-03-02T08:10:00.000Z"}
S2 = {"line": "ac1", "station": "brazing", "machine": 2, "down_since": "2026-03-02T08:20:00Z"}  # spelled otherwise
S3_SINCE = "2026-03-02T09:00:00.000Z"
RANGE = "from=2026-03-02T08:00:00Z&to=2026-03-02T10:00:00Z"
EXPECTED = [
    {"key": "org_maintenance", "value": 1800.0},
    {"key": "elec_fault", "value": 900.0},
    {"key": "mech_jam", "value": 720.0},
]


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def stop_events() -> list[ev.Event]:
    out: list[ev.Event] = []

    def add(cls, minute, **data):
        out.append(cls(id=f"dt-{len(out)}", source="/test/ac1", time=at(minute), line_id="ac1", **data))

    add(ev.MachineDown, 10, station_id="brazing", machine=1, reason_code="GAS", reason="Gas supply")
    add(ev.MachineDown, 20, station_id="brazing", machine=2, reason_code="TORCH", reason="Torch")
    add(ev.MachineUp, 35, station_id="brazing", machine=2, reason_code="TORCH", down_s=900.0)
    add(ev.MachineUp, 40, station_id="brazing", machine=1, reason_code="GAS", down_s=1800.0)
    add(ev.MachineDown, 60, station_id="brazing", machine=1, reason_code="MECH", reason="Jam")
    add(ev.MachineUp, 72, station_id="brazing", machine=1, reason_code="MECH", down_s=720.0)
    return out


def record_control(app) -> None:
    """Let the history writer copy the control log into the history, as the running app's does."""
    recorder = Recorder(app.history, {"control": app.control}, linger_s=0.0)
    while recorder.step() > 0:
        pass


@pytest.fixture
def stopped(factory):
    batch = stop_events()
    factory.bus.publish_many(batch)
    factory.history.record(batch)
    catch_up(factory)
    return factory


def classify_all(app) -> None:
    manager = client_as(app, "mia")
    for body in ({**S1, "reason": "mech_jam", "note": "first look"}, {**S2, "reason": "elec_fault"}):
        answer = manager.post("/api/downtime/classify", json=body)
        assert answer.status_code == 200, answer.get_json()
    catch_up(app)
    answer = manager.post(
        "/api/downtime/classify", json={**S1, "reason": "org_maintenance", "note": "  fitter was on another line "}
    )
    assert answer.status_code == 200 and answer.get_json()["classified"]["by"] == "mia"
    catch_up(app)
    record_control(app)


def pareto(app) -> tuple[list, float | None]:
    doc = hq.kpis(app.history, app.plant, T0, at(120), line_id="ac1")["lines"]["ac1"]
    return doc["downtime_pareto_s"], doc["downtime_classified_share"]


def test_the_pareto_counts_the_latest_reason_people_gave_and_the_machine_default_otherwise(stopped):
    # nobody classified yet: GAS → mat_utility, TORCH → mech_torch, MECH → mech_jam
    by_machine = [
        {"key": "mat_utility", "value": 1800.0},
        {"key": "mech_torch", "value": 900.0},
        {"key": "mech_jam", "value": 720.0},
    ]
    assert pareto(stopped) == (by_machine, 0.0)
    classify_all(stopped)
    found, share = pareto(stopped)
    assert found == EXPECTED
    assert share == pytest.approx(2700 / 3420, abs=1e-12)
    view = exec_view(stopped.history, stopped.plant, date(2026, 3, 2), date(2026, 3, 2), at(120), line_id="ac1")
    assert view["downtime_pareto_s"] == EXPECTED
    assert view["downtime_classified_share"] == pytest.approx(2700 / 3420, abs=1e-12)


def test_a_kept_day_is_summed_again_when_one_of_its_stops_is_classified_later(stopped):
    day, settled = date(2026, 3, 2), datetime(2026, 3, 4, tzinfo=UTC)
    first = exec_view(stopped.history, stopped.plant, day, day, settled, line_id="ac1")
    assert first["downtime_classified_share"] == 0.0
    assert stopped.history.query("SELECT count(*) FROM day_sums WHERE line_id = 'ac1'")[0][0] == 1  # kept
    classify_all(stopped)
    again = exec_view(stopped.history, stopped.plant, day, day, settled, line_id="ac1")
    assert again["downtime_pareto_s"] == EXPECTED


def test_the_list_shows_every_stop_newest_first_with_its_reason_note_and_who(stopped):
    classify_all(stopped)
    answer = client_as(stopped, "mia").get(f"/api/downtime?line=ac1&{RANGE}")
    assert answer.status_code == 200
    listed = answer.get_json()["stops"]
    assert [(s["start"], s["machine"]) for s in listed] == [
        (S3_SINCE, 1),
        ("2026-03-02T08:20:00.000Z", 2),
        ("2026-03-02T08:10:00.000Z", 1),
    ]
    s3, s2, s1 = listed
    assert (s3["classified"], s3["reason"], s3["by"], s3["duration_s"], s3["end"]) == (
        False, "mech_jam", None, 720.0, "2026-03-02T09:12:00.000Z"
    )  # fmt: skip
    assert (s2["reason"], s2["by"], s2["duration_s"], s2["machine_code"]) == ("elec_fault", "mia", 900.0, "TORCH")
    assert (s1["reason"], s1["note"], s1["reason_name"]) == ("org_maintenance", "fitter was on another line",
                                                             "Waiting for maintenance")  # fmt: skip
    csv = client_as(stopped, "ada").get(f"/api/downtime?line=ac1&{RANGE}&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("station,machine,start,end,duration_s") and len(lines) == 4
    assert "org_maintenance,yes,fitter was on another line,mia" in lines[3]


def test_an_open_stop_the_history_has_not_recorded_is_listed_and_may_be_classified(stopped):
    down = ev.MachineDown(id="open-1", source="/test/ac1", time=at(100), line_id="ac1", station_id="brazing",
                          machine=2, reason_code="GAS", reason="Gas")  # fmt: skip
    stopped.bus.publish(down)  # live only: the writer has not recorded it
    catch_up(stopped)
    manager = client_as(stopped, "mia")
    listed = manager.get(f"/api/downtime?line=ac1&{RANGE}").get_json()["stops"]
    assert (listed[0]["start"], listed[0]["open"], listed[0]["end"]) == ("2026-03-02T09:40:00.000Z", True, None)
    body = {**S2, "down_since": "2026-03-02T09:40:00Z", "reason": "mat_utility"}
    assert manager.post("/api/downtime/classify", json=body).status_code == 200


def test_access_is_for_managers_and_admins_of_the_lines_site(stopped):
    from support import PASSWORD, add_user

    body = {**S1, "reason": "mech_jam"}
    assert client_as(stopped).post("/api/downtime/classify", json=body).status_code == 401
    assert client_as(stopped).get("/api/downtime?line=ac1").status_code == 401
    for who in ("wes", "wall"):
        assert client_as(stopped, who).post("/api/downtime/classify", json=body).status_code == 403
        assert client_as(stopped, who).get("/api/downtime?line=ac1").status_code == 403
    add_user(stopped, "sam", "manager", PASSWORD, site="camden")
    assert stopped.plant.line("ac1").site_id != "camden"
    assert client_as(stopped, "sam").post("/api/downtime/classify", json=body).status_code == 403
    assert client_as(stopped, "sam").get("/api/downtime?line=ac1").status_code == 403
    key = {"Authorization": f"Bearer {API_KEY}"}  # the machine API's key classifies nothing
    assert client_as(stopped).post("/api/downtime/classify", json=body, headers=key).status_code == 401
    assert client_as(stopped, "ada").post("/api/downtime/classify", json=body).status_code == 200
    catch_up(stopped)
    with stopped.live.lock:
        assert list(stopped.live.operations.downtime_reasons.values()) == [("mech_jam", "", "ada")]


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"reason": "MECH"}, 400, "unknown_reason"),  # a machine code, not a reason of the tree
        ({"reason": None}, 400, "unknown_reason"),
        ({"note": "x" * 501}, 400, "bad_note"),
        ({"note": 7}, 400, "bad_note"),
        ({"line": "nope"}, 400, "unknown_line"),
        ({"station": "nope"}, 400, "unknown_station"),
        ({"machine": "1"}, 400, "bad_machine"),
        ({"machine": True}, 400, "bad_machine"),
        ({"down_since": "yesterday"}, 400, "bad_down_since"),
        ({"down_since": "2026-03-02T08:10:00"}, 400, "bad_down_since"),  # no time zone
        ({"down_since": "2026-03-02T08:11:00Z"}, 404, "no_such_stop"),
        ({"machine": 2}, 404, "no_such_stop"),
    ],
)
def test_bad_input_is_a_4xx_that_names_it(stopped, change, status, reason):
    answer = client_as(stopped, "mia").post("/api/downtime/classify", json={**S1, "reason": "mech_jam", **change})
    assert (answer.status_code, answer.get_json()["error"]) == (status, reason)


def test_bodies_that_are_not_a_classification_are_refused(stopped):
    manager = client_as(stopped, "mia")
    assert manager.post("/api/downtime/classify", data="{no", content_type="application/json").status_code == 400
    assert manager.post("/api/downtime/classify", json=[1, 2]).status_code == 400
    big = {**S1, "reason": "mech_jam", "pad": "x" * 5000}
    assert manager.post("/api/downtime/classify", json=big).status_code == 413
    assert manager.get("/api/downtime?line=ac1&from=2026-03-02T10:00:00Z&to=2026-03-02T08:00:00Z").status_code == 400
    assert manager.get("/api/downtime?line=ac1&from=soon").status_code == 400
    assert manager.get("/api/downtime").status_code == 400  # the line is required
    assert manager.get("/api/downtime?line=ac1&format=xls").status_code == 400


def test_a_new_app_on_the_same_data_dir_keeps_the_classifications(stopped, tmp_path):
    from app import create_app
    from config import Settings

    classify_all(stopped)
    stopped.history.close()
    again = create_app(Settings(emulator=False, data_dir=tmp_path, api_keys=(API_KEY,)))
    catch_up(again)
    assert pareto(again) == (EXPECTED, pytest.approx(2700 / 3420, abs=1e-12))
    listed = client_as(again, "mia").get(f"/api/downtime?line=ac1&{RANGE}").get_json()["stops"]
    assert [s["reason"] for s in listed] == ["mech_jam", "elec_fault", "org_maintenance"]
    assert [s["classified"] for s in listed] == [False, True, True]


# --- the reason tree in the factory file ---------------------------------------------------------------

MINI = {
    "site": {"id": "lab"},
    "products": {"p": {}},
    "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]}],
    "reason_codes": {"MECH": {"en": "Jam", "zh": "卡滞"}, "ELEC": {"en": "Fault", "zh": "故障"}},
}


def tree(*categories, defaults=None):
    mapped = defaults if defaults is not None else {"MECH": "a", "ELEC": "b"}
    return {**MINI, "downtime_tree": {"categories": list(categories), "defaults": mapped}}


def cat(cid, *codes):
    return {"id": cid, "name": {"en": cid.title(), "zh": "类"},
            "reasons": [{"code": c, "name": {"en": c.upper(), "zh": "因"}} for c in codes]}  # fmt: skip


def test_a_valid_tree_maps_every_machine_code_and_names_reasons_in_both_languages():
    plant = parse_plant(tree(cat("mech", "a"), cat("elec", "b", "c")))
    assert plant.downtime.default_for("MECH") == "a" and plant.downtime.name("c", "zh") == "因"
    assert [c["value"] for c in plant.downtime.choices()] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (tree(cat("mech", "a"), cat("elec", "b"), defaults={"MECH": "a", "ELEC": "zz"}), "unknown reason codes ['zz']"),
        (
            tree(cat("mech", "a"), cat("elec", "b"), defaults={"MECH": "a", "ELEC": "b", "HYD": "a"}),
            "unknown machine reason codes ['HYD']",
        ),
        (tree(cat("mech", "a"), cat("elec", "b"), defaults={"MECH": "a"}), "['ELEC'] have no place in the tree"),
        (tree(cat("mech", "a", "b"), cat("elec", "b")), "unique across categories: ['b']"),
        (tree(cat("mech", "a"), cat("mech", "b")), "downtime category ids must be unique"),
        (tree(cat("mech", "a", "b"), cat("empty")), "downtime category empty: has no reasons"),
        (tree(), "categories: List should have at least 1 item"),
    ],
)
def test_a_bad_tree_is_refused_with_its_place(doc, message):
    with pytest.raises(LayoutError, match="downtime"):
        parse_plant(doc)
    with pytest.raises(LayoutError) as refused:
        parse_plant(doc)
    assert message in str(refused.value)


def test_a_reason_needs_its_chinese_name_too():
    doc = tree(cat("mech", "a"), cat("elec", "b"))
    doc["downtime_tree"]["categories"][0]["reasons"][0]["name"] = {"en": "Jam"}
    with pytest.raises(LayoutError, match=r"'Jam' has no \['zh'\] name"):
        parse_plant(doc)


def test_a_file_without_a_tree_counts_each_machine_code_as_its_own_reason():
    plant = parse_plant(MINI)
    assert plant.downtime.default_for("MECH") == "MECH" and plant.downtime.name("ELEC") == "Fault"


# --- the page ----------------------------------------------------------------------------------------


def test_the_page_shows_a_manager_the_lines_stops_with_the_unclassified_marked(stopped):
    from support import layout_text

    classify_all(stopped)
    text = layout_text(stopped, "/downtime", "?line=ac1", client=client_as(stopped, "mia"))
    assert text.count("dt-stop") == 3 and text.count("dt-unclassified") == 1
    assert "Waiting for maintenance" in text and "classified by mia" in text and "unclassified" in text
    assert "Organisational · Waiting for maintenance" in text  # the picker holds the tree


def test_the_page_shows_nothing_of_the_line_to_anyone_else(stopped):
    from support import PASSWORD, add_user, layout_text

    add_user(stopped, "sam", "manager", PASSWORD, site="camden")
    for who in (None, "wes", "wall", "sam"):
        client = client_as(stopped, who)
        for search in ("?line=ac1", "", "?line=nope"):
            text = layout_text(stopped, "/downtime", search, client=client)
            assert "dt-stop" not in text and "brazing" not in text.lower() and "GAS" not in text, (who, search)


def _save_body(client, key: str, reason, note="") -> dict:
    import json

    from dashboard import ids

    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if ids.DOWNTIME_STATUS in d["output"])
    button = {"stop": key, "type": ids.DOWNTIME_SAVE}
    return {
        "output": dep["output"],
        "outputs": [
            [{"id": {"stop": key, "type": ids.DOWNTIME_STATUS}, "property": "children"}],
            {"id": ids.DOWNTIME_FLASH, "property": "children"},
        ],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [
            [{"id": {"stop": key, "type": ids.DOWNTIME_REASON}, "property": "value", "value": reason}],
            [{"id": {"stop": key, "type": ids.DOWNTIME_NOTE}, "property": "value", "value": note}],
            [{"id": button, "property": "id", "value": button}],
        ],
        "changedPropIds": [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"],
    }


def test_the_save_callback_classifies_for_a_manager_of_the_site_only(stopped):
    from support import PASSWORD, add_user

    add_user(stopped, "sam", "manager", PASSWORD, site="camden")
    key = "ac1|brazing|1|2026-03-02T08:10:00.000Z"
    for who in (None, "wes", "wall", "sam"):
        client = client_as(stopped, who)
        client.get("/")
        answer = client.post("/_dash-update-component", json=_save_body(client, key, "qual_hold"))
        assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:200]
        assert "Saved" not in answer.get_data(as_text=True), who
    catch_up(stopped)
    with stopped.live.lock:
        assert stopped.live.operations.downtime_reasons == {}  # nobody above classified anything
    manager = client_as(stopped, "mia")
    manager.get("/")
    bad = manager.post("/_dash-update-component", json=_save_body(manager, key, "not-a-reason"))
    assert "Not saved: reason must be a reason code" in bad.get_data(as_text=True)
    good = manager.post("/_dash-update-component", json=_save_body(manager, key, "qual_hold", "seal check"))
    assert "Saved: Quality hold (by mia)" in good.get_data(as_text=True)
    catch_up(stopped)
    with stopped.live.lock:
        assert list(stopped.live.operations.downtime_reasons.values()) == [("qual_hold", "seal check", "mia")]
