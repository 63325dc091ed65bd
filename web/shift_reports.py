"""End-of-shift reports: for every ended shift of every line, a PDF and a CSV in the data directory.

A report is written once, under ``DATA_DIR/reports/<line>/<local date>_<shift>.pdf`` and
``.csv``: an existing file is never rewritten, so a restart, or a second pass over the same
shift, changes nothing. Its figures are the KPI document of the shift's range from the history
(factory.history.queries.kpis), the one the floor, the executive page and ``/api/kpis`` show,
so a report and a screen never disagree.

The pass (:meth:`ShiftReports.run_once`) looks at the shifts that ended within ``catch_up`` of
the latest recorded line event, newest first, and writes at most ``per_pass`` missing reports:
after a long downtime the backlog is caught up over a few passes instead of stalling the start.
A shift is reported ``grace`` after its end (by the latest recorded event or the clock, the
later), so the shift's last events are in the history first. A pass asks the small timeline
table which shifts ended; the events are read only when one is new or a file went missing.
Only the worker whose turn it is to write the history writes reports (``History.is_writer``):
workers sharing a history would race on the same files.
Each file goes to a temporary name in the same directory, then is renamed: a crash leaves no
half-written report behind. A report that cannot be written is logged and tried again at the
next pass; it never stops the others.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF

from factory.history.queries import kpis
from factory.history.rows import aware, naive
from factory.history.store import RANK_SQL, History
from factory.layout import Plant
from streams import events as ev
from web.certificate_pdf import FONT_FACE, _font
from web.csv_safe import csv_text

log = logging.getLogger(__name__)

# A report's file name: the shift's local start date, the shift's name cut down to safe
# characters, the format. Nothing else is ever served from the reports directory.
NAME_PATTERN = re.compile(r"(\d{4}-\d{2}-\d{2})_([A-Za-z0-9_-]{1,40})\.(pdf|csv)")
LINE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
KINDS = ("pdf", "csv")
TOP_REASONS = 5


@dataclass(frozen=True)
class EndedShift:
    line_id: str
    shift: str
    start: datetime
    end: datetime


def safe_shift_name(name: str) -> str:
    """The shift's name as it may appear in a file name (a line's text is not trusted)."""
    return re.sub(r"[^A-Za-z0-9_-]", "", name)[:40] or "shift"


def report_stem(plant: Plant, shift: EndedShift) -> str:
    """Return ``<local date>_<shift>``, the name of a shift's report without its extension."""
    local = shift.start.astimezone(plant.tz_of(shift.line_id))
    return f"{local.date().isoformat()}_{safe_shift_name(shift.shift)}"


def ended_shifts(history: History, since: datetime, until: datetime) -> list[EndedShift]:
    """Return the shifts that began at or after ``since`` and ended by ``until``, oldest first.

    A shift is its start and the next end on its line; a start with no end (the shift still
    runs, or its end was lost) is no shift to report.
    """
    started: dict[str, ev.ShiftStarted] = {}
    out = []
    for e in history.replay(start=since, end=until + timedelta(microseconds=1), kinds=("shift_started", "shift_ended")):
        if not history.plant.has_line(getattr(e, "line_id", None)):
            continue
        if isinstance(e, ev.ShiftStarted):
            started[e.line_id] = e
        elif isinstance(e, ev.ShiftEnded):
            begun = started.pop(e.line_id, None)
            if begun is not None and e.time > begun.time:
                out.append(EndedShift(e.line_id, begun.shift or e.shift, begun.time, e.time))
    return out


_ENDS_SQL = "SELECT line_id, time FROM timeline WHERE kind = 'shift_ended' AND time >= ? AND time <= ?"


def shift_ends(history: History, since: datetime, until: datetime) -> set[tuple[str, datetime]]:
    """Return (line, end) of the shifts that ended in [since, until], from the small timeline table."""
    return {(line_id, aware(t)) for line_id, t in history.query(_ENDS_SQL, [naive(since), naive(until)])}


_DOWN_AT_SQL = f"""
SELECT count(*) FROM (
    SELECT kind, ROW_NUMBER() OVER (PARTITION BY station_id, machine ORDER BY time DESC, {RANK_SQL} DESC, seq DESC)
        AS latest
    FROM timeline WHERE line_id = ? AND kind IN ('machine_down', 'machine_up') AND time < ?
) t WHERE latest = 1 AND kind = 'machine_down'
"""


def machines_down_at(history: History, line_id: str, at: datetime) -> int:
    """Return how many of the line's machines were broken down at ``at`` (their andon alarms still open)."""
    return int(history.query(_DOWN_AT_SQL, [line_id, naive(at)])[0][0] or 0)


def shift_facts(history: History, plant: Plant, shift: EndedShift) -> dict[str, Any]:
    """Return what a shift's report says: where, when, and the shift's KPIs from the history."""
    line = plant.line(shift.line_id)
    site = plant.site_of(line.id)
    tz = plant.tz_of(line.id)
    k = kpis(history, plant, shift.start, shift.end, line_id=line.id)["lines"][line.id]
    return {
        "line": line.id,
        "line_names": dict(line.names),
        "site": site.id,
        "site_names": dict(site.names),
        "shift": shift.shift,
        "timezone": site.timezone,
        "start_local": shift.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "end_local": shift.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
        "kpis": {
            name: k.get(name)
            for name in (
                "oee",
                "availability",
                "performance",
                "quality",
                "units_completed",
                "planned_units",
                "units_scrapped",
                "scrap_ratio",
                "first_pass_yield",
                "planned_busy_time_s",
            )
        },
        "machines_down_at_end": machines_down_at(history, line.id, shift.end),
        "hourly": [
            {"hour": h["hour"], "local": _local_hour(h["hour"], tz), "plan": h["plan"], "actual": h["actual"]}
            for h in k.get("hourly", [])
        ],
        # each reason of the downtime tree with its names, so the PDF reads as the floor does
        "downtime": [
            {**d, "names": {lang: plant.downtime.name(d["key"], lang) for lang in ("en", "zh")}}
            for d in list(k.get("downtime_pareto_s", []))[:TOP_REASONS]
        ],
        "defects": list(k.get("defect_pareto", []))[:TOP_REASONS],
    }


def _local_hour(iso: str, tz) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%H:%M")


def _cell(value: Any) -> Any:
    return "" if value is None else value


def report_csv(facts: dict[str, Any]) -> str:
    """Return the report as CSV: a field/value block, then the hours, the downtime and the defects."""
    rows: list[list[Any]] = [["field", "value"]]
    rows += [
        ["line", facts["line"]],
        ["line_name", facts["line_names"].get("en", facts["line"])],
        ["site", facts["site"]],
        ["site_name", facts["site_names"].get("en", facts["site"])],
        ["shift", facts["shift"]],
        ["timezone", facts["timezone"]],
        ["start_local", facts["start_local"]],
        ["end_local", facts["end_local"]],
        ["start_utc", facts["start"]],
        ["end_utc", facts["end"]],
    ]
    rows += [[name, _cell(value)] for name, value in facts["kpis"].items()]
    rows += [["machines_down_at_end", facts["machines_down_at_end"]]]
    rows += [[], ["hour_local", "plan", "actual"]]
    rows += [[h["local"], h["plan"], h["actual"]] for h in facts["hourly"]]
    rows += [[], ["downtime_reason", "seconds"]]
    rows += [[d["key"], d["value"]] for d in facts["downtime"]]
    rows += [[], ["defect", "count"]]
    rows += [[d["key"], d["value"]] for d in facts["defects"]]
    return csv_text(rows)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def report_pdf(facts: dict[str, Any]) -> bytes:
    """Return the report as a one-page PDF (names in English and Chinese, Noto Sans CJK embedded)."""
    k = facts["kpis"]
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("NotoCJK", fname=str(_font()), collection_font_number=FONT_FACE)
    pdf.add_page()
    pdf.set_font("NotoCJK", size=18)
    pdf.cell(0, 11, "End-of-shift report · 班次报告", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoCJK", size=10)
    names = facts["line_names"]
    sites = facts["site_names"]
    for label, value in (
        ("Line", f"{names.get('en', facts['line'])} · {names.get('zh', '')} ({facts['line']})"),
        ("Site", f"{sites.get('en', facts['site'])} · {sites.get('zh', '')}"),
        ("Shift", facts["shift"]),
        ("Local time", f"{facts['start_local']} – {facts['end_local']} ({facts['timezone']})"),
        ("Machines down at the end", str(facts["machines_down_at_end"])),
    ):
        pdf.cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Effectiveness")
    _table(
        pdf,
        (45, 45, 45, 45),
        ("OEE", "Availability", "Performance", "Quality"),
        [(_pct(k["oee"]), _pct(k["availability"]), _pct(k["performance"]), _pct(k["quality"]))],
    )
    _heading(pdf, "Output")
    _table(
        pdf,
        (45, 45, 45, 45),
        ("Completed", "Plan", "Scrapped", "First-pass yield"),
        [
            (
                _num(k["units_completed"]),
                _num(k["planned_units"], 1),
                _num(k["units_scrapped"]),
                _pct(k["first_pass_yield"]),
            )
        ],
    )
    _heading(pdf, "Hour by hour (local)")
    _table(
        pdf,
        (40, 40, 40),
        ("Hour", "Plan", "Actual"),
        [(h["local"], _num(h["plan"], 1), _num(h["actual"])) for h in facts["hourly"]],
    )
    _heading(pdf, "Top downtime reasons")
    downtime = [(f"{d['names']['en']} · {d['names']['zh']}", _num(d["value"] / 60, 1)) for d in facts["downtime"]]
    _table(pdf, (80, 40), ("Reason", "Minutes"), downtime or [("none", "0")])
    if facts["defects"]:
        _heading(pdf, "Top defects")
        _table(pdf, (80, 40), ("Defect", "Count"), [(d["key"], _num(d["value"])) for d in facts["defects"]])
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("NotoCJK", size=12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoCJK", size=9)


def _table(pdf: FPDF, widths: tuple[float, ...], header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> None:
    for width, title in zip(widths, header):
        pdf.cell(width, 6, title, border=1)
    pdf.ln()
    for row in rows:
        for width, text in zip(widths, row):
            pdf.cell(width, 5.5, str(text)[:40], border=1)
        pdf.ln()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (readers see all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class ShiftReports:
    """Writes the missing reports of ended shifts into ``directory`` (run() in a supervised task)."""

    def __init__(
        self,
        history: History,
        plant: Plant,
        directory: Path,
        per_pass: int = 4,
        catch_up: timedelta = timedelta(days=31),
        grace: timedelta = timedelta(minutes=2),
        is_writer: Callable[[], bool] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.history = history
        self.plant = plant
        self.directory = directory
        self.per_pass = per_pass
        self.catch_up = catch_up
        self.grace = grace
        self.is_writer = is_writer or history.is_writer
        self.now = now
        # (line, end) of the shifts seen complete (or never to be reported), with their files
        self.done: dict[tuple[str, datetime], tuple[Path, ...]] = {}
        self.written = 0
        self.failed = 0
        self.pending = 0  # missing reports left for the next passes
        self.last_error: str | None = None
        self.last_pass: float | None = None
        self.standby = False

    def paths(self, shift: EndedShift) -> dict[str, Path]:
        stem = report_stem(self.plant, shift)
        return {kind: self.directory / shift.line_id / f"{stem}.{kind}" for kind in KINDS}

    def run_once(self) -> int:
        """Write up to ``per_pass`` missing reports, newest shift first; return how many were written."""
        self.last_pass = time.time()
        if not self.is_writer():
            self.standby = True
            return 0
        self.standby = False
        latest = self.history.last_time(line_events_only=True)
        if latest is None:
            return 0
        # A real line that goes quiet after its last shift still gets its report: the wall clock
        # moves on. An emulated plant's events come in order, so its event time suffices.
        until = max(latest, self.now()) - self.grace
        since = latest - self.catch_up
        ends = shift_ends(self.history, since, until)
        if ends <= self.done.keys() and all(p.exists() for end in ends for p in self.done[end]):
            self.pending = 0
            return 0  # the usual pass: nothing ended or went missing since the last (the events table is not read)
        shifts = ended_shifts(self.history, since, until)
        for end in ends - {(shift.line_id, shift.end) for shift in shifts}:
            self.done[end] = ()  # an end without its start in the window: nothing to report
        missing = []
        for shift in reversed(shifts):
            paths = self.paths(shift)
            absent = {kind: path for kind, path in paths.items() if not path.exists()}
            if absent:
                missing.append((shift, absent))
            else:
                self.done[(shift.line_id, shift.end)] = tuple(paths.values())
        written = 0
        for shift, absent in missing[: self.per_pass]:
            try:
                self._write(shift, absent)
            except Exception as exc:  # one report failing must not stop the others; it is retried next pass
                self.failed += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("end-of-shift report of %s %s not written", shift.line_id, shift.start, exc_info=True)
                continue
            written += 1
            self.written += 1
            self.done[(shift.line_id, shift.end)] = tuple(self.paths(shift).values())
        self.pending = len(missing) - written
        if written and self.pending == 0:
            self.last_error = None
        return written

    def _write(self, shift: EndedShift, absent: dict[str, Path]) -> None:
        facts = shift_facts(self.history, self.plant, shift)
        if "csv" in absent:
            write_atomically(absent["csv"], report_csv(facts).encode("utf-8"))
        if "pdf" in absent:
            write_atomically(absent["pdf"], report_pdf(facts))
        log.info("end-of-shift report written: %s", absent[next(iter(absent))].with_suffix(""))

    def run(
        self,
        stop: threading.Event,
        run: Callable[[Callable[[], Any]], Any] = lambda fn: fn(),
        sleep: Callable[[float], None] = time.sleep,
        every_s: float = 60.0,
        backlog_every_s: float = 5.0,
    ) -> None:
        """Run a pass at once and then every ``every_s`` until ``stop`` is set (the pass off the event loop).

        While reports are missing and the last pass wrote some, the next pass comes after
        ``backlog_every_s``: a backlog (a fast emulated plant, a long downtime) is caught up in
        bounded steps with pauses between them.
        """
        while not stop.is_set():
            written = 0
            try:
                written = run(self.run_once)
            except Exception as exc:  # the history away, say: the next pass tries again
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("end-of-shift reports: pass failed", exc_info=True)
            # a pass that wrote nothing (every report failing) waits the whole minute: no hot loop
            waited, pause = 0.0, backlog_every_s if self.pending and written else every_s
            while waited < pause and not stop.is_set():
                sleep(1.0)
                waited += 1.0

    def report(self) -> dict[str, Any]:
        """What /ready says about the reports (told, never failing: a report is retried, nothing is lost)."""
        return {
            "ok": True,
            "written": self.written,
            "failed": self.failed,
            "pending": self.pending,
            "writer": not self.standby,
            "last_error": self.last_error,
        }


def list_reports(directory: Path | None, plant: Plant, lines: Iterable[str]) -> list[dict[str, Any]]:
    """Return the reports of ``lines`` found in ``directory``, newest first (a report: its PDF, CSV or both)."""
    if directory is None:
        return []
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for line_id in lines:
        folder = directory / line_id
        if not plant.has_line(line_id) or not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            match = NAME_PATTERN.fullmatch(entry.name)
            if match is None or not entry.is_file():
                continue
            day, shift, kind = match.groups()
            stem = f"{day}_{shift}"
            item = found.setdefault(
                (line_id, stem),
                {
                    "line": line_id,
                    "line_name": plant.line(line_id).name,
                    "site": plant.line(line_id).site_id,
                    "date": day,
                    "shift": shift,
                    "name": stem,
                    "files": {},
                    "written": 0.0,
                },
            )
            item["files"][kind] = f"/api/reports/{line_id}/{entry.name}"
            item["written"] = max(item["written"], entry.stat().st_mtime)
    items = sorted(found.values(), key=lambda i: (i["date"], i["written"], i["line"]), reverse=True)
    for item in items:
        item["written"] = datetime.fromtimestamp(item["written"], UTC).isoformat(timespec="seconds")
    return items


def report_file(directory: Path | None, plant: Plant, line_id: str, name: str) -> Path | None:
    """Return the path of report ``name`` of a line, or None.

    Only a known line and a report's own name lead to a file: nothing else a client sends is a path.
    """
    if directory is None or not LINE_PATTERN.fullmatch(line_id) or not plant.has_line(line_id):
        return None
    if NAME_PATTERN.fullmatch(name) is None:
        return None
    path = directory / line_id / name
    return path if path.is_file() else None


def reports_directory(data_dir: Path | None) -> Path | None:
    """Where the reports live: ``DATA_DIR/reports`` (None: no data directory, no reports)."""
    return None if data_dir is None else data_dir / "reports"
