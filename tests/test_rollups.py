"""Day rollups: a range's KPIs from summed days equal the KPIs of the range queried directly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from factory import history_kpis, rollups
from factory.exec_view import ScopeError, exec_view
from factory.history import History
from factory.kpis import kpis_from_sums
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from support import ROOT, EventFactory

PLANT = load_plant(ROOT / "factory.yaml")
MIDNIGHT = datetime(2026, 3, 1, 16, tzinfo=UTC)  # 2026-03-02 00:00 at the plant (UTC+8)
NOW = MIDNIGHT + timedelta(days=3, hours=3)


def assert_close(a, b, path="") -> None:
    """Assert two documents equal, floats to 1e-6 relative: DuckDB's parallel sums vary in the last bits, which
    can move a figure rounded to 6 (ratios) or 3 (seconds) decimals by one unit of its last place."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-6, abs=2e-6), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def history():
    events = []
    run_fast(PlantModel(PLANT, events.append, MIDNIGHT, seed=3), (NOW - MIDNIGHT).total_seconds())
    stored = History()
    stored.append(events)
    yield stored
    stored.close()


def test_summed_days_give_the_same_kpis_as_the_range(history):
    line = PLANT.line("ac1")
    days = rollups.daily_sums(history, PLANT, line, date(2026, 3, 2), date(2026, 3, 3), NOW)
    direct = history_kpis.kpis(history, PLANT, MIDNIGHT, MIDNIGHT + timedelta(days=2), "ac1")["lines"]["ac1"]
    assert_close(kpis_from_sums(rollups.add(days.values())), direct)


def test_finished_days_are_stored_once_and_the_day_under_way_never(history):
    line = PLANT.line("wm1")
    rollups.daily_sums(history, PLANT, line, date(2026, 3, 2), date(2026, 3, 5), NOW)
    assert sorted(history.day_sums("wm1", date(2026, 3, 1), date(2026, 3, 9))) == [
        date(2026, 3, 2),
        date(2026, 3, 3),
        date(2026, 3, 4),
    ]  # the 5th is under way at NOW
    stored = rollups.from_json(history.day_sums("wm1", date(2026, 3, 2), date(2026, 3, 2))[date(2026, 3, 2)])
    assert_close(
        rollups.as_doc(stored),
        rollups.as_doc(
            history_kpis.line_sums_from_history(history, PLANT, line, *rollups.day_bounds(PLANT, date(2026, 3, 2)))
        ),
    )


def test_a_late_event_drops_the_sums_of_its_day():
    stored = History()
    start, end = rollups.day_bounds(PLANT, date(2026, 3, 2))
    stored.put_day_sums("ac1", date(2026, 3, 2), start, end, "{}")
    stored.put_day_sums("ac1", date(2026, 3, 3), end, end + timedelta(days=1), "{}")
    late = dataclasses.replace(EventFactory().placed(0, "U-LATE"), time=start + timedelta(hours=5))
    stored.append([late])
    assert list(stored.day_sums("ac1", date(2026, 3, 1), date(2026, 3, 9))) == [date(2026, 3, 3)]


def test_the_exec_view_adds_lines_and_skips_days_before_history(history):
    view = exec_view(history, PLANT, date(2026, 2, 20), date(2026, 3, 3), NOW)
    assert view["days"] == ["2026-03-02", "2026-03-03"]  # nothing happened before the 2nd: no zeros
    assert (
        view["headline"]["units_completed"]
        == sum(v["units_completed"] for v in view["lines"].values())
        == sum(view["completed_per_day"])
    )
    assert len(view["lead_time_h"]) == view["headline"]["units_completed"]
    line_view = exec_view(history, PLANT, date(2026, 3, 2), date(2026, 3, 3), NOW, "ac1", "assembly")
    assert line_view["headline"]["oee"] == line_view["stations"]["assembly"]["oee"]
    for bad in (
        (date(2026, 3, 3), date(2026, 3, 2), None, None),
        (date(2025, 1, 1), date(2026, 3, 3), None, None),
        (date(2026, 3, 2), date(2026, 3, 3), "nope", None),
        (date(2026, 3, 2), date(2026, 3, 3), None, "assembly"),
    ):
        with pytest.raises(ScopeError):
            exec_view(history, PLANT, bad[0], bad[1], NOW, bad[2], bad[3])
