"""Every event kept once, with the facts and sums that KPI queries need, behind one interface.

    history = open_history(settings.history_url or data_dir / "history.duckdb", plant)

The embedded DuckDB file is the store. A ``postgresql://`` URL (a store shared by several
workers and sites) is refused with a clear error: that backend is not part of this version.
See :mod:`factory.history.store` for what a store provides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory.history.store import History, HistoryError, RecordResult
from factory.layout import Plant


def open_history(
    target: str | Path | None, plant: Plant, run: Callable[[Callable[[], Any]], Any] | None = None
) -> History:
    """Open the history at ``target``: a DuckDB file, or None / ":memory:" for memory."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        raise HistoryError(
            "a PostgreSQL history is not available in this version: keep the history in its DuckDB "
            "file (the default, DATA_DIR/history.duckdb); workers that share Redis each keep one"
        )
    from factory.history.duckdb_store import DuckDBHistory

    return DuckDBHistory(":memory:" if target is None else target, plant, run)


__all__ = ["History", "HistoryError", "RecordResult", "open_history"]
