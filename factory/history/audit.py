"""People's actions as the history recorded them, newest first, a page at a time (the admins' audit log).

The control log is kept whole for years, so the audit is never read whole: each read takes one
page, ordered by time then arrival (``seq``) from the newest, and goes on from the last row it
gave (a keyset, so the thousandth page costs what the first does). Who did something is the
event's ``by``, or for a sign-in its ``user``, or for failed sign-ins an account's count of
tries; they are picked out of the stored documents only when the reader asks for one person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from factory.history import rows as r
from streams import codec
from streams import events as ev

Cursor = tuple[datetime, int]  # (time, seq) of the last row of a page


def audit_events(
    history: Any,
    kinds: Sequence[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    user: str | None = None,
    after: Cursor | None = None,
    limit: int = 100,
) -> tuple[list[ev.Event], Cursor | None]:
    """Return up to ``limit`` control events of ``kinds`` in [start, end), newest first, and the cursor of the
    next page (None: no more)."""
    if not kinds:
        return [], None
    where = [f"kind IN ({', '.join('?' for _ in kinds)})"]
    params: list[Any] = list(kinds)
    for op, value in ((">=", start), ("<", end)):
        if value is not None:
            where.append(f"time {op} ?")
            params.append(r.naive(value))
    if after is not None:
        where.append("(time, seq) < (?, ?)")
        params += [r.naive(after[0]), after[1]]
    if user is None:
        sql = f"SELECT doc, time, seq FROM events WHERE {' AND '.join(where)} ORDER BY time DESC, seq DESC LIMIT ?"
        params.append(limit + 1)
    else:
        paths = [["data", "by"], ["data", "user"]]
        if '"' not in user:  # failed sign-ins count tries per account name (a name with a quote is no account)
            paths.append(["data", "accounts", user])
        picked, pick_params, field = history.json_fields("doc", paths)
        tried = f" OR {field[2]} IS NOT NULL" if len(paths) == 3 else ""
        sql = (
            f"WITH picked AS (SELECT doc, time, seq, {picked} AS f FROM events WHERE {' AND '.join(where)}) "
            f"SELECT doc, time, seq FROM picked WHERE {field[0]} = ? OR {field[1]} = ?{tried} "
            "ORDER BY time DESC, seq DESC LIMIT ?"
        )
        params = [*pick_params, *params, user, user, limit + 1]
    found = history.query(sql, params)
    more = len(found) > limit
    found = found[:limit]
    events = [codec.from_json(doc) for doc, _, _ in found]
    cursor = (r.aware(found[-1][1]), int(found[-1][2])) if more and found else None
    return events, cursor


def session_users(history: Any, session_ids: Sequence[str], since: datetime, until: datetime) -> dict[str, str]:
    """Return whose each session was (session id -> user), from the sign-ins recorded in [since, until]."""
    if not session_ids:
        return {}
    picked, pick_params, field = history.json_fields("doc", [["data", "session_id"], ["data", "user"]])
    sql = (
        f"WITH picked AS (SELECT {picked} AS f FROM events WHERE kind = ? AND time >= ? AND time <= ?) "
        f"SELECT {field[0]}, {field[1]} FROM picked WHERE {field[0]} IN ({', '.join('?' for _ in session_ids)})"
    )
    params = [*pick_params, ev.SessionStarted.KIND, r.naive(since), r.naive(until), *session_ids]
    found = history.query(sql, params)
    return {str(sid): str(user) for sid, user in found}


__all__ = ["Cursor", "audit_events", "session_users"]
