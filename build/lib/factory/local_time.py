"""A site's hours and days, in its own time zone, as UTC instants.

Hour-by-hour figures are bucketed by the site's local hours (an India site's hours start at
:30 UTC, a Nepal site's at :15; a DST day has 23 or 25 of them), and days are the site's local
dates. Buckets are identified by their start as an aware UTC datetime, so every store and
every viewer agrees on them; each viewer labels them in its own zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

HOUR = timedelta(hours=1)


def hour_start(t: datetime, tz: tzinfo) -> datetime:
    """Return the start (UTC) of the local hour that contains ``t``."""
    local = t.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def hour_buckets(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    """Return the local hours that overlap [start, end), each as (start, end) in UTC, clipped to the range.

    The first and last buckets may be partial; their keys are still the whole hours' starts
    (see :func:`hour_start`), so the pieces of one hour from two ranges add up.
    """
    out = []
    bucket = hour_start(start, tz)
    while bucket < end:
        following = hour_start(bucket + HOUR + timedelta(minutes=30), tz)  # the next local hour, DST included
        if following <= bucket:
            following = bucket + HOUR
        out.append((max(bucket, start), min(following, end)))
        bucket = following
    return out


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Return [start, end) of a local day as aware UTC datetimes (23, 24 or 25 hours long)."""
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def local_day(t: datetime, tz: tzinfo) -> date:
    """Return the local date of an instant."""
    return t.astimezone(tz).date()
