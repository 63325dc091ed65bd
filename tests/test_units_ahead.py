"""Units ahead in a queue: one count whichever way it is asked, and every order whose count changed is told."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from factory.derive import line_members, queued_behind
from factory.projector import apply
from factory.state import empty_state
from factory.views import units_ahead
from support import EventFactory

STATIONS = ["kitting", "sheet_metal", "brazing"]


def _ahead_by_sorting(state, unit) -> int:
    """The definition: the unit's place in its queue as line_members sorts it (the floor's order)."""
    where = unit.position
    if where is None or where.kind != "queued" or where.station_id is None:
        return 0
    queue = line_members(state, unit.line_id)[where.station_id].queue
    return next((i for i, (_, code) in enumerate(queue) if code == unit.unit_code), 0)


def _random_moves(seed: int, units: int, steps: int):
    """Orders placed, then units entering and leaving the first stations, at times that tie and go back."""
    rng = random.Random(seed)
    events = EventFactory()
    out = [events.placed(rng.choice([0, 1, 1, 2]), f"U{i}") for i in range(units)]
    where = dict.fromkeys(range(units), -1)  # index of the station entered last, -1 before the first
    inside: set[int] = set()
    for _ in range(steps):
        i = rng.randrange(units)
        minute = rng.choice([3, 4, 4, 5]) + len(out) / 10
        if i in inside:
            out.append(events.exited(minute, f"U{i}", STATIONS[where[i]]))
            inside.discard(i)
        elif where[i] + 1 < len(STATIONS):
            where[i] += 1
            out.append(events.entered(minute, f"U{i}", STATIONS[where[i]]))
            inside.add(i)
    return out


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), units=st.integers(min_value=1, max_value=9))
def test_units_ahead_agree_and_every_changed_count_is_marked(plant, seed, units):
    state = empty_state(plant)
    line = state.lines["ac1"]
    before: dict[str, int] = {}
    for event in _random_moves(seed, units, steps=30):
        unit = state.units.get(event.unit_code)
        was = unit.position if unit is not None else None
        apply(state, event)
        marked = queued_behind(line, event.unit_code, was, state.units[event.unit_code].position)
        now = {}
        for code, u in state.units.items():
            expected = _ahead_by_sorting(state, u)
            assert units_ahead(state, u, u.position) == expected  # from the ranking kept per queue change
            now[code] = expected
        changed = {code for code, n in now.items() if code in before and before[code] != n}
        assert changed - {event.unit_code} <= marked  # nobody's count changes unseen
        before = now


def test_hand_worked_queue(plant, events):
    """Three orders in the backlog, placed at minutes 0, 1 and 1 (a tie: the code decides)."""
    state = empty_state(plant)
    line = state.lines["ac1"]
    for minute, code in [(0, "U0"), (1, "U2"), (1, "U1")]:
        apply(state, events.placed(minute, code))
    assert [units_ahead(state, state.units[c], state.units[c].position) for c in ("U0", "U1", "U2")] == [0, 1, 2]
    was = state.units["U0"].position
    apply(state, events.entered(5, "U0", "kitting"))  # U0 starts: U1 and U2 move up
    assert queued_behind(line, "U0", was, state.units["U0"].position) == {"U1", "U2"}
    assert [units_ahead(state, state.units[c], state.units[c].position) for c in ("U1", "U2")] == [0, 1]
    was = state.units["U2"].position
    apply(state, events.entered(6, "U2", "kitting"))  # U2, last in line, leaves: nobody was behind it
    assert queued_behind(line, "U2", was, state.units["U2"].position) == set()
