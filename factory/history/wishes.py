"""The wishes the demand analysis reads (factory/demand.py), from the history in one query.

A wish is every order placed (``OrderPlaced``: from the configurator, the built-in plant or an
outside system) plus every configurator visit (``ConfigurationDrafted`` by ``session_id``) whose
latest draft did not place an order. A visit that ordered is counted once, by its order. The
query returns columns (product, ordered, time and one column per option of the factory file),
picked out of the stored events by the database: no event is decoded in Python.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from factory.demand import OPTION
from factory.history import rows as r
from factory.history.store import History
from factory.layout import Plant
from streams import events as ev

WISH_KINDS = (ev.OrderPlaced.KIND, ev.ConfigurationDrafted.KIND)


def option_ids(plant: Plant) -> list[str]:
    """Return every option id of the plant's products (the option columns of the table), sorted."""
    return sorted({o.id for p in plant.products.values() for o in p.options})


def wishes(history: History, plant: Plant, start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Return the wishes from ``start`` (inclusive) to ``end`` (exclusive); a visit counts at its latest draft."""
    options = option_ids(plant)
    bounds, params = [], []
    for op, value in ((">=", start), ("<", end)):
        if value is not None:
            bounds.append(f"time {op} ?")
            params.append(r.naive(value))
    within = " AND ".join(bounds) or "true"
    picked = ", ".join(f"j->'$.data.options'->>? AS o{i}" for i in range(len(options)))
    # The latest draft of every visit over all time, so a visit is judged by where it ended.
    sql = f"""
        WITH visits AS (
            SELECT time, doc::JSON AS j FROM events WHERE kind = ?
            QUALIFY row_number() OVER (PARTITION BY doc::JSON->>'$.data.session_id' ORDER BY time DESC, seq DESC) = 1
        ), chosen AS (
            SELECT time, doc::JSON AS j, true AS ordered FROM events WHERE kind = ? AND {within}
            UNION ALL
            SELECT time, j, false FROM visits
            WHERE NOT coalesce(TRY_CAST(j->>'$.data.ordered' AS BOOLEAN), false) AND {within}
        )
        SELECT j->>'$.data.product', ordered, time{", " + picked if picked else ""} FROM chosen
    """
    found = history.query(sql, [ev.ConfigurationDrafted.KIND, ev.OrderPlaced.KIND, *params, *params, *options])
    table = pd.DataFrame(found, columns=["product", "ordered", "time", *(OPTION + o for o in options)])
    table["time"] = pd.to_datetime(table["time"], utc=True)
    table["ordered"] = table["ordered"].astype(bool)
    return table


def wish_span(history: History) -> tuple[datetime, datetime] | None:
    """Return the times of the first and the latest stored order or draft, or None when there is none."""
    marks = ", ".join("?" for _ in WISH_KINDS)
    first, last = history.query(f"SELECT min(time), max(time) FROM events WHERE kind IN ({marks})", WISH_KINDS)[0]
    if first is None:
        return None
    return r.aware(first), r.aware(last)
