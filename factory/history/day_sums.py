"""Settled line-days' sums, kept so the executive view adds up days instead of re-summing hours.

A line's local day is *settled* once it has ended by the history's clock. Its sums depend only on
events whose time falls before the day's end, and on the repair of a breakdown begun that day
(the day counts it as repaired, with its whole repair time). So a kept day stays right until an
event of that line arrives that reaches into it: one recorded late, with a time before the
day's end (a line that was offline and catches up, a replayed file), a repair of a breakdown
begun on that day or before, or a person's classification of a stop begun on that day or before.
Before any read, :func:`refresh` asks the history which events arrived since it last asked (by
arrival number, ``seq``) and drops every kept day they reach into, and all later days of that line
(what such an event starts or ends may last).

Kept days live in the history (table ``day_sums``, so a restarted app answers its first
executive page at once) and, decoded, in this process's memory. Workers that share a history
(PostgreSQL) share the table and its mark; each checks the days in its own memory against what
arrived since its own last refresh, however far another worker has moved the mark.

Summing after the refresh makes the rule safe against a writer recording at the same time:
whatever arrives while a day is summed is looked at by the next refresh. A day summed while
another request refreshed is not kept (that refresh may have passed over an event the sums
missed).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from datetime import date, datetime, timedelta

from factory.history import queries as hq
from factory.history.rows import aware
from factory.history.store import History
from factory.kpi_sums import LineSums, from_json, to_json
from factory.layout import Line, Plant
from factory.local_time import day_bounds
from streams import codec
from streams import events as ev
from streams.codec import parse_time

CHECKED = "checked_seq"  # events up to this arrival number were looked at
PLANT = "plant"  # the factory file the kept days were summed for (plant_key)
_memory: weakref.WeakKeyDictionary[History, dict[tuple[str, date], LineSums]] = weakref.WeakKeyDictionary()
# How far this process has looked at arrivals for the days it holds in memory. Several workers
# share one PostgreSQL history: another worker's refresh moves the stored mark on, and the days
# this one holds must still be checked against what arrived since its own last refresh.
_seen: weakref.WeakKeyDictionary[History, int] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _memo(history: History) -> dict[tuple[str, date], LineSums]:
    with _lock:
        return _memory.setdefault(history, {})


def plant_key(plant: Plant) -> str:
    """Return a digest of what day sums depend on in the factory file (lines, stations, calendars, rates,
    the downtime reason tree)."""
    return hashlib.sha256(repr((plant.sites, plant.products, plant.downtime)).encode()).hexdigest()[:16]


def _state(history: History, name: str) -> str | None:
    found = history.query("SELECT value FROM day_sums_state WHERE name = ?", [name])
    return found[0][0] if found else None


def refresh(history: History) -> None:
    """Drop the kept days that events recorded since the last refresh reach into."""
    checked = _state(history, CHECKED)
    memo = _memo(history)
    if checked is None or _state(history, PLANT) != plant_key(history.plant):
        # never checked, or summed for another factory file: trust nothing kept
        history.drop_day_sums()
        with _lock:
            memo.clear()
        last = history.last_seq()
        history.put_day_sums([], {PLANT: plant_key(history.plant), CHECKED: str(last)})
        with _lock:
            _seen[history] = last
        return
    with _lock:
        since = min(int(checked), _seen.get(history, int(checked)))
    rows = history.query("SELECT line_id, min(time), max(seq) FROM events WHERE seq > ? GROUP BY line_id", [since])
    if not rows:
        with _lock:
            _seen[history] = max(since, int(checked))
        return
    reach = {line_id: aware(earliest) for line_id, earliest, _ in rows if line_id is not None}
    # A repair reaches back to the day its breakdown began (that day counts it as repaired).
    for line_id, up, down_s in history.query(
        "SELECT line_id, time, down_s FROM timeline WHERE seq > ? AND down_s IS NOT NULL", [since]
    ):
        began = aware(up) - timedelta(seconds=float(down_s))
        reach[line_id] = min(reach.get(line_id, began), began)
    # A classification reaches back to the day its stop began (that day counts the stop under it).
    for line_id, since_text in _classified_since(history, since):
        try:
            began = parse_time(since_text)
        except ValueError:
            continue
        reach[line_id] = min(reach.get(line_id, began), began)
    for line_id, reached in reach.items():
        history.drop_day_sums(line_id, reached)
        if history.plant.has_line(line_id):
            tz = history.plant.tz_of(line_id)
            with _lock:
                for key in [k for k in memo if k[0] == line_id and day_bounds(k[1], tz)[1] > reached]:
                    del memo[key]
    newest = max(int(seq) for *_, seq in rows)
    history.put_day_sums([], {CHECKED: str(newest)})
    with _lock:
        _seen[history] = newest


def _classified_since(history: History, since: int) -> list[tuple[str, str]]:
    """Return (line, down_since) of the stop classifications that arrived after ``since``."""
    rows = history.query("SELECT doc FROM events WHERE seq > ? AND kind = 'downtime_classified'", [since])
    found = [codec.from_json(doc) for (doc,) in rows]
    return [(e.line_id, e.down_since) for e in found if isinstance(e, ev.DowntimeClassified)]


def line_days(
    history: History, plant: Plant, line: Line, first: date, last: date, now: datetime
) -> dict[date, LineSums]:
    """Return ``hq.daily_sums`` for the line's days in [first, last] up to ``now``, settled days from what is kept.

    Call :func:`refresh` first (once per request is enough). The returned sums are shared: do not change them.
    """
    tz = plant.tz_of(line.id)
    memo = _memo(history)
    checked = _state(history, CHECKED)
    days = hq.local_days(plant, line, first, last, now)
    out: dict[date, LineSums] = {}
    with _lock:
        for d in days:
            if (line.id, d) in memo:
                out[d] = memo[(line.id, d)]
    wanted = [d for d in days if d not in out]
    if wanted:
        sql = "SELECT day, doc FROM day_sums WHERE line_id = ? AND day >= ? AND day <= ?"
        for d, doc in history.query(sql, [line.id, wanted[0], wanted[-1]]):
            if d in wanted and d not in out:
                out[d] = from_json(doc)
                with _lock:
                    memo[(line.id, d)] = out[d]
    kept: list[tuple[str, date, datetime, str]] = []
    kept_sums: list[LineSums] = []
    for start, end in _runs([d for d in days if d not in out]):
        for d, sums in hq.daily_sums(history, plant, line, start, end, now).items():
            out[d] = sums
            day_end = day_bounds(d, tz)[1]
            if day_end <= now:
                kept.append((line.id, d, day_end, to_json(sums)))
                kept_sums.append(sums)
    if kept and checked is not None and _state(history, CHECKED) == checked:
        history.put_day_sums(kept)
        with _lock:
            memo.update({(line_id, d): sums for (line_id, d, _, _), sums in zip(kept, kept_sums)})
    return {d: out[d] for d in days if d in out}


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Return the consecutive stretches of sorted ``days`` as (first, last) pairs."""
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs
