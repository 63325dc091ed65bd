"""The test measurements an SPC chart reads (factory/spc_chart.py), from the stored quality checks.

A chart's points are the first tests of one measurement at one station, for one product: units
whose choice of the measurement's option (``unit_options``) is that product, or every unit of
the line when the measurement depends on no option. The database picks the rows; each stored
check's measurements are read here, one JSON document a point.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from factory.history import rows as r
from factory.history.store import History
from factory.spc_chart import BASELINE_POINTS, Point
from streams import events as ev

BASELINE_LOOKBACK = timedelta(days=4)  # how far back the points before a range are looked for (a long weekend)


def _point(time: datetime, unit_code: str, doc: str, measurement: str) -> Point | None:
    data = json.loads(doc).get("data", {})
    if data.get("visit", 1) != 1:
        return None
    for m in data.get("measurements", ()):
        if m.get("name") == measurement and isinstance(m.get("value"), (int, float)):
            return Point(r.aware(time), unit_code, float(m["value"]), m.get("lower"), m.get("upper"))
    return None


def points(
    history: History,
    line_id: str,
    station_id: str,
    measurement: str,
    option: str | None,
    product: str,
    start: datetime,
    end: datetime,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[Point]:
    """Return the points in [start, end) in time order (``newest_first``: the latest ``limit`` of them)."""
    params: list = [ev.QualityChecked.KIND, line_id, station_id, r.naive(start), r.naive(end)]
    join = ""
    if option is not None:
        join = "JOIN unit_options o ON o.unit_code = e.unit_code AND o.option_id = ? AND o.choice_id = ?"
        params = [option, product, *params]
    order = "DESC" if newest_first else "ASC"
    rows = history.query(
        f"SELECT e.time, e.unit_code, e.doc FROM events e {join} "
        "WHERE e.kind = ? AND e.line_id = ? AND e.station_id = ? AND e.time >= ? AND e.time < ? "
        f"ORDER BY e.time {order}, e.seq {order}" + (f" LIMIT {int(limit)}" if limit is not None else ""),
        params,
    )
    found = [p for t, unit, doc in rows if (p := _point(t, unit, doc, measurement)) is not None]
    return found[::-1] if newest_first else found


def baseline_before(
    history: History, line_id: str, station_id: str, measurement: str, option: str | None, product: str, start: datetime
) -> list[Point]:
    """Return up to BASELINE_POINTS points before ``start`` (within BASELINE_LOOKBACK), in time order."""
    # Retests are read and dropped, so ask for a few more rows than points.
    return points(
        history, line_id, station_id, measurement, option, product, start - BASELINE_LOOKBACK, start,
        limit=BASELINE_POINTS * 2, newest_first=True,
    )[-BASELINE_POINTS:]  # fmt: skip


def recent_checks(history: History, since: datetime) -> list[tuple[ev.QualityChecked, dict[str, str]]]:
    """Return the stored quality checks from ``since`` in time order, each with its unit's options.

    What a restarted worker's SPC watch (factory/spc_alarms.py) folds before it reads the stream.
    """
    events = [e for e in history.iter_replay(start=since, kinds=[ev.QualityChecked.KIND])
              if isinstance(e, ev.QualityChecked)]  # fmt: skip
    rows = history.query(
        "SELECT o.unit_code, o.option_id, o.choice_id FROM unit_options o JOIN "
        "(SELECT DISTINCT unit_code FROM events WHERE kind = ? AND time >= ?) q ON q.unit_code = o.unit_code",
        [ev.QualityChecked.KIND, r.naive(since)],
    )
    options: dict[str, dict[str, str]] = {}
    for unit_code, option, choice in rows:
        options.setdefault(unit_code, {})[option] = choice
    return [(e, options.get(e.unit_code, {})) for e in events]
