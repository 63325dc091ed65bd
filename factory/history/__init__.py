"""Every event kept once, with the facts and sums that KPI queries need, behind one interface.

    history = open_history(settings.history_url or data_dir / "history.duckdb", plant)

Two stores answer the same questions the same way: the embedded DuckDB file (the default, one
process per file) and a PostgreSQL database given by a ``postgresql://`` URL, which several
workers and sites share. See :mod:`factory.history.store` for what a store provides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory.history.store import History, HistoryError, HistoryUnavailable, RecordResult
from factory.layout import Plant

POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")


def open_history(
    target: str | Path | None, plant: Plant, run: Callable[[Callable[[], Any]], Any] | None = None
) -> History:
    """Open the history at ``target``: a ``postgresql://`` URL, a DuckDB file, or None / ":memory:" for memory."""
    if isinstance(target, str) and target.startswith(POSTGRESQL_SCHEMES):
        from factory.history.postgres_store import PostgresHistory

        return PostgresHistory(target, plant, run)
    from factory.history.duckdb_store import DuckDBHistory

    return DuckDBHistory(":memory:" if target is None else target, plant, run)


__all__ = ["History", "HistoryError", "HistoryUnavailable", "RecordResult", "open_history"]
