"""The shared history: a PostgreSQL database that the workers of one event stream use at once.

Same tables, same answers as the DuckDB file (tests/test_history_contract.py runs one contract on
both); what differs is here: ``?`` placeholders become psycopg's, a batch of rows goes in as one
``INSERT … SELECT FROM unnest(arrays)`` statement, indexes do what DuckDB's per-block time
ranges do, and a few expressions are spelled in PostgreSQL (``seconds_between``, ``epoch_us``,
``json_fields``).

Several workers may record into one database. Two rules keep every event stored once and every
sum counted once:

- every batch is recorded in one transaction that first takes a transaction-level advisory lock
  (``BATCH_LOCK``), so batches of different processes follow one another: the look-up for copies
  sees every batch committed before, arrival numbers (``seq``) grow in commit order (the kept
  days of factory/history/day_sums.py rely on that), and a unique key on ``(id, source, time)``
  with ``ON CONFLICT DO NOTHING`` is the last guard: only rows really inserted are derived;
- one worker at a time is *the writer* (:meth:`PostgresHistory.is_writer`): it holds a
  session-level advisory lock (``WRITER_LOCK``) on a connection of its own. The others wait; when
  the writer's process or connection ends, the server releases the lock and another worker takes
  over, from the offsets and the latest checkpoint recorded in the database.

Connections: a small pool, one connection per call (autocommit), the writer's batch on one
connection for its transaction. A server that cannot be reached at open is one clear
:class:`HistoryError`; later, a lost server fails the call, and the writer keeps its batch and
retries (factory/history/writer.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import psycopg
from psycopg.adapt import Loader
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.string import StrDumper

from factory.history.store import EVENT_COLUMNS, SCHEMA, History, HistoryError, HistoryUnavailable
from factory.layout import Plant

log = logging.getLogger(__name__)
T = TypeVar("T")

TYPES = {"text": "TEXT", "double": "DOUBLE PRECISION"}
# Advisory lock keys (two 32-bit integers: this product, then what the lock guards).
_PRODUCT = 0x7466  # "tf"
BATCH_LOCK = (_PRODUCT, 1)  # held for one batch's transaction (and while the schema is made)
WRITER_LOCK = (_PRODUCT, 2)  # held by the writer's connection as long as it writes
MAX_IDLE = 8  # connections kept open between calls
CONNECT_TIMEOUT_S = 10

# What the KPI queries read by range, and the look-ups for copies, want an index for (DuckDB's
# per-block time ranges serve them without one). The unique key refuses an event stored twice.
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS events_once ON events (id, source, time)",
    "CREATE INDEX IF NOT EXISTS events_seq ON events (seq)",
    "CREATE INDEX IF NOT EXISTS events_time ON events (time)",
    "CREATE INDEX IF NOT EXISTS events_key ON events (key, time)",
    "CREATE INDEX IF NOT EXISTS events_unit ON events (unit_code, time)",
    "CREATE INDEX IF NOT EXISTS events_kind ON events (kind, time)",
    "CREATE INDEX IF NOT EXISTS units_finished ON units (line_id, finished_at)",
    "CREATE INDEX IF NOT EXISTS units_placed ON units (line_id, placed_at)",
    "CREATE INDEX IF NOT EXISTS units_shipped ON units (line_id, shipped_at)",
    "CREATE INDEX IF NOT EXISTS units_finish_day ON units (line_id, finish_day)",
    "CREATE INDEX IF NOT EXISTS units_place_day ON units (line_id, place_day)",
    "CREATE INDEX IF NOT EXISTS units_ship_day ON units (line_id, ship_day)",
    "CREATE INDEX IF NOT EXISTS unit_options_placed ON unit_options (line_id, placed_at)",
    "CREATE INDEX IF NOT EXISTS station_facts_time ON station_facts (line_id, time)",
    "CREATE INDEX IF NOT EXISTS station_hour_bucket ON station_hour (line_id, bucket)",
    "CREATE INDEX IF NOT EXISTS station_hour_day ON station_hour (line_id, day)",
    "CREATE INDEX IF NOT EXISTS defect_hour_bucket ON defect_hour (line_id, bucket)",
    "CREATE INDEX IF NOT EXISTS defect_hour_day ON defect_hour (line_id, day)",
    "CREATE INDEX IF NOT EXISTS timeline_time ON timeline (line_id, time)",
    "CREATE INDEX IF NOT EXISTS timeline_seq ON timeline (seq)",
]


class _NumberLoader(Loader):
    """``numeric`` (what sum() of integers gives) as int when whole, else float, as DuckDB answers."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if text.lstrip(b"-").isdigit():
            return int(text)
        return float(text)


@functools.lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """Return ``sql`` with ``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` doubled).

    Text inside single quotes, double quotes and comments is left as it is.
    """
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        c = sql[i]
        if quote is not None:
            out.append("%%" if c == "%" else c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "?":
            out.append("%s")
        elif c == "%":
            out.append("%%")
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def describe(url: str) -> str:
    """Return where a PostgreSQL URL points (user@host:port/database), without its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(an invalid URL)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"{user}{host}{port}/{params.get('dbname') or params.get('user') or ''}"


def _text(value: Any) -> str | None:
    """One value as PostgreSQL reads it in a text array (the array is cast to the column's type)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same double
    return str(value)


class ServerAway(HistoryUnavailable, psycopg.OperationalError):
    """A read or write found the server gone twice: still an OperationalError for the writer's retries."""


class PostgresHistory(History):
    dialect = "postgresql"

    def __init__(self, url: str, plant: Plant, run: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        super().__init__(plant, run)
        self.where = describe(url)
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise HistoryError(
                f"not a valid PostgreSQL URL ({reason}): give postgresql://USER@HOST:PORT/DATABASE"
            ) from None
        port = str(params.get("port") or "5432")
        if not all(part.isdigit() and 0 < int(part) < 65536 for part in port.split(",")):
            raise HistoryError(f"not a valid PostgreSQL URL (port {port!r}): give postgresql://USER@HOST:PORT/DATABASE")
        params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
        params.setdefault("application_name", "transparent-factory")
        # A connection whose server (or whose path to it) vanished is noticed within about a minute.
        for name, value in (("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"),
                            ("keepalives_count", "3")):  # fmt: skip
            params.setdefault(name, value)
        self._conninfo = make_conninfo("", **params)
        self._idle: list[psycopg.Connection] = []
        self._pool_lock = threading.Lock()
        self._local = threading.local()
        self._types: dict[str, dict[str, str]] = {}  # table -> column -> type name
        self._writer: psycopg.Connection | None = None
        self._writer_lock = threading.Lock()
        self._closed = False
        try:
            with self._transaction():
                for statement in self._schema():
                    self._execute(statement)
        except psycopg.OperationalError as exc:
            raise HistoryError(f"cannot connect to the PostgreSQL history at {self.where}: {_reason(exc)}") from None
        except psycopg.Error as exc:
            raise HistoryError(f"cannot open the PostgreSQL history at {self.where}: {_reason(exc)}") from None

    def _schema(self) -> list[str]:
        return [statement.format(**TYPES) for statement in SCHEMA] + INDEXES

    # --- connections --------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self._conninfo, autocommit=True)
        conn.adapters.register_dumper(str, StrDumper)  # str as text, so a list of them is a text[]
        conn.adapters.register_loader("numeric", _NumberLoader)
        return conn

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The connection of the transaction under way on this thread, else one from the pool."""
        tx = getattr(self._local, "conn", None)
        if tx is not None:
            yield tx
            return
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except psycopg.OperationalError:
            # A lost connection is not given back, and the idle ones are likely lost too (a
            # restarted server): the next call, or the writer's retry, opens a new one.
            with self._pool_lock:
                idle, self._idle = self._idle, []
            for dead in [conn, *idle]:
                with contextlib.suppress(psycopg.Error):
                    dead.close()
            raise
        finally:
            self._give_back(conn)

    def _give_back(self, conn: psycopg.Connection) -> None:
        with self._pool_lock:
            if not self._closed and not conn.closed and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        with contextlib.suppress(psycopg.Error):
            conn.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._again_if_lost(lambda conn: _fetch(conn.execute(placeholders(sql), list(params))))

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._again_if_lost(lambda conn: conn.execute(placeholders(sql), list(params)))

    def _again_if_lost(self, call: Callable[[psycopg.Connection], T]) -> T:
        """Run ``call`` on a connection; once more on a new one if the pooled one was found dead.

        After a server restart every idle connection is dead, which shows only when it is used:
        the pool is emptied and the call made again, so a query does not fail for a connection
        that was lost while nobody used it. Inside a transaction the error is the batch's (the
        writer retries it whole).
        """
        try:
            with self._connection() as conn:
                return call(conn)
        except psycopg.OperationalError:
            if getattr(self._local, "conn", None) is not None:
                raise
        try:
            with self._connection() as conn:  # the pool was emptied: a new connection
                return call(conn)
        except psycopg.OperationalError as exc:
            raise ServerAway(f"the PostgreSQL history at {self.where} cannot be reached: {_reason(exc)}") from exc

    def _column_types(self, table: str) -> dict[str, str]:
        types = self._types.get(table)
        if types is None:
            rows = self._query(
                "SELECT column_name, udt_name FROM information_schema.columns "
                "WHERE table_name = ? AND table_schema = current_schema()",
                [table],
            )
            types = self._types[table] = dict(rows)
        return types

    def _insert(
        self,
        table: str,
        columns: list[str],
        rows: list[list[Any]],
        conflict: str = "DO NOTHING",
        returning: str | None = None,
    ) -> list[tuple]:
        if not rows:
            return []
        types = self._column_types(table)
        arrays = ", ".join(f"CAST(CAST(? AS text[]) AS {types[c]}[])" for c in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        if conflict:
            sql += f" ON CONFLICT {conflict}"
        if returning:
            sql += f" RETURNING {returning}"
        params = [[_text(row[i]) for row in rows] for i in range(len(columns))]
        if returning:
            return self._query(sql, params)
        self._execute(sql, params)
        return []

    def _insert_events(self, rows: list[list[Any]]) -> set[int]:
        stored = self._insert("events", EVENT_COLUMNS, rows, conflict="(id, source, time) DO NOTHING", returning="seq")
        return {int(seq) for (seq,) in stored}

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            raise RuntimeError("a history transaction is already under way on this thread")
        with self._connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    # Batches of every process that shares the database follow one another.
                    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", BATCH_LOCK)
                    self._seq = None  # another worker may have recorded since: read the last arrival number again
                    yield
            finally:
                self._local.conn = None

    # --- the writer's turn ----------------------------------------------------------------------------
    def is_writer(self) -> bool:
        return bool(self._run(self._claim_writer))

    def _claim_writer(self) -> bool:
        if self._closed:
            return False
        with self._writer_lock:
            conn = self._writer
            if conn is not None:
                try:
                    if conn.execute("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                                    "AND classid = %s AND objid = %s AND granted", WRITER_LOCK).fetchone():  # fmt: skip
                        self.writer_unreachable = None
                        return True
                except psycopg.Error:
                    log.warning("history: the writer's connection to %s is lost", self.where)
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                    self._writer = conn = None
            try:
                if conn is None:
                    conn = self._writer = self._connect()
                (got,) = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", WRITER_LOCK).fetchone() or (False,)
            except psycopg.Error as exc:
                log.debug("history: cannot ask for the writer's turn: %s", exc)
                self.writer_unreachable = f"{type(exc).__name__}: {exc}"[:500]
                if self._writer is not None:
                    with contextlib.suppress(psycopg.Error):
                        self._writer.close()
                self._writer = None
                return False
            self.writer_unreachable = None
            if got:
                log.info("history: this process is the writer of %s", self.where)
            return bool(got)

    # --- dialect --------------------------------------------------------------------------------------
    def seconds_between(self, a: str, b: str) -> str:
        # Upper case on purpose: queries._wip_params finds the order of ``a`` and ``b`` in this text.
        return f"CAST(EXTRACT(EPOCH FROM ({b} - {a})) AS DOUBLE PRECISION)"

    def epoch_us(self, a: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM {a}) * 1000000 AS BIGINT)"

    def json_fields(self, column: str, paths: Sequence[Sequence[str]]) -> tuple[str, list[Any], list[str]]:
        def literal(path: Sequence[str]) -> str:
            keys = ",".join('"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in path)
            return "'{" + keys.replace("'", "''") + "}'"

        return f"CAST({column} AS jsonb)", [], [f"(f #>> {literal(path)})" for path in paths]

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            # The server lets go of a session's locks only once its backend has noticed the
            # client is gone, which can take a moment; a worker stopping on purpose hands the
            # writer's turn over at once instead.
            with contextlib.suppress(psycopg.Error):
                writer.execute("SELECT pg_advisory_unlock_all()")
        for conn in [*idle, *([writer] if writer is not None else [])]:
            with contextlib.suppress(psycopg.Error):
                conn.close()


def _fetch(cursor: psycopg.Cursor) -> list[tuple]:
    return cursor.fetchall() if cursor.description is not None else []


def _reason(exc: BaseException) -> str:
    """The first line of a driver's message (libpq adds hints on further lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
