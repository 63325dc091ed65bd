"""Every event persisted in DuckDB (a file by default), so a restart keeps everything.

The table keeps the columns that queries filter and aggregate on, plus the whole CloudEvent
as JSON for replay. ``time`` is stored as a plain TIMESTAMP in UTC (converted at this module's
boundary), which keeps DuckDB from needing a timezone library. ``(source, id)`` is the primary key: a redelivered event is stored once.
Queries answer as typed events (for the projection and the KPI functions) or pandas frames.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from streams import codec
from streams import events as ev
from streams.bus import Bus

_COLUMNS = {  # column -> DuckDB type; the event attribute of the same name fills it when present
    "source": "VARCHAR NOT NULL",
    "id": "VARCHAR NOT NULL",
    "type": "VARCHAR NOT NULL",
    "time": "TIMESTAMP NOT NULL",
    "line_id": "VARCHAR",
    "station_id": "VARCHAR",
    "unit_code": "VARCHAR",
    "visit": "INTEGER",
    "machine": "INTEGER",
    "passed": "BOOLEAN",
    "work_s": "DOUBLE",
    "ideal_s": "DOUBLE",
    "down_s": "DOUBLE",
    "duration_s": "DOUBLE",
    "reason_code": "VARCHAR",
    "defect_code": "VARCHAR",
    "tracking_token": "VARCHAR",
    "doc": "VARCHAR NOT NULL",
}
_SHORT_TYPE = {cls: cls.TYPE.rsplit(".", 2)[-2] for cls in ev.EVENT_TYPES.values()}  # e.g. "station_work_done"


def _utc_naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


class History:
    """Append-only event store with time-range queries. Thread-safe: one connection, one lock."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(path))
        self._lock = threading.Lock()
        columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
        self._db.execute(f"CREATE TABLE IF NOT EXISTS events ({columns}, PRIMARY KEY (source, id))")
        # No index on time: events arrive roughly in time order, so DuckDB's per-block min/max
        # (zone maps) already skip what a time range excludes, and an index would slow every insert.
        # Token -> unit, so a tracker lookup is a key lookup even over months of events.
        self._db.execute("CREATE TABLE IF NOT EXISTS orders (tracking_token VARCHAR PRIMARY KEY, unit_code VARCHAR)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS feedback (unit_code VARCHAR NOT NULL, received TIMESTAMP NOT NULL, "
            "rating INTEGER, comment VARCHAR)"
        )
        # KPI sums of whole plant-local days, kept once a day is over (factory/rollups.py).
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS line_day_sums (line_id VARCHAR NOT NULL, day DATE NOT NULL, "
            "utc_start TIMESTAMP NOT NULL, utc_end TIMESTAMP NOT NULL, sums VARCHAR NOT NULL, "
            "PRIMARY KEY (line_id, day))"
        )
        # Who acknowledged which andon alarm and when (wall-clock time), so a restart keeps it.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS alarm_acks (alarm_id VARCHAR PRIMARY KEY, line_id VARCHAR NOT NULL, "
            "by_user VARCHAR NOT NULL, acknowledged TIMESTAMP NOT NULL)"
        )

    def close(self) -> None:
        """Flush and close the database file."""
        with self._lock:
            self._db.close()

    def append(self, events: Iterable[ev.Event]) -> int:
        """Store events not stored yet; return how many were new."""
        rows = [self._row(e) for e in events]
        if not rows:
            return 0
        frame = pd.DataFrame(rows, columns=list(_COLUMNS))
        with self._lock:
            before = self._count()
            self._db.register("incoming", frame)
            self._db.execute("INSERT OR IGNORE INTO events SELECT * FROM incoming")
            self._db.execute(
                "INSERT OR IGNORE INTO orders SELECT tracking_token, unit_code FROM incoming WHERE type = 'placed'"
            )
            # An event arriving late for a day already summed makes that day's sums wrong: drop them.
            self._db.execute(
                "DELETE FROM line_day_sums r WHERE EXISTS (SELECT 1 FROM incoming i WHERE "
                "i.line_id = r.line_id AND i.time >= r.utc_start AND i.time < r.utc_end)"
            )
            self._db.unregister("incoming")
            return self._count() - before

    def _count(self) -> int:
        return self._one("SELECT count(*) FROM events")

    def _one(self, sql: str, params: list | None = None):
        """Return the single value of a one-row, one-column query (fetching it completely)."""
        return self._db.execute(sql, params or []).fetchall()[0][0]

    def count(self) -> int:
        """Return how many events are stored."""
        with self._lock:
            return self._count()

    @staticmethod
    def _row(event: ev.Event) -> list:
        row = [event.source, event.id, _SHORT_TYPE[type(event)], _utc_naive(event.time)]
        row += [getattr(event, name, None) for name in list(_COLUMNS)[4:-1]]
        return row + [codec.to_json(event)]

    def _events(self, where: str, params: list) -> list[ev.Event]:
        with self._lock:
            docs = self._db.execute(
                f"SELECT doc FROM events WHERE {where} ORDER BY time, source, id", params
            ).fetchall()
        return [codec.from_json(doc) for (doc,) in docs]

    def replay(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        line_id: str | None = None,
        types: tuple[str, ...] = (),
    ) -> list[ev.Event]:
        """Return stored events in time order, optionally within [start, end), for one line, of some types."""
        clauses, params = ["true"], []
        if types:
            clauses.append(f"type IN ({', '.join('?' for _ in types)})"), params.extend(types)
        if start is not None:
            clauses.append("time >= ?"), params.append(_utc_naive(start))
        if end is not None:
            clauses.append("time < ?"), params.append(_utc_naive(end))
        if line_id is not None:
            clauses.append("line_id = ?"), params.append(line_id)
        return self._events(" AND ".join(clauses), params)

    def unit_events(self, unit_code: str) -> list[ev.Event]:
        """Return every event of one unit, in time order."""
        return self._events("unit_code = ?", [unit_code])

    def unit_for_token(self, token: str) -> str | None:
        """Return the unit code of the order with this tracking token, or None."""
        with self._lock:
            return self._one("SELECT any_value(unit_code) FROM orders WHERE tracking_token = ?", [token])

    def next_order_numbers(self) -> dict[str, int]:
        """Return, per line, the number after the highest order number stored (1 for a new line)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT line_id, max(CAST(regexp_extract(unit_code, '(\\d+)$', 1) AS INTEGER)) "
                "FROM events WHERE type = 'placed' GROUP BY line_id"
            ).fetchall()
        return {line: (number or 0) + 1 for line, number in rows}

    def last_time(self) -> datetime | None:
        """Return the time of the latest stored event."""
        with self._lock:
            latest = self._one("SELECT max(time) FROM events")
        return latest.replace(tzinfo=UTC) if latest is not None else None

    def add_feedback(self, unit_code: str, received: datetime, rating: int | None, comment: str) -> None:
        """Store a customer's feedback on their order."""
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?)", [unit_code, _utc_naive(received), rating, comment]
            )

    def day_sums(self, line_id: str, first: date, last: date) -> dict[date, str]:
        """Return the stored day sums (JSON) of a line for days in [first, last]."""
        with self._lock:
            rows = self._db.execute(
                "SELECT day, sums FROM line_day_sums WHERE line_id = ? AND day BETWEEN ? AND ?", [line_id, first, last]
            ).fetchall()
        return dict(rows)

    def put_day_sums(self, line_id: str, day: date, start: datetime, end: datetime, sums: str) -> None:
        """Store the sums of one whole day of a line."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO line_day_sums VALUES (?, ?, ?, ?, ?)",
                [line_id, day, _utc_naive(start), _utc_naive(end), sums],
            )

    def add_alarm_ack(self, alarm_id: str, line_id: str, user: str, at: datetime) -> bool:
        """Store an alarm's acknowledgement; return False if it was acknowledged already."""
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO alarm_acks VALUES (?, ?, ?, ?) RETURNING alarm_id",
                [alarm_id, line_id, user, _utc_naive(at)],
            ).fetchall()
        return bool(inserted)

    def alarm_acks(self, since: datetime) -> dict[str, tuple[str, datetime]]:
        """Return the acknowledgements given since ``since``: alarm id -> (user, when)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT alarm_id, by_user, acknowledged FROM alarm_acks WHERE acknowledged >= ?", [_utc_naive(since)]
            ).fetchall()
        return {alarm: (user, at.replace(tzinfo=UTC)) for alarm, user, at in rows}

    def frame(self, sql: str, params: list | None = None, **tables: pd.DataFrame) -> pd.DataFrame:
        """Run a read query (with ``tables`` registered under their names) and return a pandas frame."""
        with self._lock:
            for name, table in tables.items():
                self._db.register(name, table)
            try:
                return self._db.execute(sql, params or []).df()
            finally:
                for name in tables:
                    self._db.unregister(name)


def record(bus: Bus, history: History, stop: threading.Event, batch: int = 2000, wait_s: float = 0.5) -> None:
    """Copy everything the bus carries into ``history`` until ``stop`` is set, then flush."""
    offset = None
    while True:
        entries = bus.read(offset, limit=batch, block_s=wait_s)
        if entries:
            history.append(event for _, event in entries)
            offset = entries[-1][0]
        elif stop.is_set():
            return
