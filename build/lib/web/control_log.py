"""Where the control log lives: the workers' Redis when they share one, else a file in the data directory."""

from __future__ import annotations

from pathlib import Path

from streams.bus import Bus
from streams.file_log import FileBus

CONTROL_STREAM = "tf:control"
CONTROL_FILE = "control.jsonl"


def open_control_log(data_dir: Path | None, redis_url: str | None) -> Bus:
    """Return the control log: a Redis stream kept whole (never trimmed), or ``DATA_DIR/control.jsonl``."""
    if redis_url:
        from streams.redis_streams import RedisStreamsBus

        return RedisStreamsBus(redis_url, stream=CONTROL_STREAM, dead_letters="tf:control-dead-letters", max_len=None)
    if data_dir is None:
        from streams.memory import MemoryBus

        return MemoryBus()
    return FileBus(Path(data_dir) / CONTROL_FILE)
