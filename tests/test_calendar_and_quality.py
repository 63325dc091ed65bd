"""Shift calendar boundaries and quality-gate judgements, checked against hand-worked cases."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import simpy

from factory.work_calendar import Calendar, PlannedStop, Shift, boundaries
from line_emulator.calendar import LineGate, run_calendar
from line_emulator.params import CheckSpec
from line_emulator.quality import limits_of, measure

# Two shifts, 06:00-14:00 and 14:00-22:00 in UTC+8, a 30-minute meal break 4 h into each,
# maintenance 20 min at the start of the early shift. Night: closed.
CAL = Calendar(
    tz=timezone(timedelta(hours=8)),
    shifts=(Shift("Early", 6 * 60, 480), Shift("Late", 14 * 60, 480)),
    stops=(PlannedStop("break", None, 240, 30, "Meal"), PlannedStop("maintenance", "Early", 0, 20, "TPM")),
)


def utc(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def test_open_fraction_counts_shifts_minus_stops():
    # (480 + 480 - 30 - 30 - 20) minutes open of 1440
    assert CAL.open_fraction() == pytest.approx((960 - 80) / 1440, rel=1e-12)


def test_boundaries_of_a_day_in_order():
    start = utc("2026-03-02T05:00:00+08:00")
    got = []
    for b in boundaries(CAL, start):
        if b.at >= utc("2026-03-02T00:00:00+08:00"):
            got.append((b.at.astimezone(UTC).strftime("%H:%M"), b.kind, b.name))
        if len(got) == 10:
            break
    # 06:00 local = 22:00 UTC the day before
    assert got == [
        ("22:00", "shift_start", "Early"),
        ("22:00", "stop_start", "maintenance"),
        ("22:20", "stop_end", "maintenance"),
        ("02:00", "stop_start", "break"),
        ("02:30", "stop_end", "break"),
        ("06:00", "shift_end", "Early"),
        ("06:00", "shift_start", "Late"),
        ("10:00", "stop_start", "break"),
        ("10:30", "stop_end", "break"),
        ("14:00", "shift_end", "Late"),
    ]


def _run(origin, until_s):
    env = simpy.Environment()
    gate = LineGate(env, is_open=False)
    seen = []
    env.process(run_calendar(env, CAL, origin, [gate], lambda b: seen.append((env.now, b.kind, b.name))))
    states = []

    def probe():
        while True:
            states.append((env.now, gate.is_open))
            yield env.timeout(600)

    env.process(probe())
    env.run(until=until_s)
    return seen, states


def test_a_start_inside_a_break_announces_shift_and_break_and_stays_closed():
    seen, states = _run(utc("2026-03-02T10:10:00+08:00"), 3600)  # 10:00-10:30 is the meal break
    assert seen[:2] == [(0, "shift_start", "Early"), (0, "stop_start", "break")]
    assert (20 * 60, "stop_end", "break") in seen
    assert dict(states)[0] is False and dict(states)[1800] is True


def test_the_line_is_closed_at_night():
    seen, states = _run(utc("2026-03-02T23:00:00+08:00"), 3600)
    # at the start it says that no shift is under way, so the quiet night is not taken for open time
    assert seen == [(0, "shift_end", "")] and all(not is_open for _, is_open in states)


def _shift_starts(calendar, start, count):
    out = []
    for b in boundaries(calendar, start):
        if b.kind == "shift_start" and b.at >= start:
            out.append(b.at)
            if len(out) == count:
                return out
    return out


def test_shifts_keep_their_local_hour_across_a_dst_change():
    new_york = Calendar(tz=ZoneInfo("America/New_York"), shifts=(Shift("Day", 6 * 60, 480),), stops=())
    starts = _shift_starts(new_york, utc("2026-10-30T12:00:00+00:00"), 3)  # clocks go back on 1 November
    assert [t.astimezone(new_york.tz).hour for t in starts] == [6, 6, 6]
    # 31 October in EDT (UTC-4); 1 and 2 November in EST (UTC-5)
    assert [t.strftime("%m-%d %H:%M") for t in starts] == ["10-31 10:00", "11-01 11:00", "11-02 11:00"]


def test_a_night_shift_over_the_spring_change_lasts_seven_hours():
    night = Calendar(tz=ZoneInfo("America/New_York"), shifts=(Shift("Night", 22 * 60, 480),), stops=())
    it = boundaries(night, utc("2027-03-13T12:00:00+00:00"))
    begin = next(b for b in it if b.kind == "shift_start" and b.at.astimezone(night.tz).date() == date(2027, 3, 13))
    end = next(b for b in it if b.kind == "shift_end")
    assert (end.at - begin.at) == timedelta(hours=7) and end.at.astimezone(night.tz).hour == 6


def test_no_shift_starts_on_a_holiday_or_a_day_off():
    cal = Calendar(
        tz=timezone(timedelta(hours=8)),
        shifts=(Shift("Day", 8 * 60, 480),),
        stops=(),
        holidays=frozenset({date(2026, 3, 3)}),
        weekdays=frozenset({1, 2, 3, 4, 5}),
    )
    starts = _shift_starts(cal, utc("2026-03-02T00:00:00+08:00"), 4)  # Monday 2 March
    assert [t.astimezone(cal.tz).date().isoformat() for t in starts] == [
        "2026-03-02",
        "2026-03-04",
        "2026-03-05",
        "2026-03-06",
    ]  # no Tuesday (holiday), then Monday 9th next
    assert cal.open_fraction() == pytest.approx(480 / 1440 * 5 / 7, rel=1e-12)


def _spec(**kw):
    base = {
        "name": "x",
        "label": "X",
        "unit": "u",
        "nominal": 100.0,
        "by": None,
        "mean_pct": 100.0,
        "sd_pct": 0.0,
        "lower": None,
        "upper": None,
        "lower_pct": None,
        "upper_pct": None,
        "ratio": None,
        "min_value": None,
        "decimals": 1,
    }
    return CheckSpec(**{**base, **kw})


def test_percentage_limits_resolve_against_the_nominal():
    assert limits_of(_spec(lower_pct=95, upper_pct=103), 800) == (760, 824)
    assert limits_of(_spec(lower=3.0), 1) == (3.0, None)


def test_measure_judges_each_value_and_names_the_first_defect():
    specs = {
        "capacity": _spec(
            name="capacity", nominal={"AS09": 2640.0, "AS12": 3520.0}, by="model", mean_pct=94, lower_pct=95, decimals=0
        ),
        "power": _spec(name="power", nominal=1000.0, upper=1100.0, decimals=0),
        "eer": _spec(name="eer", ratio=("capacity", "power"), lower=3.0, decimals=2),
    }
    results, defect = measure(specs, ("capacity", "power", "eer"), {"model": "AS12"}, random.Random(1))
    by_name = {m.name: m for m in results}
    assert by_name["capacity"].value == round(3520 * 0.94) and by_name["capacity"].lower == 3344
    assert not by_name["capacity"].passed
    assert by_name["power"].value == 1000 and by_name["power"].passed
    assert by_name["eer"].value == round(3309 / 1000, 2) and by_name["eer"].passed
    assert defect == "capacity_low"


def test_min_value_floors_a_draw():
    results, defect = measure(
        {"leak": _spec(name="leak", nominal=-5.0, min_value=0.0, upper=3.0)}, ("leak",), {}, random.Random(1)
    )
    assert results[0].value == 0.0 and defect is None
