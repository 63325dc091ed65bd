"""The executive view over days, worked out by hand: it adds the days' sums, then divides once.

One line, one station A (one machine, 60 s ideal cycle), open 00:00-08:00 on two days:
- day 1: ten good units of 60 s ideal;
- day 2: no orders, A down from 00:00 to 08:00 (a whole shift lost to one breakdown).
Over both days: PBT = 57,600 s, ADOT = 28,800 s, APT = 28,800 s, so A = 0.5; P = 10 x 60 / 28,800;
Q = 1; OEE = 600 / 57,600; one failure repaired after 28,800 s. A day the line was open but made
nothing is lost time, not a day without data: leaving it out would show A = 1 and twice the OEE.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_kpi_edges import Stream, at

from factory.exec_view import exec_view
from factory.history import open_history
from factory.history import queries as hq
from factory.layout import parse_plant
from streams import events as ev

PLANT = parse_plant(
    {
        "site": {"id": "s"},
        "products": {"p": {}},
        "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]}],
    }
)
DAY_1, DAY_2 = date(2026, 3, 2), date(2026, 3, 3)


def two_days() -> list[ev.Event]:
    line = Stream("l1")
    for day in (0, 1):
        line.add(ev.ShiftStarted, at(0, day), shift="D", planned_end="")
        line.add(ev.ShiftEnded, at(8, day), shift="D")
    for i in range(10):
        line.unit(f"U{i}", at(1 + i * 0.1), "A", 60.0, at(1 + i * 0.1 + 0.05))
    line.add(ev.MachineDown, at(0, 1), station_id="A", machine=1, reason_code="MECH", reason="jam")
    line.add(ev.MachineUp, at(8, 1), station_id="A", machine=1, reason_code="MECH", down_s=28_800.0)
    return line.out


@pytest.fixture
def history():
    store = open_history(None, PLANT)
    store.record(two_days())
    yield store
    store.close()


def test_a_day_open_but_down_throughout_counts_in_the_totals(history):
    view = exec_view(history, PLANT, DAY_1, DAY_2, at(0, 2))
    assert view["days"] == ["2026-03-02", "2026-03-03"]
    head = view["headline"]
    assert head["availability"] == pytest.approx(0.5, abs=1e-12)
    assert head["performance"] == pytest.approx(600 / 28_800, abs=1e-12)
    assert head["quality"] == 1
    assert head["oee"] == pytest.approx(600 / 57_600, abs=1e-12)
    assert head["units_completed"] == 10
    assert head["mttr_s"] == pytest.approx(28_800, abs=1e-9)
    assert view["trend"]["availability"] == [1.0, 0.0]
    assert view["completed_per_day"] == [10, 0]
    assert view["downtime_pareto_s"] == [{"key": "MECH", "value": 28_800.0}]


def test_the_days_add_up_to_the_direct_query_of_the_range(history):
    view = exec_view(history, PLANT, DAY_1, DAY_2, at(0, 2), line_id="l1")
    direct = hq.kpis(history, PLANT, at(0), at(0, 2), "l1", None)["lines"]["l1"]
    for kpi in ("oee", "availability", "performance", "quality", "units_completed", "mttr_s"):
        assert view["headline"][kpi] == pytest.approx(direct[kpi], abs=1e-12), kpi


def test_days_before_the_line_s_history_began_are_left_out(history):
    view = exec_view(history, PLANT, date(2026, 2, 25), DAY_2, at(0, 2))
    assert view["days"] == ["2026-03-02", "2026-03-03"]  # a plant without a calendar would be "open" before
