"""The audit log: every person's action on the control log as a row of time, who, action, target and details.

Read from the history's control events (factory.history.audit), so it survives restarts and
every worker shows the same rows. A row never holds a password hash or a wall screen's token
digest: a change of password says only that it changed. Customers' feedback is not here: it
is a customer's message, not an account's action (the inbox shows it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import singledispatch
from typing import Any

from factory.history.audit import Cursor, audit_events, session_users
from streams import events as ev
from web.accounts import SESSION_DAYS
from web.csv_safe import csv_text

# What an admin may filter by, in the order the page lists them.
ACTIONS: dict[str, str] = {
    ev.SessionStarted.KIND: "signed in",
    ev.SessionRevoked.KIND: "signed out / session revoked",
    ev.SignInsFailed.KIND: "sign-ins failed",
    ev.AccountCreated.KIND: "account created",
    ev.AccountChanged.KIND: "account changed",
    ev.KioskRegistered.KIND: "wall screen registered",
    ev.KioskRevoked.KIND: "wall screen revoked",
    ev.AlarmAcknowledged.KIND: "alarm acknowledged",
    ev.AlarmShelved.KIND: "alarm shelved",
    ev.AlarmUnshelved.KIND: "alarm unshelved",
    ev.DowntimeClassified.KIND: "downtime classified",
}
COLUMNS = ("time", "who", "action", "target", "details")
PAGE_SIZE = 100
EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None
    end: datetime | None = None
    user: str | None = None
    action: str | None = None  # one of ACTIONS, or None: all

    def kinds(self) -> list[str]:
        return [self.action] if self.action else list(ACTIONS)


def _row(event: ev.Event, who: str, target: str, details: str) -> dict[str, str]:
    time = event.time.isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"time": time, "who": who, "action": event.KIND, "target": target, "details": details}


def _pairs(**values: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items() if v is not None)


def _site(site_id: str | None) -> str:
    return f"site {site_id}" if site_id else "every site"


@singledispatch
def audit_row(event: ev.Event, sessions: dict[str, str] | None = None) -> dict[str, str] | None:
    """Return the audit row of one control event (None: not a person's action)."""
    return None


@audit_row.register
def _(event: ev.SessionStarted, sessions=None):
    return _row(event, event.user, event.user, _pairs(role=event.role, **{"from": event.client}))


@audit_row.register
def _(event: ev.SessionRevoked, sessions=None):
    owner = (sessions or {}).get(event.session_id)
    details = "signed out" if owner is not None and owner == event.by else "session revoked"
    return _row(event, event.by, owner or "", f"{details} (session {event.session_id[:6]}…)")


@audit_row.register
def _(event: ev.SignInsFailed, sessions=None):
    tried = [f"{name} ×{n}" for name, n in event.accounts.items()]
    if event.unknown_names:
        tried.append(f"names of no account ×{event.unknown_names}")
    clients = ", ".join(f"{client} ×{n}" for client, n in event.clients.items())
    return _row(
        event, "", ", ".join(tried), f"{event.failures} failed in the minute from {event.since}; from {clients}"
    )


@audit_row.register
def _(event: ev.AccountCreated, sessions=None):
    return _row(event, event.by, event.user, f"role {event.role}, {_site(event.site_id)}")


@audit_row.register
def _(event: ev.AccountChanged, sessions=None):
    parts = []
    if event.role is not None:
        parts.append(f"role {event.role}")
    if event.site_id is not None:
        parts.append(_site(event.site_id))
    if event.disabled is not None:
        parts.append("disabled" if event.disabled else "enabled")
    if event.password_hash is not None:
        parts.append("password hashed anew at sign-in" if event.keep_sessions else "password changed")
    if event.end_sessions:
        parts.append("signed out everywhere")
    return _row(event, event.by, event.user, ", ".join(parts))


@audit_row.register
def _(event: ev.KioskRegistered, sessions=None):
    where = _pairs(line=event.line_id, site=event.site_id) or "every line"
    return _row(event, event.by, event.label, where)


@audit_row.register
def _(event: ev.KioskRevoked, sessions=None):
    return _row(event, event.by, event.label, "")


@audit_row.register
def _(event: ev.AlarmAcknowledged, sessions=None):
    return _row(event, event.by, event.alarm_id, _pairs(line=event.line_id))


@audit_row.register
def _(event: ev.AlarmShelved, sessions=None):
    target = f"{event.line_id}/{event.station_id} {event.alarm_kind}"
    return _row(event, event.by, target, _pairs(until=event.until, reason=event.reason))


@audit_row.register
def _(event: ev.AlarmUnshelved, sessions=None):
    return _row(event, event.by, f"{event.line_id}/{event.station_id} {event.alarm_kind}", "")


@audit_row.register
def _(event: ev.DowntimeClassified, sessions=None):
    target = f"{event.line_id}/{event.station_id} machine {event.machine} down since {event.down_since}"
    return _row(event, event.by, target, _pairs(reason=event.reason_code, note=event.note or None))


def _rows(history: Any, events: list[ev.Event]) -> list[dict[str, str]]:
    revoked = [e for e in events if isinstance(e, ev.SessionRevoked)]
    sessions: dict[str, str] = {}
    if revoked:
        since = min(e.time for e in revoked) - timedelta(days=SESSION_DAYS + 1)
        until = max(e.time for e in revoked)
        sessions = session_users(history, [e.session_id for e in revoked], since, until)
    return [row for e in events if (row := audit_row(e, sessions)) is not None]


def page(history: Any, filters: Filters, after: Cursor | None = None, limit: int = PAGE_SIZE):
    """Return one page of rows, newest first, and the cursor of the next (None: the last page)."""
    events, cursor = audit_events(
        history, filters.kinds(), start=filters.start, end=filters.end, user=filters.user, after=after, limit=limit
    )
    return _rows(history, events), cursor


def export_csv(history: Any, filters: Filters, run: Any = None) -> Iterator[str]:
    """Yield the CSV of every row the filters select, newest first, a chunk at a time (``run`` moves each
    database read off the event loop)."""
    run = run or (lambda work: work())
    yield csv_text([COLUMNS])
    after: Cursor | None = None
    while True:
        rows, after = run(lambda after=after: page(history, filters, after, EXPORT_CHUNK))
        yield csv_text([row[c] for c in COLUMNS] for row in rows)
        if after is None:
            return


__all__ = ["ACTIONS", "COLUMNS", "Filters", "audit_row", "export_csv", "page"]
