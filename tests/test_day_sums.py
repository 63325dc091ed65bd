"""Kept day sums: settled days are read back, never stale after a late event, a restart or a new factory file.

The two days of tests/test_exec_view.py (day 1: ten good units of 60 s ideal, open 00:00-08:00;
day 2: open 00:00-08:00, down throughout), then a breakdown of day 1 from 02:00 to 03:00 that
arrives after both days were kept. Worked by hand over both days:
- before it: PBT 57,600 s, down 28,800 s, A = 28,800 / 57,600 = 0.5;
- after it: down 32,400 s, A = 25,200 / 57,600 = 0.4375; day 1 alone: 25,200 / 28,800 = 0.875.
A cache that kept day 1 through the late event would still show 0.5 and 1.0.
"""

from __future__ import annotations

import pytest
from test_exec_view import DAY_1, DAY_2, PLANT, two_days
from test_kpi_edges import Stream, at

from factory.exec_view import exec_view
from factory.history import day_sums, open_history
from factory.layout import parse_plant
from streams import events as ev

NOW = at(0, 2)  # both days over


def late_breakdown() -> list[ev.Event]:
    line = Stream("l1")
    line.n = 1000  # ids of its own
    line.add(ev.MachineDown, at(2), station_id="A", machine=1, reason_code="MECH", reason="jam")
    line.add(ev.MachineUp, at(3), station_id="A", machine=1, reason_code="MECH", down_s=3600.0)
    return line.out


def kept(history) -> dict:
    return {str(d): end for d, end in history.query("SELECT day, day_end FROM day_sums ORDER BY day")}


@pytest.fixture
def path(tmp_path):
    store = open_history(tmp_path / "h.duckdb", PLANT)
    store.record(two_days())
    store.close()
    return tmp_path / "h.duckdb"


def test_settled_days_are_kept_and_the_day_under_way_is_not(path):
    history = open_history(path, PLANT)
    exec_view(history, PLANT, DAY_1, DAY_2, at(4, 1))  # day 2 at 04:00: still under way
    assert list(kept(history)) == ["2026-03-02"]
    exec_view(history, PLANT, DAY_1, DAY_2, NOW)
    assert list(kept(history)) == ["2026-03-02", "2026-03-03"]
    history.close()


def test_a_late_event_drops_the_days_it_reaches_into(path):
    history = open_history(path, PLANT)
    assert exec_view(history, PLANT, DAY_1, DAY_2, NOW)["headline"]["availability"] == pytest.approx(0.5, abs=1e-12)
    history.record(late_breakdown())
    view = exec_view(history, PLANT, DAY_1, DAY_2, NOW)
    assert view["headline"]["availability"] == pytest.approx(0.4375, abs=1e-12)
    assert view["trend"]["availability"] == [pytest.approx(0.875, abs=1e-12), pytest.approx(0.0, abs=1e-12)]
    assert view["headline"]["mttr_s"] == pytest.approx((28_800 + 3_600) / 2, abs=1e-9)
    history.close()


def test_a_restarted_app_reads_kept_days_without_summing_them_again(path, monkeypatch):
    history = open_history(path, PLANT)
    first = exec_view(history, PLANT, DAY_1, DAY_2, NOW)
    history.close()

    summed = []
    real = day_sums.hq.daily_sums
    monkeypatch.setattr(day_sums.hq, "daily_sums", lambda *a: summed.append(a[3:5]) or real(*a))
    again = open_history(path, PLANT)
    assert exec_view(again, PLANT, DAY_1, DAY_2, NOW) == first
    assert summed == []
    again.record(late_breakdown())  # and kept days are still checked after the restart
    assert exec_view(again, PLANT, DAY_1, DAY_2, NOW)["headline"]["availability"] == pytest.approx(0.4375, abs=1e-12)
    assert summed == [(DAY_1, DAY_2)]  # its day and every later one (a breakdown it starts may last)
    again.close()


def test_days_kept_for_another_factory_file_are_summed_again(path):
    history = open_history(path, PLANT)
    exec_view(history, PLANT, DAY_1, DAY_2, NOW)
    history.close()
    faster = parse_plant(
        {
            "site": {"id": "s"},
            "products": {"p": {}},
            "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 30}]}],
        }
    )
    history = open_history(path, faster)
    # day 1: ten units of 30 s ideal in an APT of 28,800 s (the events still say 60 s: the file decides)
    view = exec_view(history, faster, DAY_1, DAY_2, NOW)
    reference = open_history(None, faster)
    reference.record(two_days())
    assert view == exec_view(reference, faster, DAY_1, DAY_2, NOW)
    history.close()
    reference.close()


def test_runs_of_days():
    d = DAY_1
    one = d.replace(day=d.day + 1)
    three = d.replace(day=d.day + 3)
    assert day_sums._runs([d, one, three]) == [(d, one), (three, three)]
    assert day_sums._runs([]) == []


def test_a_repair_on_a_later_day_reaches_back_to_the_day_its_breakdown_began(tmp_path):
    # Day 1 open 00:00-08:00; A breaks down at 07:00 and is repaired on day 2 at 01:00 (18 h, 64,800 s).
    line = Stream("l1")
    line.add(ev.ShiftStarted, at(0), shift="D", planned_end="")
    line.add(ev.ShiftEnded, at(8), shift="D")
    line.add(ev.MachineDown, at(7), station_id="A", machine=1, reason_code="MECH", reason="jam")
    history = open_history(tmp_path / "h.duckdb", PLANT)
    history.record(line.out)
    before = exec_view(history, PLANT, DAY_1, DAY_1, at(0, 1))
    assert before["headline"]["mttr_s"] is None  # broken down, not repaired yet
    assert list(kept(history)) == ["2026-03-02"]
    line.add(ev.MachineUp, at(1, 1), station_id="A", machine=1, reason_code="MECH", down_s=64_800.0)
    history.record(line.out[-1:])
    after = exec_view(history, PLANT, DAY_1, DAY_1, at(2, 1))
    assert after["headline"]["mttr_s"] == pytest.approx(64_800.0, abs=1e-9)
    assert after["headline"]["availability"] == pytest.approx(7 / 8, abs=1e-12)  # down 07:00-08:00 of 8 h open
    history.close()
