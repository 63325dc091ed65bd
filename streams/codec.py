"""Event <-> CloudEvents 1.0 JSON: the only place that sees dicts and bytes.

Structured-mode CloudEvents: the envelope attributes sit at the top level and the event's own
fields in ``data``. Decoding validates strictly and raises :class:`DecodeError` with a reason code,
so that ingestion can dead-letter bad input instead of crashing.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from streams.events import EVENT_TYPES, Event

SPEC_VERSION = "1.0"


class DecodeError(ValueError):
    """Input that is not a valid event; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def format_time(t: datetime) -> str:
    """Return RFC 3339 UTC with millisecond precision and a ``Z`` suffix."""
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("timestamp has no timezone")
    return t.astimezone(timezone.utc)


def to_dict(event: Event) -> dict[str, Any]:
    """Return the CloudEvents structured representation of ``event``."""
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.TYPE,
        "time": format_time(event.time),
        "datacontenttype": "application/json",
        "data": {name: getattr(event, name) for name in event.data_fields()},
    }


def to_json(event: Event) -> str:
    """Return ``event`` as one compact, key-ordered JSON line (byte-stable for equal events)."""
    return json.dumps(to_dict(event), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def from_dict(doc: Any) -> Event:
    """Build the typed event from a CloudEvents dict, or raise DecodeError."""
    if not isinstance(doc, dict):
        raise DecodeError("not_an_object", type(doc).__name__)
    if doc.get("specversion") != SPEC_VERSION:
        raise DecodeError("bad_specversion", repr(doc.get("specversion")))
    cls = EVENT_TYPES.get(doc.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise DecodeError("unknown_type", repr(doc.get("type")))
    for key in ("id", "source", "time"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise DecodeError("missing_attribute", key)
    try:
        time = parse_time(doc["time"])
    except ValueError as exc:
        raise DecodeError("bad_time", str(exc)) from None
    data = doc.get("data")
    if not isinstance(data, dict):
        raise DecodeError("bad_data", "data must be an object")
    unknown = set(data) - set(cls.data_fields())
    if unknown:
        raise DecodeError("unknown_field", ", ".join(sorted(unknown)))
    try:
        event = cls(id=doc["id"], source=doc["source"], time=time, **data)
    except TypeError as exc:
        raise DecodeError("missing_field", str(exc)) from None
    _check_field_types(event)
    return event


def from_json(text: str | bytes) -> Event:
    """Parse one JSON document into a typed event, or raise DecodeError."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError("bad_json", str(exc)) from None
    return from_dict(doc)


def _check_field_types(event: Event) -> None:
    """Reject values whose JSON type does not match the field's annotation."""
    for name in event.data_fields():
        value = getattr(event, name)
        annotation = event.__dataclass_fields__[name].type
        expected = {"str": str, "int": int, "float": (int, float), "dict[str, str]": dict}.get(str(annotation))
        if expected is None:
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise DecodeError("bad_field_type", f"{name} should be {annotation}")
        if isinstance(value, dict) and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise DecodeError("bad_field_type", f"{name} should map strings to strings")
