"""The embedded history: one DuckDB file in the data directory (or memory), no server needed.

One connection per process; every call takes a cursor of its own (DuckDB's cursors are
independent connections to the same database), so readers never wait for each other or for
the writer's batch. A batch is written in one transaction on the writer's cursor. Memory is
capped (``memory_limit``) so a screen that runs for months keeps a flat footprint; DuckDB
spills to disk beyond it.

DuckDB allows one process at a time on a file: a second process (another worker) fails to
open it with a clear error; each worker keeps its own file in its own data directory.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from factory.history.store import EVENTS_TABLE, History, HistoryError
from factory.layout import Plant

log = logging.getLogger(__name__)

TYPES = {"text": "VARCHAR", "double": "DOUBLE"}
MEMORY_LIMIT = "512MB"


class DuckDBHistory(History):
    dialect = "duckdb"

    def __init__(
        self,
        path: str | Path,
        plant: Plant,
        run: Callable[[Callable[[], Any]], Any] | None = None,
        memory_limit: str = MEMORY_LIMIT,
    ) -> None:
        super().__init__(plant, run)
        self.path = str(path)
        self._local = threading.local()
        self._types: dict[str, dict[str, str]] = {}  # table -> column -> DuckDB type
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": memory_limit,
                "threads": "2",
            }
            self._reopening = threading.Lock()
            self._db = duckdb.connect(self.path, config=self._config)
            self._create(TYPES)
            self._drop_event_index()
        except OSError as exc:
            raise HistoryError(f"cannot open the history file {self.path}: {exc.strerror or exc}") from None
        except duckdb.IOException as exc:
            text = str(exc).lower()
            if "lock" in text:
                raise HistoryError(
                    f"the history file {self.path} is in use by another process (one process per "
                    "DuckDB file; each worker keeps its own file in its data directory)"
                ) from None
            if "not a valid duckdb database" in text or "corrupt" in text or "checksum" in text:
                raise HistoryError(
                    f"the history file {self.path} is damaged or not a DuckDB database; move it "
                    "aside and start again, or restore it from a backup"
                ) from None
            if "no space" in text or "disk is full" in text:
                raise HistoryError(f"the disk of the history file {self.path} is full") from None
            raise HistoryError(f"cannot open the history file {self.path}: {exc}") from None
        except duckdb.Error as exc:
            raise HistoryError(
                f"the history file {self.path} is damaged or not a DuckDB database ({exc}); "
                "move it aside and start again, or restore it from a backup"
            ) from None

    def _drop_event_index(self) -> None:
        """Rebuild a file made with a primary key on events (and an ``event_ids`` table) without them, once.

        Such indexes stay in memory (DuckDB's ART_INDEX) and grow with every event (about 90
        bytes a key, two keys an event); DuckDB cannot drop a primary key in place.
        """
        keyed = self._scalar(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'events' AND constraint_type = 'PRIMARY KEY'"
        )
        if not keyed:
            return
        started = time.monotonic()
        cursor = self._db.cursor()
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute("DROP TABLE IF EXISTS events_unkeyed")
            cursor.execute(EVENTS_TABLE.format(name="events_unkeyed", text=TYPES["text"]))
            cursor.execute("INSERT INTO events_unkeyed SELECT * FROM events ORDER BY seq")
            cursor.execute("DROP TABLE events")
            cursor.execute("ALTER TABLE events_unkeyed RENAME TO events")
            cursor.execute("DROP TABLE IF EXISTS event_ids")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        count = self._scalar("SELECT count(*) FROM events")
        log.info("history: rebuilt %d events without their key index in %.1f s", count, time.monotonic() - started)

    def _scalar(self, sql: str) -> Any:
        """Return the first value of a query run on a cursor of its own, its result read to the end.

        A result left open (``fetchone`` on the process's connection) holds a read transaction
        until that connection runs something else, which it never does: DuckDB then never
        checkpoints automatically (other transactions are active), so the write-ahead log and
        every table written since opening stay in memory, ~140 MB a simulated day, until
        ``memory_limit`` is reached ("failed to pin block").
        """
        cursor = self._db.cursor()
        try:
            rows = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
        return rows[0][0] if rows else 0

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        tx = getattr(self._local, "cursor", None)
        return tx if tx is not None else self._db.cursor()

    def _reopen(self, db: duckdb.DuckDBPyConnection, exc: BaseException) -> None:
        """Open the file again after a fatal error, which leaves DuckDB refusing every call until then.

        Seen after 13 simulated days: an out-of-memory error inside a rollback. Committed
        batches are safe in the file; the writer retries the failed one (with its offsets) on
        the new connection, readers get one error. An in-memory history cannot be reopened.
        """
        if self.path == ":memory:":
            return
        with self._reopening:
            if self._db is not db:
                return  # another thread has reopened it already
            log.error("history: DuckDB failed fatally (%s); opening %s again", str(exc)[:300], self.path)
            with contextlib.suppress(duckdb.Error):
                db.close()
            self._db = duckdb.connect(self.path, config=self._config)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        db, cursor = self._db, self._cursor()
        try:
            return cursor.execute(sql, list(params)).fetchall()
        except duckdb.FatalException as exc:
            self._reopen(db, exc)
            raise

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        db, cursor = self._db, self._cursor()
        try:
            cursor.execute(sql, list(params))
        except duckdb.FatalException as exc:
            self._reopen(db, exc)
            raise

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
        cursor = self._cursor()
        types = self._types.get(table)
        if types is None:
            types = self._types[table] = {
                name: kind for name, kind, *_ in cursor.execute(f"DESCRIBE {table}").fetchall()
            }
        incoming = pa.table(
            {c: pa.array([row[i] for row in rows], type=_ARROW.get(types[c])) for i, c in enumerate(columns)}
        )
        name = f"incoming_{table}"
        cursor.register(name, incoming)
        try:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {name}"
            if conflict:
                sql += f" ON CONFLICT {conflict}"
            if returning:
                return cursor.execute(sql + f" RETURNING {returning}").fetchall()
            cursor.execute(sql)
            return []
        finally:
            cursor.unregister(name)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        db = self._db
        cursor = db.cursor()
        self._local.cursor = cursor
        try:
            cursor.execute("BEGIN TRANSACTION")
            yield
            cursor.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                cursor.execute("ROLLBACK")
            if isinstance(exc, duckdb.FatalException):
                self._reopen(db, exc)
            raise
        finally:
            self._local.cursor = None
            cursor.close()

    def seconds_between(self, a: str, b: str) -> str:
        return f"(epoch({b}) - epoch({a}))"

    def epoch_us(self, a: str) -> str:
        return f"epoch_us({a})"

    def json_fields(self, column: str, paths: Sequence[Sequence[str]]) -> tuple[str, list[Any], list[str]]:
        # One json_extract_string with a list of paths parses each document once and gives a list.
        if any('"' in key for path in paths for key in path):
            raise ValueError("a JSON key with a double quote cannot be read from the stored events")
        json_paths = ["$" + "".join(f'."{key}"' for key in path) for path in paths]
        return f"json_extract_string({column}, ?)", [json_paths], [f"f[{i + 1}]" for i in range(len(paths))]

    def close(self) -> None:
        # A query still running on another thread makes close() refuse: interrupt it and retry
        # briefly, rather than leave the process to abort at exit with the file half-closed.
        for _ in range(50):
            try:
                self._db.close()
                return
            except duckdb.Error as exc:
                if "busy" not in str(exc) and "in use" not in str(exc).lower():
                    raise
                self._db.interrupt()
                time.sleep(0.1)
        log.warning("history file still in use at shutdown; its last transaction is in the write-ahead log")


_ARROW = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
}
