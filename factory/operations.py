"""What people did on the floor, folded from the control log: acknowledgements, shelving, feedback, reasons.

A pure fold like the plant's projection (factory.projector): every worker applies the same
control log and holds the same acknowledgements, shelved alarm points, feedback inbox and
downtime classifications, and a restart rebuilds them from the log.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import singledispatch

from streams import events as ev
from streams.codec import format_time, parse_time

ACKS_KEPT = timedelta(days=7)  # no alarm lasts longer; older acknowledgements are only in history
FEEDBACK_KEPT = 500  # the managers' inbox shows the latest


@dataclass
class Shelf:
    until: datetime
    reason: str
    by: str
    at: datetime


@dataclass
class Feedback:
    unit_code: str
    line_id: str
    rating: int | None
    comment: str
    at: datetime


@dataclass
class Resubmission:
    by: str
    at: datetime
    event: str  # "<kind> <source> <id>" of the fixed event the gate took


@dataclass
class OperationsState:
    acks: dict[str, dict[str, str]] = field(default_factory=dict)  # alarm id -> {by, at}
    shelved: dict[str, Shelf] = field(default_factory=dict)  # "line/station/kind" -> shelf
    feedback: deque[Feedback] = field(default_factory=lambda: deque(maxlen=FEEDBACK_KEPT))
    downtime_reasons: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # stop key -> (code, note, by)
    resubmitted: dict[str, Resubmission] = field(default_factory=dict)  # dead letter id -> its fix


def point(line_id: str, station_id: str, kind: str) -> str:
    """Return the key of an alarm point (a station's alarm of one kind), which shelving applies to."""
    return f"{line_id}/{station_id}/{kind}"


def stop_key(line_id: str, station_id: str, machine: int, down_since: str) -> str:
    """Return the key of one stop (a machine's breakdown by when it began)."""
    return f"{line_id}/{station_id}/{machine}/{down_since}"


def apply_control(state: OperationsState, event: ev.Event) -> OperationsState:
    """Fold one control event into ``state`` and return it (other events change nothing)."""
    _apply(event, state)
    return state


@singledispatch
def _apply(event: ev.Event, state: OperationsState) -> None:
    """Events of other kinds change nothing here."""


@_apply.register
def _(event: ev.AlarmAcknowledged, state: OperationsState) -> None:
    known = state.acks.get(event.alarm_id)
    at = format_time(event.time)
    if known is None or (at, event.by) < (known["at"], known["by"]):  # the first acknowledgement counts
        state.acks[event.alarm_id] = {"by": event.by, "at": at}


@_apply.register
def _(event: ev.AlarmShelved, state: OperationsState) -> None:
    key = point(event.line_id, event.station_id, event.alarm_kind)
    try:
        until = parse_time(event.until)
    except ValueError:
        return
    known = state.shelved.get(key)
    if known is None or event.time >= known.at:
        state.shelved[key] = Shelf(until, event.reason, event.by, event.time)


@_apply.register
def _(event: ev.AlarmUnshelved, state: OperationsState) -> None:
    key = point(event.line_id, event.station_id, event.alarm_kind)
    known = state.shelved.get(key)
    if known is not None and event.time >= known.at:
        del state.shelved[key]


@_apply.register
def _(event: ev.FeedbackGiven, state: OperationsState) -> None:
    state.feedback.append(Feedback(event.unit_code, event.line_id, event.rating, event.comment, event.time))


@_apply.register
def _(event: ev.DowntimeClassified, state: OperationsState) -> None:
    try:  # one instant, one key, however the time was spelled
        since = format_time(parse_time(event.down_since))
    except ValueError:
        return
    key = stop_key(event.line_id, event.station_id, event.machine, since)
    state.downtime_reasons[key] = (event.reason_code, event.note, event.by)  # the latest on the log counts


@_apply.register
def _(event: ev.DeadLetterResubmitted, state: OperationsState) -> None:
    known = state.resubmitted.get(event.dead_letter_id)
    if known is None or (event.time, event.by) < (known.at, known.by):  # the first re-submission counts
        fixed = f"{event.event_kind} {event.event_source} {event.event_id}"
        state.resubmitted[event.dead_letter_id] = Resubmission(event.by, event.time, fixed)


def is_shelved(state: OperationsState, line_id: str, station_id: str, kind: str, now: datetime) -> bool:
    """Tell whether an alarm point is shelved at ``now``."""
    shelf = state.shelved.get(point(line_id, station_id, kind))
    return shelf is not None and shelf.until > now


def forget_old(state: OperationsState, now: datetime) -> None:
    """Drop acknowledgements older than ACKS_KEPT and expired shelving (a screen runs for months)."""
    cutoff = format_time(now - ACKS_KEPT)
    state.acks = {alarm: ack for alarm, ack in state.acks.items() if ack["at"] >= cutoff}
    state.shelved = {key: shelf for key, shelf in state.shelved.items() if shelf.until > now}
