"""The plant check remembers a bounded number of units: the ones seen longest ago go first, its history knows them."""

from __future__ import annotations

from dataclasses import replace

from factory import validation
from factory.validation import PlantCheck
from support import T0

NOW = T0.timestamp()  # the plant's clock is the wall clock here


def test_units_still_at_work_are_remembered_and_idle_ones_forgotten_first(plant, events, monkeypatch):
    monkeypatch.setattr(validation, "REMEMBERED_UNITS", 3)
    check = PlantCheck(plant, wall_clock=lambda: NOW)
    for n, code in enumerate(("U1", "U2", "U3")):
        assert check.admit(events.placed(n, code)) is None
    assert check.admit(events.entered(3, "U1", "kitting")) is None  # U1 is at work again
    assert check.admit(events.placed(4, "U4")) is None
    assert list(check._units) == ["U3", "U1", "U4"]  # U2 waited longest: forgotten first
    assert len(check._tokens) == 3
    # What is remembered is still judged: U1 back at a station it has left, without a rework.
    assert check.admit(events.exited(5, "U1", "kitting")) is None
    assert check.admit(events.entered(6, "U1", "kitting", visit=2)) == "out_of_flow"


def test_a_forgotten_unit_is_asked_of_the_history(plant, events, monkeypatch):
    monkeypatch.setattr(validation, "REMEMBERED_UNITS", 1)
    asked = []
    check = PlantCheck(
        plant,
        lookup_unit=lambda code: asked.append(code) or (("SO-U1", "ac1") if code == "U1" else None),
        wall_clock=lambda: NOW,
    )
    assert check.admit(events.placed(0, "U1")) is None
    assert check.admit(events.placed(1, "U2")) is None  # U1 forgotten here
    stolen = replace(events.placed(2, "U1"), order_id="SO-other", tracking_token="another-token-0123456789")
    assert check.admit(stolen) == "unit_code_taken" and asked == ["U1", "U2", "U1"]  # new codes are asked too
