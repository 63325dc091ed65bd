"""Dead letters for managers: who sees which, one page of them, and re-submitting a fixed one.

Shared by the page (dashboard/pages/dead_letters.py) and the API (web/dead_letters_api.py), so
both decide alike. A letter's line is what its raw text claims: a manager bound to a site sees
the letters whose line is one of that site's; letters with no line this plant knows are for
people bound to no site. A fixed text goes through the ingest gate itself (streams.ingest), so
it is judged as a line's event would be, and it must stay within the person's own scope: a
manager cannot use a fix to speak for another site's line, nor send a person's action (the gate
refuses control events from outside).

A re-submission the gate takes is put on the control log (``DeadLetterResubmitted``), which
every worker folds: the letter shows as re-submitted everywhere and cannot be re-submitted
again. Until this worker's pump has folded its own record, a set in the process bridges the
moment. Two workers taking the same letter in the same second can each pass the fixed event on;
the stream's consumers drop a repeated ``(source, id)`` and the projection's facts are keyed,
so the plant counts it once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factory.operations import Resubmission
from streams import dead_letters as store
from streams import events as ev
from streams.codec import DecodeError, from_json
from streams.dead_letters import DeadLetter
from web import auth
from web.accounts import Who

PAGE_MAX = 200
SCANNED_MAX = 10_000  # letters looked at for one page; a page that stops there says so
RAW_MAX = 65_536  # what the gate keeps of a refused input, and what a fix may be
DETAIL_SHOWN = 500
_lock = threading.Lock()


@dataclass(frozen=True)
class Filters:
    reason: str | None = None
    source: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def match(self, letter: DeadLetter) -> bool:
        return (self.reason is None or letter.reason == self.reason) and (
            self.source is None or letter.source == self.source
        )


def may_see(who: Who | None, letter: DeadLetter, plant: Any) -> bool:
    """Tell whether someone may see one dead letter (and re-submit it)."""
    if who is None or not auth.may(who, "dead_letters"):
        return False
    line = letter.line_id
    if line is None or not plant.has_line(line):
        return who.site_id is None and who.line_id is None
    return auth.may_see_line(who, line, lambda i: plant.line(i).site_id)


def page(svc: Any, who: Who | None, filters: Filters, before: str | None = None, limit: int = 50) -> dict:
    """Return one page of the letters ``who`` may see, newest first, and the cursor of the next one."""
    limit = max(1, min(limit, PAGE_MAX))
    items: list[DeadLetter] = []
    last, complete = None, True
    for scanned, letter in enumerate(store.newest_first(svc.bus, before), 1):
        last = letter.id
        if filters.start is not None and letter.at < filters.start:
            break  # newest first: everything further is older still
        in_range = filters.end is None or letter.at < filters.end
        if in_range and filters.match(letter) and may_see(who, letter, svc.plant):
            if len(items) == limit:
                complete = False
                break
            items.append(letter)
        if scanned >= SCANNED_MAX:
            complete = False
            break
    marks = _marks(svc)
    cursor = None if complete else (items[-1].id if len(items) == limit else last)
    return {"items": [describe(letter, marks.get(letter.id)) for letter in items], "next": cursor}


def describe(letter: DeadLetter, mark: Any = None) -> dict:
    """Return a letter as the API and the page show it: the raw text cut, every text plain data."""
    shown, cut = letter.shown_raw()
    return {
        "id": letter.id,
        "at": letter.at.isoformat(),
        "source": letter.source,
        "reason": letter.reason,
        "message": letter.detail[:DETAIL_SHOWN],
        "line": letter.line_id,
        "raw": shown,
        "raw_truncated": cut,
        "raw_chars": len(letter.raw),
        "resubmitted": None if mark is None else {"by": mark.by, "at": mark.at.isoformat(), "event": mark.event},
    }


def _marks(svc: Any) -> dict[str, Resubmission]:
    with svc.live.lock:
        return {**_taken(svc), **svc.live.operations.resubmitted}


def _taken(svc: Any) -> dict[str, Resubmission]:
    return svc.extras.setdefault("dead_letters_taken", {})


def is_resubmitted(svc: Any, letter_id: str) -> bool:
    """Whether a letter was re-submitted (on any worker, or by this one a moment ago)."""
    return letter_id in _marks(svc)


def find_visible(svc: Any, who: Who | None, letter_id: str) -> DeadLetter | None:
    """Return the letter if it exists and ``who`` may see it (else None: not found and not yours read alike)."""
    letter = store.find(svc.bus, letter_id)
    return letter if letter is not None and may_see(who, letter, svc.plant) else None


@dataclass(frozen=True)
class Outcome:
    status: int  # 200 taken; 400, 403, 404, 409, 413, 422 refused
    reason: str  # "accepted", or the error code
    message: str
    event: str | None = None  # "<kind> <source> <id>" of what entered the stream


def resubmit(svc: Any, who: Who | None, letter_id: str, raw: Any) -> Outcome:
    """Pass a fixed text of a dead letter through the ingest gate; mark the letter if the gate takes it."""
    letter = find_visible(svc, who, letter_id)
    if letter is None or who is None:
        return Outcome(404, "not_found", "no such dead letter, or it is not yours")
    if not isinstance(raw, str) or not raw.strip():
        return Outcome(400, "bad_body", "send {raw: <the fixed event's JSON text>}")
    if len(raw) > RAW_MAX:
        return Outcome(413, "too_large", f"a fixed event holds at most {RAW_MAX:,} characters")
    event = _decoded(raw)
    if event is not None and not _in_scope(who, event, svc.plant):
        return Outcome(403, "forbidden", "the fixed event is about a line outside your site")
    with _lock:  # one re-submission of a letter at a time in this worker
        if is_resubmitted(svc, letter.id):
            return Outcome(409, "already", "this dead letter was re-submitted already")
        result = svc.ingestor.submit(raw, f"resubmit:{who.user}", keep_refused=False)
        if result != "accepted":
            reason = result.partition(":")[2] or result
            return Outcome(422, reason, _refusal_text(reason))
        assert event is not None  # the gate decoded it with the same codec
        fixed = f"{event.KIND} {event.source} {event.id}"
        mark = svc.publish_control(
            ev.DeadLetterResubmitted,
            dead_letter_id=letter.id,
            event_kind=event.KIND,
            event_source=event.source,
            event_id=event.id,
            by=who.user,
        )
        with svc.live.lock:
            _taken(svc)[letter.id] = Resubmission(who.user, mark.time, fixed)
    return Outcome(200, "accepted", "the gate took the fixed event", fixed)


def _decoded(raw: str) -> ev.Event | None:
    try:
        return from_json(raw)
    except DecodeError:
        return None  # the gate refuses it with its reason


def _in_scope(who: Who, event: ev.Event, plant: Any) -> bool:
    line = getattr(event, "line_id", None)
    if not isinstance(line, str) or not plant.has_line(line):
        return who.site_id is None and who.line_id is None
    return auth.may_see_line(who, line, lambda i: plant.line(i).site_id)


def _refusal_text(reason: str) -> str:
    if reason == "duplicate":
        return "an event with this source and id was taken before: give the fixed event a new id"
    return f"refused again by the gate: {reason} (see the reason codes in docs/events.md)"
