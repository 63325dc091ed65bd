"""KPIs over stored history: the same sums as the live path, computed where the data lives.

Heavy sums (work, checks, units, WIP, lead times, option mix) are DuckDB aggregates over the
events table; the few calendar and breakdown events go through the same interval code as the
live path (factory.kpis.time_sums); the same formulas (factory.kpis.kpis_from_sums) finish the
job, so the dashboard, the KPI command and this module agree by construction.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from factory.history import History, _utc_naive
from factory.kpis import LineSums, collect, kpis_from_sums, time_sums
from factory.layout import Line, Plant

CALENDAR_TYPES = (
    "shift_started",
    "shift_ended",
    "planned_stop_started",
    "planned_stop_ended",
    "machine_down",
    "machine_up",
)
LOOKBACK = timedelta(days=2)  # how far before ``start`` a shift, stop or breakdown in force is looked for

_STATIONS_SQL = """
SELECT station_id,
       count(*) FILTER (WHERE type = 'station_work_done') AS processed,
       coalesce(sum(ideal_s) FILTER (WHERE type = 'station_work_done'), 0) AS ideal_s,
       coalesce(sum(work_s) FILTER (WHERE type = 'station_work_done'), 0) AS work_s,
       coalesce(sum(duration_s) FILTER (WHERE type = 'changeover_finished'), 0) AS setup_s,
       count(*) FILTER (WHERE type = 'quality_checked') AS checks,
       count(*) FILTER (WHERE type = 'quality_checked' AND passed) AS passed
FROM events
WHERE line_id = $line AND time >= $start AND time < $end
  AND type IN ('station_work_done', 'changeover_finished', 'quality_checked')
GROUP BY station_id
"""

_DEFECTS_SQL = """
SELECT defect_code, count(*) AS n FROM events
WHERE line_id = $line AND type = 'quality_checked' AND NOT passed AND time >= $start AND time < $end
GROUP BY defect_code
"""

# A unit is finished by its first UnitCompleted or UnitScrapped; facts about it may lie anywhere in time.
_UNITS_SQL = """
WITH finished AS (
    SELECT unit_code, arg_min(type, time) AS kind, min(time) AS t
    FROM events WHERE line_id = $line AND type IN ('completed', 'scrapped') GROUP BY unit_code
), produced AS (
    SELECT * FROM finished WHERE t >= $start AND t < $end
), facts AS (
    SELECT e.unit_code,
           min(e.time) FILTER (WHERE e.type = 'placed') AS placed,
           min(e.time) FILTER (WHERE e.type = 'station_entered') AS entered,
           bool_or(e.type = 'quality_checked' AND NOT e.passed) AS failed,
           bool_or(e.type = 'rework_routed') AS reworked,
           max(e.ideal_s / m.machines) FILTER (WHERE e.type = 'station_work_done' AND e.visit = 1) AS bottleneck_s
    FROM events e LEFT JOIN machines m ON m.station_id = e.station_id
    WHERE e.line_id = $line AND e.unit_code IN (SELECT unit_code FROM produced)
    GROUP BY e.unit_code
)
SELECT count(*) AS produced,
       count(*) FILTER (WHERE kind = 'completed') AS completed,
       count(*) FILTER (WHERE kind = 'completed' AND NOT coalesce(failed, false)) AS first_pass_good,
       count(*) FILTER (WHERE coalesce(reworked, false)) AS reworked,
       coalesce(sum(bottleneck_s), 0) AS fully_productive_s,
       coalesce(sum(date_diff('millisecond', placed, t)) FILTER (WHERE kind = 'completed' AND placed IS NOT NULL), 0)
           / 1000.0 AS lead_s,
       count(*) FILTER (WHERE kind = 'completed' AND placed IS NOT NULL) AS lead_n,
       coalesce(sum(date_diff('millisecond', entered, t)) FILTER (WHERE entered IS NOT NULL), 0) / 1000.0 AS flow_s,
       count(*) FILTER (WHERE entered IS NOT NULL) AS flow_n
FROM produced p LEFT JOIN facts f USING (unit_code)
"""

_WIP_SQL = """
WITH entered AS (
    SELECT unit_code, min(time) AS t FROM events
    WHERE line_id = $line AND type = 'station_entered' AND time < $end GROUP BY unit_code
), finished AS (
    SELECT unit_code, min(time) AS t FROM events
    WHERE line_id = $line AND type IN ('completed', 'scrapped') GROUP BY unit_code
)
SELECT coalesce(sum(greatest(0, date_diff('millisecond', greatest(e.t, $start), least(coalesce(f.t, $end), $end)))),
                0) / 1000.0 AS wip_s
FROM entered e LEFT JOIN finished f USING (unit_code)
"""

_SHIPPING_SQL = """
WITH shipped AS (
    SELECT unit_code, min(time) AS t FROM events WHERE line_id = $line AND type = 'shipped' GROUP BY unit_code
), placed AS (
    SELECT unit_code, min(time) AS t, any_value(json_extract_string(doc, '$.data.promised_by')) AS promised
    FROM events WHERE line_id = $line AND type = 'placed' GROUP BY unit_code
)
SELECT coalesce(sum(date_diff('millisecond', p.t, s.t)), 0) / 1000.0 AS ship_lead_s, count(*) AS ship_lead_n,
       count(p.promised) AS shipped_promised,
       count(*) FILTER (WHERE strftime(s.t + to_minutes(CAST($offset_min AS INTEGER)), '%Y-%m-%d') <= p.promised)
           AS shipped_on_time
FROM shipped s JOIN placed p USING (unit_code) WHERE s.t >= $start AND s.t < $end
"""

_HOURLY_SQL = """
SELECT date_trunc('hour', t) AS hour, count(*) AS n FROM (
    SELECT arg_min(type, time) AS kind, min(time) AS t
    FROM events WHERE line_id = $line AND type IN ('completed', 'scrapped') GROUP BY unit_code
) WHERE kind = 'completed' AND t >= $start AND t < $end GROUP BY ALL
"""

_OPTIONS_SQL = """
SELECT o.key AS option, json_extract_string(o.value, '$') AS choice, count(*) AS n
FROM events e, json_each(e.doc::JSON -> '$.data.options') o
WHERE e.line_id = $line AND e.type = 'placed' AND e.time >= $start AND e.time < $end
GROUP BY ALL
"""


def line_sums_from_history(history: History, plant: Plant, line: Line, start: datetime, end: datetime) -> LineSums:
    """Return a line's sums over [start, end) from stored events."""
    light = history.replay(start - LOOKBACK, end, line.id, CALENDAR_TYPES)
    sums = time_sums(plant, line, collect(light, plant, end)[line.id], start, end)
    params = {"line": line.id, "start": _utc_naive(start), "end": _utc_naive(end)}

    def query(sql: str, **tables: pd.DataFrame) -> pd.DataFrame:
        return history.frame(sql, params, **tables)

    for row in query(_STATIONS_SQL).itertuples():
        st = sums.stations[row.station_id]
        st.processed, st.ideal_s, st.work_s, st.setup_s = int(row.processed), row.ideal_s, row.work_s, row.setup_s
        st.checks, st.passed = int(row.checks), int(row.passed)
    sums.defects = Counter({r.defect_code: int(r.n) for r in query(_DEFECTS_SQL).itertuples()})
    machines = pd.DataFrame(
        {"station_id": [s.id for s in line.stations], "machines": [s.machines for s in line.stations]}
    )
    units = query(_UNITS_SQL, machines=machines).iloc[0]
    for name in ("produced", "completed", "first_pass_good", "reworked", "lead_n", "flow_n"):
        setattr(sums, name, int(units[name]))
    sums.fully_productive_s, sums.lead_s, sums.flow_s = units.fully_productive_s, units.lead_s, units.flow_s
    sums.wip_s = float(query(_WIP_SQL).iloc[0].wip_s)
    shipping = history.frame(_SHIPPING_SQL, {**params, "offset_min": round(plant.utc_offset_h * 60)}).iloc[0]
    sums.ship_lead_s, sums.ship_lead_n = float(shipping.ship_lead_s), int(shipping.ship_lead_n)
    sums.shipped_promised, sums.shipped_on_time = int(shipping.shipped_promised), int(shipping.shipped_on_time)
    for row in query(_HOURLY_SQL).itertuples():
        sums.completed_by_hour[row.hour.to_pydatetime().replace(tzinfo=UTC)] = int(row.n)
    options = query(_OPTIONS_SQL)
    for row in options.itertuples():
        sums.option_mix.setdefault(row.option, Counter())[row.choice] = int(row.n)
    sums.orders_placed = int(options.groupby("option")["n"].sum().max()) if not options.empty else 0
    return sums


def kpis(history: History, plant: Plant, start: datetime, end: datetime, line_id: str | None = None) -> dict[str, Any]:
    """Return the same KPI document as factory.kpis.compute, from history."""
    if end <= start:
        raise ValueError(f"empty time range: {start.isoformat()} .. {end.isoformat()}")
    lines = [plant.line(line_id)] if line_id else list(plant.lines)
    return {
        "from": start.astimezone(UTC).isoformat(),
        "to": end.astimezone(UTC).isoformat(),
        "lines": {line.id: kpis_from_sums(line_sums_from_history(history, plant, line, start, end)) for line in lines},
    }
