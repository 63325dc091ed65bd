"""The history: every event kept once, with the facts and sums KPI queries need. One interface, two stores.

:class:`History` holds everything that is the same whatever the database: what is recorded for
each batch (in one transaction, so a crash leaves no half-counted sums), how copies are refused
(by ``(source, id)`` and by the event's own key), and the questions other modules ask. The two
backends differ only in how they talk to their database (``_query``, ``_execute``, ``_insert``,
``_insert_events``, ``_transaction``, ``is_writer``) and in a few SQL expressions their dialects
spell differently (``seconds_between``, ``epoch_us``, ``json_fields``): the embedded DuckDB file
(:mod:`factory.history.duckdb_store`) and a PostgreSQL database that several workers share
(:mod:`factory.history.postgres_store`), both held by the contract tests in
tests/test_history_contract.py.

Times are stored as naive UTC timestamps and returned aware. Every public method may be called
from any thread; ``run`` (given by the app) moves blocking database work off a gevent loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from factory.history import rows as r
from factory.kpis import RANK_BY_KIND
from factory.layout import Plant
from streams import codec
from streams import events as ev

log = logging.getLogger(__name__)
# What the lines do (not people's actions, not configurator drafts): the plant's own clock.
LINE_KINDS = [c.KIND for c in ev.EVENT_TYPES.values() if not c.CONTROL and c is not ev.ConfigurationDrafted]
_LINE_KINDS_SQL = f"kind IN ({', '.join('?' for _ in LINE_KINDS)})"
T = TypeVar("T")

_UNIT_COLUMNS = r.UnitRow.columns()
EVENT_COLUMNS = ["key", "seq", "source", "id", "kind", "time", "line_id", "station_id", "unit_code", "doc"]
KEY_WINDOW = timedelta(days=1)  # copies of one fact (by key) are recognised this far apart in event time
# No primary key on events: an index over every event ever stored would grow without bound in
# memory (DuckDB keeps such indexes outside its memory limit). Copies are found by _not_stored.
EVENTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS {name} (key {text} NOT NULL, seq BIGINT NOT NULL, source {text} NOT NULL, "
    "id {text} NOT NULL, kind {text} NOT NULL, time TIMESTAMP NOT NULL, line_id {text}, station_id {text}, "
    "unit_code {text}, doc {text} NOT NULL)"
)
SCHEMA = [
    EVENTS_TABLE.format(name="events", text="{text}"),
    "CREATE TABLE IF NOT EXISTS units (unit_code {text} PRIMARY KEY, line_id {text} NOT NULL, order_id {text}, "
    "order_number BIGINT, token {text}, product {text}, placed_at TIMESTAMP, place_bucket TIMESTAMP, place_day DATE, "
    "promised_by {text}, first_entered TIMESTAMP, finished_at TIMESTAMP, finish_kind {text}, "
    "finish_bucket TIMESTAMP, finish_day DATE, failed BOOLEAN NOT NULL, reworked BOOLEAN NOT NULL, "
    "bottleneck_s {double} NOT NULL, shipped_at TIMESTAMP, ship_day DATE, ship_local {text}, "
    "first_time TIMESTAMP, last_time TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS tokens (token {text} PRIMARY KEY, unit_code {text} NOT NULL, line_id {text} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS unit_options (unit_code {text} NOT NULL, line_id {text} NOT NULL, "
    "placed_at TIMESTAMP NOT NULL, place_day DATE NOT NULL, option_id {text} NOT NULL, choice_id {text} NOT NULL, "
    "PRIMARY KEY (unit_code, option_id))",
    "CREATE TABLE IF NOT EXISTS station_facts (line_id {text} NOT NULL, station_id {text} NOT NULL, "
    "time TIMESTAMP NOT NULL, kind {text} NOT NULL, ideal_s {double}, work_s {double}, duration_s {double}, "
    "passed BOOLEAN, defect_code {text})",
    "CREATE TABLE IF NOT EXISTS station_hour (line_id {text} NOT NULL, station_id {text} NOT NULL, "
    "bucket TIMESTAMP NOT NULL, day DATE NOT NULL, processed BIGINT NOT NULL, ideal_s {double} NOT NULL, "
    "work_s {double} NOT NULL, setup_s {double} NOT NULL, checks BIGINT NOT NULL, passed BIGINT NOT NULL, "
    "PRIMARY KEY (line_id, station_id, bucket))",
    "CREATE TABLE IF NOT EXISTS defect_hour (line_id {text} NOT NULL, bucket TIMESTAMP NOT NULL, day DATE NOT NULL, "
    "defect_code {text} NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (line_id, bucket, defect_code))",
    "CREATE TABLE IF NOT EXISTS timeline (line_id {text} NOT NULL, station_id {text}, machine INTEGER, "
    "kind {text} NOT NULL, time TIMESTAMP NOT NULL, reason_code {text}, reason {text}, down_s {double}, "
    "seq BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (time TIMESTAMP PRIMARY KEY, seq BIGINT NOT NULL, state {text} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (name {text} PRIMARY KEY, value {text} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS day_sums (line_id {text} NOT NULL, day DATE NOT NULL, day_end TIMESTAMP NOT NULL, "
    "doc {text} NOT NULL, PRIMARY KEY (line_id, day))",
    "CREATE TABLE IF NOT EXISTS day_sums_state (name {text} PRIMARY KEY, value {text} NOT NULL)",
]
RANK_SQL = "CASE kind " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK_BY_KIND.items()) + " ELSE 1 END"


# Every table of the store: events and what is derived from them (``wipe`` empties them all).
TABLES = (
    "events", "units", "tokens", "unit_options", "station_facts", "station_hour", "defect_hour",
    "timeline", "checkpoints", "day_sums", "day_sums_state", "meta",
)  # fmt: skip


class HistoryError(RuntimeError):
    """The history cannot be opened or written (a damaged file, a full disk, a lost server)."""


class HistoryUnavailable(HistoryError):
    """The history's server cannot be reached just now: what asked may ask again later (HTTP 503)."""


@dataclass
class RecordResult:
    """What one batch changed: new events, and copies refused by id or by key."""

    new: list[ev.Event]
    duplicate_ids: int
    duplicate_keys: int


class History:
    """The shared logic of every history store (subclasses provide the database calls)."""

    dialect = "sql"

    def __init__(self, plant: Plant, run: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        self.plant = plant
        self._run = run or (lambda fn: fn())
        self._seq: int | None = None
        self.refused_ids = 0
        self.refused_keys = 0
        self.writes_failed = 0
        self.last_error: str | None = None

    # --- what a backend provides -----------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def _insert(
        self,
        table: str,
        columns: list[str],
        rows: list[list[Any]],
        conflict: str = "DO NOTHING",
        returning: str | None = None,
    ) -> list[tuple]:
        """Insert rows (``ON CONFLICT <conflict>``); return the RETURNING rows of those inserted."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager:
        raise NotImplementedError

    def _insert_events(self, rows: list[list[Any]]) -> set[int]:
        """Insert event rows (``EVENT_COLUMNS``); return the arrival numbers of those stored.

        A store that several writers share refuses, by its unique key, an event another writer
        stored between the look-up for copies and this insert; an embedded one stores them all.
        """
        self._insert("events", EVENT_COLUMNS, rows, conflict="")
        return {row[1] for row in rows}

    def seconds_between(self, a: str, b: str) -> str:
        """Return the SQL expression of the seconds from timestamp ``a`` to ``b``."""
        raise NotImplementedError

    def epoch_us(self, a: str) -> str:
        """Return the SQL expression of the microseconds from 1970-01-01 to timestamp ``a`` (an integer)."""
        raise NotImplementedError

    def json_fields(self, column: str, paths: Sequence[Sequence[str]]) -> tuple[str, list[Any], list[str]]:
        """Pick text fields out of the JSON documents in ``column``, parsing each document once.

        ``paths`` are key paths (``["data", "product"]``). Return the SQL expression to select as
        ``f``, its parameters, and for each path the expression of its text (NULL when absent)
        in terms of ``f``.
        """
        raise NotImplementedError

    def is_writer(self) -> bool:
        """Whether this process is the one that records into the history (the writer's turn).

        An embedded store has one process, which always is; a shared one elects one at a time.
        """
        return True

    # Why the last is_writer() could not even ask (the shared store unreachable), else None: then
    # "not the writer" is an outage, not another worker's turn.
    writer_unreachable: str | None = None

    def close(self) -> None:
        """Release the database."""

    # --- set-up ----------------------------------------------------------------------------------
    def _create(self, types: dict[str, str]) -> None:
        for statement in SCHEMA:
            self._execute(statement.format(**types))
        for statement in self._indexes():
            self._execute(statement)

    def _indexes(self) -> list[str]:
        return []

    # --- writing (one writer at a time) -----------------------------------------------------------
    def record(self, events: Iterable[ev.Event], meta: dict[str, str] | None = None) -> RecordResult:
        """Store the events not stored yet, with their facts and sums, in one transaction.

        ``meta`` (e.g. how far the writer has read each bus) is kept in the same transaction, so
        a crash never records a batch without its offset, or the other way round.
        """
        batch = list(events)
        if not batch and not meta:
            return RecordResult([], 0, 0)
        return self._run(lambda: self._record(batch, meta or {}))

    def _record(self, batch: list[ev.Event], meta: dict[str, str]) -> RecordResult:
        try:
            return self._record_batch(batch, meta)
        except BaseException:
            self._seq = None  # the batch was rolled back: read the last arrival number again
            raise

    def _record_batch(self, batch: list[ev.Event], meta: dict[str, str]) -> RecordResult:
        with self._transaction():
            if meta:
                self._insert(
                    "meta",
                    ["name", "value"],
                    [[k, v] for k, v in meta.items()],
                    conflict="(name) DO UPDATE SET value = excluded.value",
                )
            if not batch:
                return RecordResult([], 0, 0)
            if self._seq is None:
                self._seq = int(self._query("SELECT coalesce(max(seq), 0) FROM events")[0][0])
            fresh, copies_by_id, copies_by_key = self._not_stored(batch)
            first_seq = self._seq + 1
            rows = [
                [
                    e.key(),
                    first_seq + n,
                    e.source,
                    e.id,
                    e.KIND,
                    r.naive(e.time),
                    getattr(e, "line_id", None),
                    getattr(e, "station_id", None),
                    getattr(e, "unit_code", None) if not e.CONTROL else None,
                    codec.to_json(e),
                ]
                for n, e in enumerate(fresh)
            ]
            stored = self._insert_events(rows) if rows else set()
            new = [e for n, e in enumerate(fresh) if first_seq + n in stored]
            copies_by_id += len(fresh) - len(new)  # stored meanwhile by another writer (a shared store)
            seqs = {id(e): first_seq + n for n, e in enumerate(fresh)}
            self._seq = first_seq + len(fresh) - 1 if fresh else self._seq
            self._derive(new, seqs)
        result = RecordResult(new, copies_by_id, copies_by_key)
        self.refused_ids += result.duplicate_ids
        self.refused_keys += result.duplicate_keys
        return result

    def _not_stored(self, batch: list[ev.Event]) -> tuple[list[ev.Event], int, int]:
        """Return the batch's events not stored yet, and how many are copies by id and by key.

        A copy by id is the same event again (same source, id and time: a redelivery). A copy by
        key is the same fact from elsewhere (``Event.key``, e.g. a unit entering a station for
        the same visit), recognised within ``KEY_WINDOW`` of event time. Both are looked up in
        the time range the batch covers, which DuckDB's per-block time ranges keep to a few
        blocks: no index over every event ever stored, so memory stays flat over months.
        """
        times = [r.naive(e.time) for e in batch]
        lo, hi = min(times), max(times)
        stored_ids = {
            (source, id_, t)
            for source, id_, t in self._query(
                "SELECT source, id, time FROM events WHERE time >= ? AND time <= ? AND id IN (SELECT unnest(?))",
                [lo, hi, sorted({e.id for e in batch})],
            )
        }
        stored_keys = {
            k
            for (k,) in self._query(
                "SELECT key FROM events WHERE time >= ? AND time <= ? AND key IN (SELECT unnest(?))",
                [lo - KEY_WINDOW, hi + KEY_WINDOW, sorted({e.key() for e in batch})],
            )
        }
        fresh: list[ev.Event] = []
        by_id = by_key = 0
        for e, t in zip(batch, times):
            if (e.source, e.id, t) in stored_ids:
                by_id += 1
                continue
            stored_ids.add((e.source, e.id, t))  # a second one in this batch is a copy too
            if e.key() in stored_keys:
                by_key += 1
                continue
            stored_keys.add(e.key())
            fresh.append(e)
        return fresh, by_id, by_key

    def _derive(self, new: list[ev.Event], seqs: dict[int, int]) -> None:
        """Update the facts and sums the KPI queries read, for events stored for the first time."""
        plant = self.plant
        units = sorted({e.unit_code for e in new if getattr(e, "unit_code", None) and not e.CONTROL})  # type: ignore[attr-defined]
        if units:
            current = self._unit_rows(units)
            for e in new:
                code = getattr(e, "unit_code", None)
                if code is not None and not e.CONTROL:
                    merged = r.merge_unit(current.get(code), e, plant)
                    if merged is not None:
                        current[code] = merged
            self._insert(
                "units",
                _UNIT_COLUMNS,
                [row.values() for row in current.values()],
                conflict="(unit_code) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in _UNIT_COLUMNS if c != "unit_code"),
            )
        orders = [e for e in new if isinstance(e, ev.OrderPlaced) and plant.has_line(e.line_id)]
        if orders:
            self._insert(
                "tokens",
                ["token", "unit_code", "line_id"],
                [[e.tracking_token, e.unit_code, e.line_id] for e in orders],
            )
            options = [row for e in orders for row in r.option_rows(e, plant)]
            if options:
                self._insert(
                    "unit_options",
                    ["unit_code", "line_id", "placed_at", "place_day", "option_id", "choice_id"],
                    options,
                )
        facts, hours, defects = r.station_rows(new, plant)
        if facts:
            self._insert(
                "station_facts",
                ["line_id", "station_id", "time", "kind", "ideal_s", "work_s", "duration_s", "passed", "defect_code"],
                facts,
                conflict="",
            )
            additive = ["processed", "ideal_s", "work_s", "setup_s", "checks", "passed"]
            self._insert(
                "station_hour",
                ["line_id", "station_id", "bucket", "day", *additive],
                [[*key, d.processed, d.ideal_s, d.work_s, d.setup_s, d.checks, d.passed] for key, d in hours.items()],
                conflict="(line_id, station_id, bucket) DO UPDATE SET "
                + ", ".join(f"{c} = station_hour.{c} + excluded.{c}" for c in additive),
            )
        if defects:
            self._insert(
                "defect_hour",
                ["line_id", "bucket", "day", "defect_code", "n"],
                [[*key, n] for key, n in defects.items()],
                conflict="(line_id, bucket, defect_code) DO UPDATE SET n = defect_hour.n + excluded.n",
            )
        timeline = [
            row
            for e in new
            if (row := r.timeline_row(e, seqs[id(e)])) is not None and plant.has_line(getattr(e, "line_id", None))
        ]
        if timeline:
            self._insert(
                "timeline",
                ["line_id", "station_id", "machine", "kind", "time", "reason_code", "reason", "down_s", "seq"],
                timeline,
                conflict="",
            )

    def _unit_rows(self, codes: list[str]) -> dict[str, r.UnitRow]:
        out = {}
        for start in range(0, len(codes), 500):
            chunk = codes[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for values in self._query(
                f"SELECT {', '.join(_UNIT_COLUMNS)} FROM units WHERE unit_code IN ({marks})", chunk
            ):
                row = r.UnitRow(**dict(zip(_UNIT_COLUMNS, values)))
                out[row.unit_code] = row
        return out

    def put_checkpoint(self, at: datetime, seq: int, state: str) -> None:
        """Keep a snapshot of the live projection as of ``at`` (the events up to ``seq``)."""
        self._run(
            lambda: self._insert(
                "checkpoints",
                ["time", "seq", "state"],
                [[r.naive(at), seq, state]],
                conflict="(time) DO UPDATE SET seq = excluded.seq, state = excluded.state",
            )
        )

    def put_day_sums(self, rows: list[tuple[str, date, datetime, str]], state: dict[str, str] | None = None) -> None:
        """Keep settled line-days' sums: (line, local day, the day's end, sums as JSON), and named values of theirs.

        Their own tables, never ``meta``: readers keep them while the writer's batch is open.
        """

        def put() -> None:
            if rows:
                self._insert(
                    "day_sums",
                    ["line_id", "day", "day_end", "doc"],
                    [[line_id, day, r.naive(end), doc] for line_id, day, end, doc in rows],
                    conflict="(line_id, day) DO UPDATE SET day_end = excluded.day_end, doc = excluded.doc",
                )
            if state:
                self._insert(
                    "day_sums_state",
                    ["name", "value"],
                    [[k, v] for k, v in state.items()],
                    conflict="(name) DO UPDATE SET value = excluded.value",
                )

        self._run(put)

    def drop_day_sums(self, line_id: str | None = None, ending_after: datetime | None = None) -> None:
        """Forget kept line-days' sums: of a line (or all lines) whose day ends after ``ending_after`` (or all)."""
        where: list[str] = []
        params: list[Any] = []
        if line_id is not None:
            where.append("line_id = ?")
            params.append(line_id)
        if ending_after is not None:
            where.append("day_end > ?")
            params.append(r.naive(ending_after))
        sql = "DELETE FROM day_sums" + (" WHERE " + " AND ".join(where) if where else "")
        self._run(lambda: self._execute(sql, params))

    def set_meta(self, name: str, value: str) -> None:
        """Keep a named value (e.g. where the built-in plant's clock stands)."""
        self._run(
            lambda: self._insert(
                "meta", ["name", "value"], [[name, value]], conflict="(name) DO UPDATE SET value = excluded.value"
            )
        )

    def wipe(self) -> None:
        """Delete every event and everything derived from them (``--reset``)."""

        def wipe() -> None:
            with self._transaction():
                for table in TABLES:
                    self._execute(f"DELETE FROM {table}")
            self._seq = None

        self._run(wipe)

    # --- reading ----------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a read query (``?`` placeholders) and return its rows."""
        return self._run(lambda: self._query(sql, params))

    def meta(self, name: str) -> str | None:
        """Return a value kept with set_meta, or None."""
        found = self.query("SELECT value FROM meta WHERE name = ?", [name])
        return found[0][0] if found else None

    def count(self) -> int:
        """Return how many events are stored."""
        return int(self.query("SELECT count(*) FROM events")[0][0])

    def last_seq(self) -> int:
        """Return the arrival number of the latest stored event (0 when empty)."""
        return int(self.query("SELECT coalesce(max(seq), 0) FROM events")[0][0])

    def last_time(self, line_events_only: bool = False) -> datetime | None:
        """Return the time of the latest stored event (of a line, when asked: not a person's action)."""
        if line_events_only:
            latest = self.query(f"SELECT max(time) FROM events WHERE {_LINE_KINDS_SQL}", LINE_KINDS)
        else:
            latest = self.query("SELECT max(time) FROM events")
        return r.aware(latest[0][0])

    def latest_line_time(self, after_seq: int | None = None, end: datetime | None = None) -> datetime | None:
        """Return the latest time of a stored line event arrived after ``after_seq`` and before ``end``."""
        clauses, params = [_LINE_KINDS_SQL], list[Any](LINE_KINDS)
        if after_seq is not None:
            clauses.append("seq > ?")
            params.append(after_seq)
        if end is not None:
            clauses.append("time < ?")
            params.append(r.naive(end))
        found = self.query(f"SELECT max(time) FROM events WHERE {' AND '.join(clauses)}", params)
        return r.aware(found[0][0]) if found else None

    def first_and_last_time(self) -> tuple[datetime | None, datetime | None]:
        """Return the times of the earliest and the latest stored line event (None, None: none yet)."""
        found = self.query(f"SELECT min(time), max(time) FROM events WHERE {_LINE_KINDS_SQL}", LINE_KINDS)
        return (r.aware(found[0][0]), r.aware(found[0][1])) if found else (None, None)

    def replay(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        line_id: str | None = None,
        kinds: Sequence[str] = (),
        after_seq: int | None = None,
    ) -> list[ev.Event]:
        """Return stored events in time order (same instant: by meaning, then arrival), optionally filtered."""
        return list(self.iter_replay(start, end, line_id, kinds, after_seq))

    def iter_replay(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        line_id: str | None = None,
        kinds: Sequence[str] = (),
        after_seq: int | None = None,
        chunk: int = 50_000,
    ) -> Iterator[ev.Event]:
        """Yield stored events in replay order, a chunk at a time (a month does not sit in memory at once)."""
        clauses, params = ["true"], []  # type: ignore[var-annotated]
        if kinds:
            clauses.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        for column, op, value in (
            ("time", ">=", r.naive(start)),
            ("time", "<", r.naive(end)),
            ("line_id", "=", line_id),
            ("seq", ">", after_seq),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        where = " AND ".join(clauses)
        cursor: tuple | None = None
        while True:
            page_where = where
            page_params = list(params)
            if cursor is not None:
                page_where += f" AND (time, {RANK_SQL}, seq) > (?, ?, ?)"
                page_params += list(cursor)
            rows = self.query(
                f"SELECT doc, time, {RANK_SQL} AS rank, seq FROM events WHERE {page_where} "
                f"ORDER BY time, rank, seq LIMIT {chunk}",
                page_params,
            )
            for doc, *_ in rows:
                yield codec.from_json(doc)
            if len(rows) < chunk:
                return
            cursor = tuple(rows[-1][1:])

    def unit_events(self, unit_code: str) -> list[ev.Event]:
        """Return every event of one unit, in replay order (found by its time span, so it stays cheap)."""
        span = self.query("SELECT first_time, last_time FROM units WHERE unit_code = ?", [unit_code])
        if not span or span[0][0] is None:
            return []
        rows = self.query(
            f"SELECT doc, {RANK_SQL} AS rank FROM events WHERE unit_code = ? AND time >= ? AND time <= ? "
            "ORDER BY time, rank, seq",
            [unit_code, span[0][0], span[0][1]],
        )
        return [codec.from_json(doc) for doc, _ in rows]

    def unit_for_token(self, token: str) -> tuple[str, str] | None:
        """Return (unit code, line) of the order that first claimed this tracking token, or None."""
        found = self.query("SELECT unit_code, line_id FROM tokens WHERE token = ?", [token])
        return (found[0][0], found[0][1]) if found else None

    def unit_order(self, unit_code: str) -> tuple[str | None, str] | None:
        """Return (order id, line) of a unit the history knows (order id None: its order not seen), or None."""
        found = self.query("SELECT order_id, line_id FROM units WHERE unit_code = ?", [unit_code])
        return (found[0][0], found[0][1]) if found else None

    def next_order_numbers(self) -> dict[str, int]:
        """Return, per line, the number after the highest order number stored (1 for a new line)."""
        rows = self.query("SELECT line_id, max(order_number) FROM units GROUP BY line_id")
        return {line: int(number or 0) + 1 for line, number in rows}

    def control_events(self, kinds: Sequence[str] = (), since: datetime | None = None) -> list[ev.Event]:
        """Return the people's actions recorded (all, or of some kinds), oldest first."""
        control = kinds or [c.KIND for c in ev.EVENT_TYPES.values() if c.CONTROL]
        params: list[Any] = list(control)
        where = f"kind IN ({', '.join('?' for _ in control)})"
        if since is not None:
            where += " AND time >= ?"
            params.append(r.naive(since))
        rows = self.query(f"SELECT doc FROM events WHERE {where} ORDER BY seq", params)
        return [codec.from_json(doc) for (doc,) in rows]

    def latest_checkpoint(self, at: datetime | None = None) -> tuple[datetime, int, str] | None:
        """Return (time, seq, state) of the latest checkpoint at or before ``at`` (or at all), or None."""
        # The time first, then that one state: sorting the states themselves (megabytes each, one an
        # hour) ran DuckDB out of its memory limit after three weeks of checkpoints.
        if at is None:
            found = self.query("SELECT time, seq FROM checkpoints ORDER BY time DESC LIMIT 1")
        else:
            found = self.query(
                "SELECT time, seq FROM checkpoints WHERE time <= ? ORDER BY time DESC LIMIT 1", [r.naive(at)]
            )
        if not found:
            return None
        # By the time alone, the primary key: DuckDB then reads one row through its index, where
        # "AND seq = ?" made it scan every state (0.27 s against 0.02-0.07 s over 105 checkpoints).
        state = self.query("SELECT state FROM checkpoints WHERE time = ?", [found[0][0]])
        return (r.aware(found[0][0]), int(found[0][1]), state[0][0]) if state else None

    def stats(self) -> dict[str, Any]:
        """Return what the writer refused and whether writes fail (for /ready)."""
        return {
            "refused_duplicate_ids": self.refused_ids,
            "refused_duplicate_keys": self.refused_keys,
            "writes_failed": self.writes_failed,
            "last_error": self.last_error,
        }
