"""The customer's view carries that order's whitelisted fields and nothing else."""

import json

from factory.projector import apply
from factory.state import empty_state
from factory.views import localise_order, names_for, order_view

ORDER_KEYS = {
    "site",
    "promised_by",
    "scrapped_at",
    "components",
    "order_id",
    "unit_code",
    "product",
    "line",
    "options",
    "status",
    "current_station",
    "waiting_for",
    "units_ahead",
    "eta",
    "reworks",
    "steps",
    "tests",
    "shipping",
    "placed_at",
    "completed_at",
    "as_of",
}


def test_order_view_of_a_unit_in_production(plant, events):
    state = empty_state(plant)
    for e in [
        events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"),
        events.placed(0, "U2", token="tok-U2-bbbbbbbbbbbb"),
        events.entered(1, "U1", "kitting"),
        events.exited(2, "U1", "kitting"),
        events.entered(3, "U1", "sheet_metal"),
        events.entered(3, "U2", "kitting"),
    ]:
        apply(state, e)
    view = order_view(state, plant, "tok-U1-aaaaaaaaaaaa")
    assert set(view) == ORDER_KEYS
    assert view["unit_code"] == "U1" and view["status"] == "in_production"
    assert view["current_station"] == "sheet_metal"
    assert [s["state"] for s in view["steps"][:3]] == ["done", "current", "pending"]
    assert view["waiting_for"] is None
    assert view["steps"][0] == {
        "id": "kitting",
        "state": "done",
        "entered": "2026-03-02T08:01:00.000Z",
        "exited": "2026-03-02T08:02:00.000Z",
        "visits": 1,
    }
    assert view["options"] == {"model": "AS12", "wifi": "wifi"}
    english, chinese = localise_order(view, plant, "en"), localise_order(view, plant, "zh")
    assert english["current_station"] == "Sheet metal" and chinese["current_station"] == "钣金"
    assert {"option": "model", "choice": "AS12", "label": "Model", "value": "12,000 BTU/h"} in english["options"]
    assert chinese["product"] == "分体式空调" and chinese["steps"][0]["name"] == "配料"
    text = json.dumps(view)
    assert "U2" not in text and "tok-U2" not in text and "tok-U1" not in text


def test_unknown_token_has_no_view(plant):
    assert order_view(empty_state(plant), plant, "nope") is None


def test_a_unit_between_stations_is_waiting_for_the_next(plant, events):
    state = empty_state(plant)
    for e in [
        events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"),
        events.entered(1, "U1", "kitting"),
        events.exited(2, "U1", "kitting"),
    ]:
        apply(state, e)
    view = order_view(state, plant, "tok-U1-aaaaaaaaaaaa")
    assert view["current_station"] is None and view["waiting_for"] == "sheet_metal"
    assert [s["state"] for s in view["steps"][:3]] == ["done", "waiting", "pending"]


def test_queued_orders_know_how_many_are_ahead(plant, events):
    state = empty_state(plant)
    for i in range(4):
        apply(state, events.placed(i, f"U{i}", token=f"tok-U{i}-aaaaaaaaaaaa"))
    apply(state, events.entered(5, "U0", "kitting"))
    ahead = [order_view(state, plant, f"tok-U{i}-aaaaaaaaaaaa")["units_ahead"] for i in range(4)]
    assert ahead == [0, 0, 1, 2]


def test_test_report_and_shipping_reach_the_customer(plant, events):
    from streams import events as ev

    state = empty_state(plant)
    check = ev.QualityChecked(
        **events._env(5),
        unit_code="U1",
        line_id="ac1",
        station_id="run_test",
        passed=True,
        measurements=(ev.Measurement("noise", "Indoor unit noise", "dB(A)", 36.4, None, 40.0, True),),
    )
    shipped = ev.UnitShipped(
        **events._env(9),
        unit_code="U1",
        line_id="ac1",
        shipment_id="AC1-T1",
        carrier="RRS Logistics",
        estimated_delivery="2026-03-04",
    )
    for e in [events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"), check, events.completed(8, "U1"), shipped]:
        apply(state, e)
    view = order_view(state, plant, "tok-U1-aaaaaaaaaaaa")
    assert view["status"] == "shipped"
    assert view["tests"] == [
        {
            "station": "run_test",
            "time": "2026-03-02T08:05:00.000Z",
            "passed": True,
            "visit": 1,
            "measurements": [{"name": "noise", "value": 36.4, "lower": None, "upper": 40.0, "passed": True}],
        }
    ]
    chinese = localise_order(view, plant, "zh")["tests"][0]
    assert chinese["station"] == "性能运转测试"
    assert chinese["measurements"][0]["label"] == "室内机噪声" and chinese["measurements"][0]["unit"] == "分贝(A)"
    assert view["shipping"] == {
        "carrier": "RRS Logistics",
        "shipment_id": "AC1-T1",
        "shipped_at": "2026-03-02T08:09:00.000Z",
        "estimated_delivery": "2026-03-04",
    }


def test_units_today_counts_from_the_plant_local_midnight(plant, events):
    # the AC line's site (Zhengzhou) is UTC+8: local midnight of 2 March is 16:00 UTC on 1 March
    from support import T0  # 08:00 UTC = 16:00 local on 2 March

    state = empty_state(plant)
    for i, minute in enumerate([-16 * 60 - 5, -16 * 60 + 5, -60, 0]):  # 15:55 and 16:05 UTC on 1 March, ...
        apply(state, events.placed(minute - 1, f"U{i}"))
        apply(state, events.completed(minute, f"U{i}"))
    assert T0.hour == 8
    from factory.views import floor_view

    view = floor_view(state, plant, "ac1")
    assert (view["completed"], view["completed_today"]) == (4, 3)


def test_names_for_a_page_cover_its_line_in_both_languages(plant):
    for line in plant.lines:
        for lang in ("en", "zh"):
            names = names_for(plant, line.id, lang)
            assert set(names["stations"]) == {s.id for s in line.stations}
            assert all(names["stations"].values()) and names["product"] and names["site"]
    assert names_for(plant, "ac2", "zh")["site"] == "印度浦那空调工厂"
