"""The alarm journal as the page and the REST API ask for it: whose lines, which range, which rows.

Both go through ``read_journal``, so the page shows what ``GET /api/alarms`` answers. A journal is
rebuilt from history (factory.history.alarm_log) at about 1.4 s per line-day on a 2-core machine
(bench/alarm_journal.py), so a request may cover at most ``MAX_LINE_DAYS`` line-days: a week of
one line, or a day of seven (about 10 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from factory.alarms import ALARM_STATES
from factory.history.alarm_log import line_journal
from factory.layout_schema import PRIORITIES
from web import auth
from web.accounts import Who
from web.csv_safe import csv_text
from web.services import Services

DEFAULT_SPAN = timedelta(hours=24)
MAX_LINE_DAYS = 7
CSV_COLUMNS = (
    "id", "line", "station", "kind", "priority", "reason", "since", "raised", "cleared", "lasted_s",
    "acknowledged", "acknowledged_by", "shelved_by", "shelved_reason", "state",
)  # fmt: skip


class JournalError(ValueError):
    """A request the journal cannot answer; ``status`` and ``reason`` are the HTTP answer's."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Filters:
    station: str | None = None
    priority: str | None = None
    kind: str | None = None

    def keep(self, row: dict[str, Any]) -> bool:
        return all(
            wanted is None or row[field] == wanted
            for field, wanted in (("station", self.station), ("priority", self.priority), ("kind", self.kind))
        )


def visible_lines(svc: Services, who: Who | None, key: bool, line: str | None) -> list[str]:
    """Return the lines asked for that the caller may see (an API key sees all), or raise JournalError."""
    plant = svc.plant
    if line is not None and not plant.has_line(line):
        raise JournalError(400, "unknown_line", f"no line {line!r} here")
    asked = [line] if line is not None else [ln.id for ln in plant.lines]
    if key:
        return asked
    mine = [i for i in asked if auth.may_see_line(who, i, lambda j: plant.line(j).site_id)]
    if line is not None and not mine:
        raise JournalError(403, "forbidden", "your account sees only its own site")
    return mine


def resolve_range(
    svc: Services, start: datetime | None, end: datetime | None, lines: int, span: timedelta = DEFAULT_SPAN
) -> tuple[datetime, datetime]:
    """Return [start, end): by default the ``span`` up to and including the latest recorded event; checked."""
    if end is None:
        latest = svc.run(lambda: svc.history.last_time(line_events_only=True))
        if latest is None:
            raise JournalError(404, "no_data", "no events recorded yet")
        end = latest + timedelta(milliseconds=1)  # the range's end is exclusive: the latest event is in
    if start is None:
        start = end - span
    if not start < end:
        raise JournalError(400, "bad_range", "need from < to")
    if (end - start) * max(lines, 1) > timedelta(days=MAX_LINE_DAYS):
        raise JournalError(
            400, "range_too_long", f"at most {MAX_LINE_DAYS} line-days at once: ask one line, or a shorter range"
        )
    return start, end


def check_filters(svc: Services, lines: list[str], filters: Filters) -> None:
    """Refuse a station no asked line has, or an unknown kind or priority (each a JournalError 400)."""
    if filters.kind is not None and filters.kind not in ALARM_STATES:
        raise JournalError(400, "bad_kind", f"kind is one of {', '.join(ALARM_STATES)}")
    if filters.priority is not None and filters.priority not in PRIORITIES:
        raise JournalError(400, "bad_priority", f"priority is one of {', '.join(PRIORITIES)}")
    stations = {s.id for i in lines for s in svc.plant.line(i).stations}
    if filters.station is not None and filters.station not in stations:
        raise JournalError(400, "unknown_station", f"no station {filters.station!r} on the lines asked")


def read_journal(
    svc: Services, lines: list[str], start: datetime, end: datetime, filters: Filters = Filters()
) -> dict[str, Any]:
    """Return the journal of ``lines`` over [start, end): rows newest first, per-hour counts and floods per line."""
    check_filters(svc, lines, filters)
    per_line = [svc.run(partial(line_journal, svc.history, svc.plant, i, start, end)) for i in lines]
    rows = sorted(
        (row for j in per_line for row in j["alarms"] if filters.keep(row)),
        key=lambda r: (r["raised"], r["id"]),
        reverse=True,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "alarms": rows,
        "per_hour": {j["line"]: j["per_hour"] for j in per_line},
        "floods": {j["line"]: j["floods"] for j in per_line},
        "flood_rule": {
            "more_than": svc.plant.spec.alarms.flood_alarms,
            "window_min": svc.plant.spec.alarms.flood_window_min,
        },
    }


def journal_csv(rows: list[dict[str, Any]]) -> str:
    """Return the rows as CSV (cells that a spreadsheet would run as formulas are defused)."""
    return csv_text([CSV_COLUMNS, *([row[c] for c in CSV_COLUMNS] for row in rows)])
