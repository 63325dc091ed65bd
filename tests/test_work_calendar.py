"""Open-time arithmetic on a site's calendar, against hand-worked cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from factory.work_calendar import Calendar, OpenClock, PlannedStop, Shift, open_intervals

NEW_YORK = ZoneInfo("America/New_York")
# The default plant's Camden calendar: Day 06:00 and Swing 14:30 (8 h each), Monday to Friday;
# breaks 120 min (15) and 240 min (30) into each shift, 15 min maintenance at the Day shift's start.
US = Calendar(
    tz=NEW_YORK,
    shifts=(Shift("Day", 6 * 60, 480), Shift("Swing", 14 * 60 + 30, 480)),
    stops=(
        PlannedStop("break", None, 120, 15, "Short"),
        PlannedStop("break", None, 240, 30, "Meal"),
        PlannedStop("maintenance", "Day", 0, 15, "TPM"),
    ),
    weekdays=frozenset({1, 2, 3, 4, 5}),
)


def et(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def test_a_friday_evening_to_monday_evening_counts_only_the_shifts():
    clock = OpenClock(US)
    # Fri 18:00-22:30 less the meal 18:30-19:00 = 4 h; Mon Day 06:00-14:00 less 15+15+30 min = 7 h;
    # Mon Swing 14:30-18:00 less the 16:30 break = 3 h 15.
    assert clock.open_seconds(et("2026-01-09T18:00"), et("2026-01-12T18:00")) == 14.25 * 3600
    assert clock.open_seconds(et("2026-01-12T18:00"), et("2026-01-09T18:00")) == -14.25 * 3600


def test_after_skips_breaks_and_the_weekend():
    clock = OpenClock(US)
    assert clock.after(et("2026-01-09T18:00"), 3600) == et("2026-01-09T19:30")  # the meal break in between
    assert clock.after(et("2026-01-09T18:00"), 5 * 3600) == et("2026-01-12T07:15")  # 4 h Friday, 1 h Monday
    assert clock.after(et("2026-01-10T12:00"), 0) == et("2026-01-10T12:00")  # no time to add: now


def test_a_week_holds_the_calendar_s_open_fraction_and_long_spans_cross_the_table_s_chunks():
    clock = OpenClock(US)
    week = clock.open_seconds(et("2026-01-05T00:00"), et("2026-01-12T00:00"))
    assert week == pytest.approx(US.open_fraction() * 7 * 86400)  # 5 x (960 - 105) min
    assert week == 5 * 855 * 60
    # Eight weeks, asked first from the far end (the table is rebuilt from an earlier origin).
    assert clock.open_seconds(et("2026-01-12T00:00"), et("2026-03-02T00:00")) == 7 * week
    assert clock.open_seconds(et("2025-11-17T00:00"), et("2026-01-12T00:00")) == 8 * week
    t = et("2026-01-05T00:00")
    assert clock.open_seconds(t, clock.after(t, 6 * week)) == pytest.approx(6 * week)


def test_the_day_daylight_saving_starts_keeps_shifts_at_local_hours():
    clock = OpenClock(US)
    # 2026-03-09 (Mon) is the first weekday in EDT: the Day shift still starts 06:00 local = 10:00 UTC.
    assert clock.after(et("2026-03-09T00:00"), 1) == datetime(2026, 3, 9, 10, 15, 1, tzinfo=UTC)
    # Friday before, in EST: 06:15 local = 11:15 UTC.
    assert clock.after(et("2026-03-06T00:00"), 1) == datetime(2026, 3, 6, 11, 15, 1, tzinfo=UTC)


def test_a_half_hour_offset_and_a_night_shift_over_midnight():
    kolkata = Calendar(tz=ZoneInfo("Asia/Kolkata"), shifts=(Shift("C", 22 * 60, 480),), stops=())
    got = list(open_intervals(kolkata, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC)))
    # 22:00-06:00 IST = 16:30-00:30 UTC: the night that began on Jan 31 ends at 00:30 UTC Feb 1.
    assert got == [
        (datetime(2026, 2, 1, 0, 0, tzinfo=UTC), datetime(2026, 2, 1, 0, 30, tzinfo=UTC)),
        (datetime(2026, 2, 1, 16, 30, tzinfo=UTC), datetime(2026, 2, 2, 0, 0, tzinfo=UTC)),
    ]


def test_holidays_start_no_shift():
    holiday = Calendar(
        tz=UTC, shifts=(Shift("Day", 8 * 60, 480),), stops=(), holidays=frozenset({datetime(2026, 5, 1).date()})
    )
    clock = OpenClock(holiday)
    assert clock.open_seconds(datetime(2026, 4, 30, tzinfo=UTC), datetime(2026, 5, 3, tzinfo=UTC)) == 2 * 8 * 3600


def test_a_site_without_calendar_is_always_open():
    clock = OpenClock(None)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert clock.open_seconds(t, t + timedelta(days=2)) == 2 * 86400
    assert clock.after(t, 90) == t + timedelta(seconds=90)


def test_the_shift_under_way_by_its_local_hours():
    from factory.work_calendar import shift_at

    assert shift_at(US, et("2026-01-09T13:59")) == {"id": "Day", "hours": "06:00-14:00"}
    assert shift_at(US, et("2026-01-09T14:15")) is None  # between Day and Swing
    assert shift_at(US, et("2026-01-09T22:00")) == {"id": "Swing", "hours": "14:30-22:30"}  # a break is still the shift
    assert shift_at(US, et("2026-01-10T12:00")) is None  # Saturday
    assert shift_at(None, et("2026-01-09T12:00")) is None
