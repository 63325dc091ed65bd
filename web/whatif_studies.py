"""What-if studies started from the executive view: run in the background, progress shown, results kept.

A study is one ``line_emulator.whatif.compare`` of a changed line against its baseline. It runs
in a thread of the web worker that started it, and its replications in spawned processes, so
the worker's own interpreter only waits. Each study is one JSON document, kept where the
workers share state: in Redis (hash ``tf:whatif:studies``) when there is one, else one file in
``<data_dir>/whatif`` (written whole, then renamed). So every worker lists the same studies,
and a restart keeps them. A worker that dies mid-study leaves a study whose heartbeat stops:
it is shown as interrupted, never as running for ever. One study runs at a time (the
machine's cores are the live screens' too); a second is refused with the reason. Two workers
asked at the same instant could each start one: the check is not a lock, and the cost of that
rare case is one more study running.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from line_emulator.whatif import Change, WhatIfError, compare

# Bounds of a study asked for from a page: enough for a sound answer, not a day of CPU.
MAX_CHANGES = 5
DAYS = (0.25, 7.0)
REPLICATIONS = (2, 10)
DEMAND = (0.2, 3.0)
STALE_S = 120.0  # a running study's heartbeat older than this: its worker is gone
KEPT = 50  # studies listed; older ones stay stored


class StudyRefused(ValueError):
    """A study that cannot be started: bad input, or another one is running."""


@dataclass(frozen=True)
class Request:
    line_id: str
    changes: tuple[str, ...]
    days: float = 1.0
    replications: int = 5
    demand: float = 1.0

    @classmethod
    def parse(cls, line_id: Any, changes: Any, days: Any, replications: Any, demand: Any) -> Request:
        """Check what a page sent (anything may arrive), or raise StudyRefused with the reason."""
        if not isinstance(line_id, str) or not line_id:
            raise StudyRefused("pick a line")
        texts = [t.strip() for t in str(changes or "").replace(";", "\n").replace(",", "\n").splitlines() if t.strip()]
        if not texts:
            raise StudyRefused("write at least one change, e.g. vacuum_charge.cycle_s=*0.8")
        if len(texts) > MAX_CHANGES:
            raise StudyRefused(f"at most {MAX_CHANGES} changes in one study")
        try:
            for text in texts:
                Change.parse(text)
        except WhatIfError as exc:
            raise StudyRefused(str(exc)) from None
        return cls(
            line_id,
            tuple(texts),
            _number(days, "days", *DAYS),
            int(_number(replications, "replications", *REPLICATIONS, whole=True)),
            _number(demand, "demand", *DEMAND),
        )


def _number(value: Any, name: str, low: float, high: float, whole: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StudyRefused(f"{name} must be a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise StudyRefused(f"{name} must be between {low:g} and {high:g}")
    if whole and number != int(number):
        raise StudyRefused(f"{name} must be a whole number")
    return number


class FileStore:
    """Studies as files of one folder (no Redis): the workers on one data directory share them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, study: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{study['id']}.json"
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(study, allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one

    def read(self, study_id: str) -> str | None:
        try:
            return (self.folder / f"{study_id}.json").read_text(encoding="utf-8")
        except OSError:
            return None

    def ids(self) -> list[str]:
        return [p.stem for p in self.folder.glob("*.json")] if self.folder.is_dir() else []


class RedisStore:
    """Studies in one Redis hash: every worker on that Redis shares them."""

    KEY = "tf:whatif:studies"

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, study: dict[str, Any]) -> None:
        self.client.hset(self.KEY, study["id"], json.dumps(study, allow_nan=False))

    def read(self, study_id: str) -> str | None:
        found = self.client.hget(self.KEY, study_id)
        return found.decode() if isinstance(found, bytes) else found

    def ids(self) -> list[str]:
        return [k.decode() if isinstance(k, bytes) else k for k in self.client.hkeys(self.KEY)]


class Studies:
    """The studies of a store: start one, read any."""

    def __init__(
        self, store: FileStore | RedisStore, config: Path, jobs: int = 2, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self.jobs = jobs
        self.clock = clock
        self._lock = threading.Lock()

    def start(self, request: Request, who: str, seed: int = 1) -> str:
        """Check the request against the factory file, then run it in the background; return its id."""
        doc = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        lines = [ln["id"] for site in doc["sites"] for ln in site["lines"]]
        if request.line_id not in lines:
            raise StudyRefused(f"no line {request.line_id!r}")
        changes = tuple(Change.parse(t) for t in request.changes)
        with self._lock:
            running = [s for s in self.list() if s["status"] == "running"]
            if running:
                raise StudyRefused(f"study {running[0]['id']} is still running; try again when it is done")
            study_id = f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime(self.clock()))}-{secrets.token_hex(3)}"
            study = {
                "id": study_id,
                "status": "running",
                "by": who,
                "started": self.clock(),
                "heartbeat": self.clock(),
                "request": {
                    "line": request.line_id,
                    "changes": list(request.changes),
                    "days": request.days,
                    "replications": request.replications,
                    "demand": request.demand,
                    "seed": seed,
                },
                "done": 0,
                "total": 2 * request.replications,
            }
            self._write(study)
        thread = threading.Thread(target=self._run, args=(study, doc, changes), name=f"whatif-{study_id}", daemon=True)
        thread.start()
        return study_id

    def _run(self, study: dict[str, Any], doc: dict[str, Any], changes: tuple[Change, ...]) -> None:
        req = study["request"]

        def progress(done: int, total: int) -> None:
            study.update(done=done, total=total, heartbeat=self.clock())
            self._write(study)

        # A heartbeat while the first replications run: each may take longer than STALE_S.
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(STALE_S / 4):
                study["heartbeat"] = self.clock()
                self._write(study)

        beater = threading.Thread(target=beat, daemon=True)
        beater.start()
        try:
            result = compare(
                doc,
                req["line"],
                changes,
                days=req["days"],
                warmup_days=min(0.5, req["days"] / 2),
                replications=req["replications"],
                demand=req["demand"],
                seed=req["seed"],
                jobs=self.jobs,
                progress=progress,
            )
            study.update(status="done", result=_finite(result))
        except WhatIfError as exc:
            study.update(status="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a study's failure is shown on its page, not lost in a thread
            study.update(status="failed", error=f"the study stopped: {type(exc).__name__}: {exc}")
        finally:
            stop.set()
            beater.join()
            study.update(finished=self.clock(), heartbeat=self.clock())
            self._write(study)

    def get(self, study_id: Any) -> dict[str, Any] | None:
        """One study as it stands, or None (an id that is not a study's, or is malformed)."""
        if not isinstance(study_id, str) or not _ID_CHARS.issuperset(study_id) or not 0 < len(study_id) <= 40:
            return None
        text = self.store.read(study_id)
        try:
            study = json.loads(text) if text is not None else None
        except ValueError:
            return None
        if not isinstance(study, dict):
            return None
        if study["status"] == "running" and self.clock() - study["heartbeat"] > STALE_S:
            study["status"] = "interrupted"  # its worker stopped; what it had done is not kept
        return study

    def list(self) -> list[dict[str, Any]]:
        """The latest studies, newest first."""
        names = sorted(self.store.ids(), reverse=True)[:KEPT]
        return [s for s in (self.get(n) for n in names) if s is not None]

    def _write(self, study: dict[str, Any]) -> None:
        self.store.put(study)


_ID_CHARS = frozenset("0123456789abcdef-")


def _finite(value: Any) -> Any:
    """The result with NaN (an interval of equal runs has none) written as None, so it stays JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
