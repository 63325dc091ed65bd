"""A unit's journey for the customer's time-lapse: its visits in order, the time at each, its reworks.

Worked by hand: UJ enters kitting at minute 1 and leaves at 3 (120 s), waits 1 minute, is at
sheet_metal from 4 to 9 (300 s), fails at leak_test (10 to 12, 120 s) and is sent back to
brazing at 12:30, re-enters brazing (its second visit) at 20 and is still there.
"""

from __future__ import annotations

from factory.journey import journey
from factory.projector import apply
from factory.state import empty_state
from streams import events as ev
from support import TOKEN_A, TOKEN_B, catch_up, client_as, layout_text


def _uj(events):
    rework = ev.ReworkRouted(
        **events._env(12.5),
        unit_code="UJ",
        line_id="ac1",
        station_id="leak_test",
        defect_code="LEAK",
        reenter_at="brazing",
    )
    return [
        events.placed(0, "UJ"),
        events.entered(1, "UJ", "kitting"),
        events.exited(3, "UJ", "kitting"),
        events.entered(4, "UJ", "sheet_metal"),
        events.exited(9, "UJ", "sheet_metal"),
        events.entered(10, "UJ", "leak_test"),
        events.exited(12, "UJ", "leak_test"),
        rework,
        events.entered(20, "UJ", "brazing", visit=2),
    ]


def test_the_journey_lists_each_visit_in_order_with_its_time_and_the_rework(plant, events):
    state = empty_state(plant)
    for event in _uj(events):
        apply(state, event)
    found = journey(state.units["UJ"])
    assert [(v["station"], v["visit"]) for v in found["visits"]] == [
        ("kitting", 1),
        ("sheet_metal", 1),
        ("leak_test", 1),
        ("brazing", 2),
    ]
    assert [v["spent_s"] for v in found["visits"]] == [120.0, 300.0, 120.0, None]  # still at brazing
    assert [v["waited_s"] for v in found["visits"]] == [None, 60.0, 60.0, 480.0]
    assert found["reworks"] == [
        {"station": "leak_test", "time": "2026-03-02T08:12:30.000Z", "back_to": "brazing", "defect": "LEAK"}
    ]
    assert found["completed_at"] is None and found["unit_code"] == "UJ"


def test_the_journey_api_answers_only_for_the_token_and_shows_only_that_unit(factory, events):
    factory.bus.publish_many([events.exited(2, "UA", "kitting"), events.entered(3, "UA", "sheet_metal")])
    catch_up(factory)
    answer = client_as(factory).get(f"/api/orders/{TOKEN_A}/journey")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["unit_code"] == "UA" and [v["station"] for v in body["visits"]] == ["kitting", "sheet_metal"]
    assert "UB" not in answer.get_data(as_text=True) and TOKEN_B not in answer.get_data(as_text=True)
    queued = client_as(factory).get(f"/api/orders/{TOKEN_B}/journey").get_json()
    assert queued["visits"] == []  # UB waits in the backlog
    assert client_as(factory).get("/api/orders/unknown-token-0123456789/journey").status_code == 404


def test_the_time_lapse_page_is_behind_the_token(factory):
    client = client_as(factory)
    assert client.get(f"/track/{TOKEN_A}/replay").status_code == 200
    assert client.get("/track/unknown-token-0123456789/replay").status_code == 404
    assert client.get(f"/track/{TOKEN_A}/elsewhere").status_code == 404

    page = layout_text(factory, f"/track/{TOKEN_A}/replay")
    assert "journey-log" in page and "UA" in page and "UB" not in page
    assert "Watch its journey" in layout_text(factory, f"/track/{TOKEN_A}")
