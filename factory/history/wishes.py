"""The wishes the demand analysis reads (factory/demand.py), from the history in one query.

A wish is every order placed (``OrderPlaced``: from the configurator, the built-in plant or an
outside system) plus every configurator visit (``ConfigurationDrafted`` by ``session_id``) whose
latest draft did not place an order. A visit that ordered is counted once, by its order. The
query returns columns (product, ordered, time and one column per option of the factory file),
picked out of the stored events by the database: no event is decoded in Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from factory.demand import OPTION, ProductDemand, analyse
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
    if any('"' in o for o in options):
        raise ValueError("an option id with a double quote cannot be read from the stored events")
    # Every field in one pass over each stored document (the store's dialect parses it once).
    paths = [
        ["data", "product"],
        ["data", "session_id"],
        ["data", "ordered"],
        *(["data", "options", o] for o in options),
    ]
    picked, pick_params, field = history.json_fields("doc", paths)
    bounds, params = [], []
    for op, value in ((">=", start), ("<", end)):
        if value is not None:
            bounds.append(f"time {op} ?")
            params.append(r.naive(value))
    within = " AND ".join(bounds) or "true"
    chosen_options = "".join(f", {field[3 + i]}" for i in range(len(options)))
    # A visit's latest draft over all time, so a visit is judged by where it ended.
    sql = f"""
        WITH picked AS (
            SELECT kind, time, seq, {picked} AS f FROM events
            WHERE (kind = ? AND {within}) OR kind = ?
        ), visits AS (
            SELECT f, time, seq FROM (
                SELECT f, time, seq, row_number() OVER (PARTITION BY {field[1]} ORDER BY time DESC, seq DESC) AS latest
                FROM picked WHERE kind = ?
            ) drafts WHERE latest = 1
        ), chosen AS (
            SELECT f, time, seq, true AS ordered FROM picked WHERE kind = ?
            UNION ALL
            SELECT f, time, seq, false FROM visits WHERE coalesce({field[2]}, '') <> 'true' AND {within}
        )
        SELECT {field[0]}, ordered, {history.epoch_us("time")}{chosen_options} FROM chosen ORDER BY time, seq
    """
    placed, drafted = ev.OrderPlaced.KIND, ev.ConfigurationDrafted.KIND
    found = history.query(sql, [*pick_params, placed, *params, drafted, drafted, placed, *params])
    names = ["product", "ordered", "time", *(OPTION + o for o in options)]
    columns = list(zip(*found)) if found else [()] * len(names)  # by column: cheaper than 100,000 row objects
    table = pd.DataFrame(dict(zip(names, columns)), columns=names)
    table["time"] = pd.to_datetime(pd.Series(columns[2], dtype="int64"), unit="us", utc=True)
    table["ordered"] = table["ordered"].astype(bool)
    return table


def wish_span(history: History) -> tuple[datetime, datetime] | None:
    """Return the times of the first and the latest stored order or draft, or None when there is none."""
    marks = ", ".join("?" for _ in WISH_KINDS)
    first, last = history.query(f"SELECT min(time), max(time) FROM events WHERE kind IN ({marks})", WISH_KINDS)[0]
    if first is None:
        return None
    return r.aware(first), r.aware(last)


def latest_demand(history: History, plant: Plant, days: int) -> dict[str, ProductDemand]:
    """Return the demand per product over the ``days`` days before the latest wish (0: all): what /demand shows."""
    span = wish_span(history)
    if span is None:
        return {}
    start = span[1] - timedelta(days=days) if days else None
    return analyse(wishes(history, plant, start), plant.products)
