"""SPC formulas and run rules (factory/spc.py), the chart document (factory/spc_chart.py), by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from factory import spc
from factory.spc_chart import BASELINE_POINTS, MIN_BASELINE, Point, choose_baseline, shift_spans
from factory.work_calendar import Calendar, Shift
from streams import events as ev

# Five values worked through by hand:
#   x          = 10, 12, 11, 13, 12           X̄  = 58 / 5 = 11.6
#   MR         =     2,  1,  2,  1            MR̄ = 6 / 4 = 1.5
#   UCL, LCL   = 11.6 ± 2.66 × 1.5 = 11.6 ± 3.99 = 15.59, 7.61
#   UCL_MR     = 3.267 × 1.5 = 4.9005
#   σ within   = 1.5 / 1.128 = 1.3297872
#   σ overall  = √((1.6² + 0.4² + 0.6² + 1.4² + 0.4²) / 4) = √(5.2 / 4) = √1.3 = 1.1401754
FIVE = [10, 12, 11, 13, 12]


def test_imr_limits_by_hand():
    limits = spc.imr_limits(FIVE)
    assert limits is not None
    assert spc.moving_ranges(FIVE) == [2, 1, 2, 1]
    assert limits.center == pytest.approx(11.6)
    assert limits.mr_bar == pytest.approx(1.5)
    assert limits.ucl == pytest.approx(15.59)
    assert limits.lcl == pytest.approx(7.61)
    assert limits.mr_ucl == pytest.approx(4.9005)
    assert limits.sigma == pytest.approx(1.3297872, abs=1e-7)
    assert limits.n == 5


def test_too_few_points_give_no_limits_and_say_so():
    assert spc.imr_limits([]) is None
    assert spc.imr_limits([5.0]) is None
    cap = spc.capability([5.0], 4.0, 6.0)
    assert cap["note"] == "too_few_points" and cap["mean"] == 5.0 and cap["cp"] is None and cap["cpk"] is None
    assert spc.capability([], 4.0, 6.0)["mean"] is None


def test_two_sided_capability_by_hand():
    # LSL 8, USL 16, X̄ 11.6:
    #   Cp  = (16 − 8) / (6 × 1.3297872) = 8 × 1.128 / 9 = 1.0026667
    #   Cpu = (16 − 11.6) / (3 × 1.3297872) = 4.4 × 1.128 / 4.5 = 1.1029333
    #   Cpl = (11.6 − 8) / (3 × 1.3297872) = 3.6 × 1.128 / 4.5 = 0.9024    -> Cpk = 0.9024
    #   Pp  = 8 / (6 × 1.1401754) = 1.1694106
    #   Ppk = min(4.4, 3.6) / (3 × 1.1401754) = 3.6 / 3.4205263 = 1.0524696
    cap = spc.capability(FIVE, 8.0, 16.0)
    assert cap["mean"] == pytest.approx(11.6)
    assert cap["sigma_within"] == pytest.approx(1.3297872, abs=1e-7)
    assert cap["sigma_overall"] == pytest.approx(1.1401754, abs=1e-7)
    assert cap["cp"] == pytest.approx(1.0026667, abs=1e-7)
    assert cap["cpk"] == pytest.approx(0.9024, abs=1e-7)
    assert cap["pp"] == pytest.approx(1.1694106, abs=1e-7)
    assert cap["ppk"] == pytest.approx(1.0524696, abs=1e-7)
    assert cap["note"] is None


def test_one_sided_specs_have_no_cp_and_take_cpk_from_their_side():
    upper = spc.capability(FIVE, None, 16.0)  # Cpu = 1.1029333 (above)
    assert upper["cp"] is None and upper["pp"] is None
    assert upper["cpk"] == pytest.approx(1.1029333, abs=1e-7)
    assert upper["note"] == "one_sided"
    lower = spc.capability(FIVE, 8.0, None)  # Cpl = 0.9024; Ppl = 3.6 / 3.4205263 = 1.0524696
    assert lower["cpk"] == pytest.approx(0.9024, abs=1e-7)
    assert lower["ppk"] == pytest.approx(1.0524696, abs=1e-7)
    none = spc.capability(FIVE, None, None)
    assert none["note"] == "no_spec" and none["cpk"] is None and none["mean"] == pytest.approx(11.6)


def test_zero_spread_gives_limits_on_the_centre_and_no_capability_and_no_nan():
    limits = spc.imr_limits([5.0, 5.0, 5.0])
    assert limits is not None
    assert (limits.center, limits.ucl, limits.lcl, limits.mr_bar, limits.sigma) == (5.0, 5.0, 5.0, 0.0, 0.0)
    cap = spc.capability([5.0, 5.0, 5.0], 4.0, 6.0)
    assert cap["note"] == "no_spread" and cap["cp"] is None and cap["cpk"] is None and cap["ppk"] is None
    json.dumps(cap, allow_nan=False)
    # With σ = 0 every point off the centre is beyond 3σ; those on it break no rule.
    assert spc.rule_1([5.0, 5.0, 5.1], limits) == [2]
    assert spc.finite(float("nan")) is None and spc.finite(float("inf")) is None


# The rules below are judged against centre 0 and σ 1, so 2σ = 2 and 3σ = 3.
UNIT = spc.Limits(center=0.0, ucl=3.0, lcl=-3.0, mr_bar=1.128, mr_ucl=3.685, sigma=1.0, n=50)


def test_rule_1_one_point_beyond_three_sigma_a_point_on_the_limit_is_not():
    # 3 is on the UCL (not beyond), 3.01 above it, −3.5 below the LCL, −3 on it.
    assert spc.rule_1([0, 3, 3.01, -3.5, -3], UNIT) == [2, 3]


def test_rule_2_nine_in_a_row_on_one_side_the_centre_breaks_a_run():
    # Eight above (indices 0-7: one short), 0 on the centre breaks it, nine above (9-17: the ninth,
    # index 17, completes the run), then ten below (18-27: indices 26 and 27 are the 9th and 10th).
    values = [1] * 8 + [0] + [1] * 9 + [-1] * 10
    assert spc.rule_2(values, UNIT) == [17, 26, 27]


def test_rule_3_six_in_a_row_increasing_or_decreasing_a_tie_breaks_a_run():
    # 1..7 rises over seven points: the sixth (index 5) and seventh (6) complete it. 7, 7 is a tie.
    # From index 7 (7) down to index 12 (2) are six falling points: index 12 completes them.
    assert spc.rule_3([1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2]) == [5, 6, 12]
    assert spc.rule_3([1, 2, 3, 4, 5]) == []  # five rising points are not six


def test_rule_5_two_of_three_beyond_two_sigma_on_the_same_side():
    # Beyond 2σ:  +   .   +   .   .   −   +   −   .(2 is on 2σ, not beyond)
    # index 2: window 0-2 holds two "+"  -> flagged
    # index 6: window 4-6 holds one "−" and one "+": not the same side
    # index 7: window 5-7 holds two "−" -> flagged
    values = [2.5, 0, 2.1, 0, 0, -2.5, 2.5, -2.1, 2]
    assert spc.rule_5(values, UNIT) == [2, 7]


def test_violations_name_each_rule_with_its_indices():
    found = spc.violations([0, 4, 0], UNIT)
    assert found == {"1": [1], "2": [], "3": [], "5": []}
    assert set(found) == set(spc.RULES)


T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _points(n: int, start: datetime = T0) -> list[Point]:
    return [Point(start + timedelta(minutes=i), f"U{i}", 10.0 + i % 3, 8.0, 12.0) for i in range(n)]


def test_the_baseline_is_the_points_before_else_the_first_of_the_range():
    before, within = _points(MIN_BASELINE + 5), _points(BASELINE_POINTS + 10, T0 + timedelta(days=1))
    kind, chosen = choose_baseline(before, within)
    assert kind == "before" and chosen == before
    kind, chosen = choose_baseline(before[: MIN_BASELINE - 1], within)
    assert kind == "first" and chosen == within[:BASELINE_POINTS]
    assert choose_baseline(before[:3], within[: MIN_BASELINE - 1]) is None


def test_shift_spans_over_a_day():
    # Shift A 06:00-14:00 and B 14:00-22:00 (UTC): the day after the 1st's B ended gives A then B.
    calendar = Calendar(tz=UTC, shifts=(Shift("A", 360, 480), Shift("B", 840, 480)), stops=())
    spans = shift_spans(calendar, T0, T0 + timedelta(days=1))
    assert spans == [
        (T0 + timedelta(hours=6), T0 + timedelta(hours=14), "A"),
        (T0 + timedelta(hours=14), T0 + timedelta(hours=22), "B"),
    ]
    assert shift_spans(None, T0, T0 + timedelta(days=1)) == []
    assert shift_spans(Calendar(tz=UTC, shifts=(), stops=()), T0, T0 + timedelta(days=1)) == []


def _check(minute: float, unit: str, value: float, n: int) -> ev.QualityChecked:
    return ev.QualityChecked(
        id=f"q-{n}", source="/test", time=T0 + timedelta(minutes=minute), unit_code=unit, line_id="ac1",
        station_id="leak_test", passed=True,
        measurements=(ev.Measurement("charge", "Charge", "g", value, 776.0, 824.0, True),),
    )  # fmt: skip


def test_the_andon_watch_takes_each_check_once_and_raises_and_clears_an_alarm():
    from factory.layout import load_plant
    from factory.spc_alarms import CLEAR_AFTER, SpcWatch, parse_spc_alarm_id
    from support import ROOT

    watch = SpcWatch(load_plant(ROOT / "factory.yaml"), lambda unit: {"model": "AS12"})
    steady = [799.0, 801.0] * 15  # X̄ 800, MR̄ 2: UCL 805.32, the first 30 points make the limits
    for i, value in enumerate(steady):
        watch.note(_check(i, f"U{i}", value, i))
    assert watch.alarms("ac1") == []
    # Two units tested at the same instant are two points; the same unit again is a copy.
    watch.note(_check(40, "UX", 830.0, 100))
    watch.note(_check(40, "UX", 830.0, 101))
    watch.note(_check(40, "UY", 799.0, 102))
    (alarm,) = watch.alarms("ac1")
    assert alarm["kind"] == "spc" and alarm["rules"] == ["1"] and alarm["reason"] == "charge AS12: rule 1"
    assert parse_spc_alarm_id(alarm["id"])[:3] == ("ac1", "leak_test", "spc")
    assert parse_spc_alarm_id("ac1/leak_test/down/2026-03-02T08:00:00Z") is None
    series = watch.series[("ac1", "leak_test", "charge", "AS12")]
    assert series.clean == 1  # UY counted once, UX's copy not at all
    for i in range(CLEAR_AFTER - 1):
        watch.note(_check(41 + i, f"V{i}", 801.0 if i % 2 else 799.0, 200 + i))
    assert watch.alarms("ac1") == []
