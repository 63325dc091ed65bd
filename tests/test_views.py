"""The customer's view carries that order's whitelisted fields and nothing else."""
import json

from factory.projector import apply
from factory.state import empty_state
from factory.views import order_view

ORDER_KEYS = {"order_id", "unit_code", "product", "line", "options", "status", "current_station", "waiting_for", "steps",
              "placed_at", "completed_at", "as_of"}


def test_order_view_of_a_unit_in_production(plant, events):
    state = empty_state(plant)
    for e in [events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"), events.placed(0, "U2", token="tok-U2-bbbbbbbbbbbb"),
              events.entered(1, "U1", "kitting"), events.exited(2, "U1", "kitting"),
              events.entered(3, "U1", "sheet_metal"), events.entered(3, "U2", "kitting")]:
        apply(state, e)
    view = order_view(state, plant, "tok-U1-aaaaaaaaaaaa")
    assert set(view) == ORDER_KEYS
    assert view["unit_code"] == "U1" and view["status"] == "in_production"
    assert view["current_station"] == "Sheet metal"
    assert [s["state"] for s in view["steps"][:3]] == ["done", "current", "pending"]
    assert view["waiting_for"] is None
    assert view["steps"][0] == {"id": "kitting", "name": "Kitting", "state": "done",
                                "entered": "2026-03-02T08:01:00.000Z", "exited": "2026-03-02T08:02:00.000Z"}
    assert {"label": "Model", "value": "12,000 BTU/h"} in view["options"]
    text = json.dumps(view)
    assert "U2" not in text and "tok-U2" not in text and "tok-U1" not in text


def test_unknown_token_has_no_view(plant):
    assert order_view(empty_state(plant), plant, "nope") is None


def test_a_unit_between_stations_is_waiting_for_the_next(plant, events):
    state = empty_state(plant)
    for e in [events.placed(0, "U1", token="tok-U1-aaaaaaaaaaaa"), events.entered(1, "U1", "kitting"),
              events.exited(2, "U1", "kitting")]:
        apply(state, e)
    view = order_view(state, plant, "tok-U1-aaaaaaaaaaaa")
    assert view["current_station"] is None and view["waiting_for"] == "Sheet metal"
    assert [s["state"] for s in view["steps"][:3]] == ["done", "waiting", "pending"]
