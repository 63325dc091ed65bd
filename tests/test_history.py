"""History in DuckDB: nothing stored twice, replay in order, and KPIs equal to the live computation."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from factory import history_kpis
from factory.history import History
from factory.kpis import compute
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

T = datetime(2026, 1, 5, tzinfo=UTC)  # 08:00 in the plant: early shift, breaks and maintenance ahead


@pytest.fixture(scope="module")
def day(plant):
    out: list[ev.Event] = []
    run_fast(PlantModel(plant, out.append, T, seed=2), 20 * 3600)
    return out


@pytest.fixture(scope="module")
def stored(day):
    history = History()
    history.append(day)
    yield history
    history.close()


def test_every_event_is_stored_once(day, stored):
    assert stored.count() == len(day)
    assert stored.append(day[:500]) == 0
    assert stored.count() == len(day)


def test_replay_gives_the_events_back_in_time_order(day, stored):
    window = stored.replay(T + timedelta(hours=1), T + timedelta(hours=2), "ac1")
    expected = [
        e for e in day if e.source.endswith("/ac1") and T + timedelta(hours=1) <= e.time < T + timedelta(hours=2)
    ]
    assert sorted(window, key=lambda e: (e.time, e.id)) == sorted(expected, key=lambda e: (e.time, e.id))
    assert [e.time for e in window] == sorted(e.time for e in window)


def test_lookups_for_orders(day, stored):
    order = next(e for e in day if isinstance(e, ev.OrderPlaced))
    assert stored.unit_for_token(order.tracking_token) == order.unit_code
    assert stored.unit_for_token("no-such-token-000000") is None
    assert {type(e) for e in stored.unit_events(order.unit_code)} >= {ev.OrderPlaced, ev.StationEntered}
    placed = [e for e in day if isinstance(e, ev.OrderPlaced) and e.line_id == "wm1"]
    assert stored.next_order_numbers()["wm1"] == len(placed) + 1


def _same(a, b, path=""):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=2e-6), (path, a, b)
    else:
        assert a == b, (path, a, b)


@pytest.mark.parametrize("from_h, to_h", [(0, 20), (2, 3.25), (5.9, 14.4), (19, 20)])
def test_history_kpis_equal_the_live_computation(plant, day, stored, from_h, to_h):
    start, end = T + timedelta(hours=from_h), T + timedelta(hours=to_h)
    _same(compute(day, plant, start, end), history_kpis.kpis(stored, plant, start, end))


def test_history_kpis_of_one_line(plant, day, stored):
    start, end = T + timedelta(hours=1), T + timedelta(hours=9)
    result = history_kpis.kpis(stored, plant, start, end, "rf1")
    assert list(result["lines"]) == ["rf1"]
    _same(compute(day, plant, start, end, "rf1"), result)


def test_history_survives_reopening(tmp_path, day):
    path = tmp_path / "h.duckdb"
    first = History(path)
    first.append(day[:1000])
    first.close()
    again = History(path)
    assert again.count() == 1000 and again.append(day[:1200]) == 200
    again.close()
