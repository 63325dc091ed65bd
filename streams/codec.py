"""Event <-> CloudEvents 1.0 JSON: the only place that sees dicts and bytes.

Structured-mode CloudEvents: the envelope attributes sit at the top level and the event's own
fields in ``data``. Decoding validates strictly and raises :class:`DecodeError` with a reason code,
so that ingestion can dead-letter bad input instead of crashing.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from streams.events import EVENT_TYPES, Event, Measurement

SPEC_VERSION = "1.0"


class DecodeError(ValueError):
    """Input that is not a valid event; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def format_time(t: datetime) -> str:
    """Return RFC 3339 UTC with millisecond precision and a ``Z`` suffix."""
    if t.utcoffset():
        t = t.astimezone(UTC)
    return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("timestamp has no timezone")
    return t.astimezone(UTC)


def to_dict(event: Event) -> dict[str, Any]:
    """Return the CloudEvents structured representation of ``event``."""
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.TYPE,
        "time": format_time(event.time),
        "datacontenttype": "application/json",
        "data": {name: _encode(getattr(event, name)) for name in _data_fields(type(event))},
    }


@functools.cache
def _data_fields(cls: type[Event]) -> tuple[str, ...]:
    return cls.data_fields()  # computing dataclass fields per event cost a third of encoding


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Measurement):
        return {name: getattr(value, name) for name in Measurement.__dataclass_fields__}
    return value


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
    values = {}
    for name, value in data.items():
        decode = _DECODERS.get(str(cls.__dataclass_fields__[name].type))
        try:
            values[name] = decode(value)
        except (TypeError, ValueError) as exc:
            raise DecodeError("bad_field_type", f"{name}: {exc}") from None
    try:
        return cls(id=doc["id"], source=doc["source"], time=time, **values)
    except TypeError as exc:
        raise DecodeError("missing_field", str(exc)) from None


def from_json(text: str | bytes) -> Event:
    """Parse one JSON document into a typed event, or raise DecodeError."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError("bad_json", str(exc)) from None
    return from_dict(doc)


# One decoder per field annotation used in streams.events; each checks the JSON type strictly
# (a bool is not a number, an int is a valid float) and returns the field's Python value.
def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("expected a string")
    return v


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("expected an integer")
    return v


def _float(v: Any) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v or v in (float("inf"), float("-inf")):
        raise TypeError("expected a finite number")
    return float(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("expected true or false")
    return v


def _optional(decode):
    return lambda v: None if v is None else decode(v)


def _str_map(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise TypeError("expected an object of strings")
    return dict(v)


_MEASUREMENT_FIELDS = {
    "name": _str,
    "label": _str,
    "unit": _str,
    "value": _float,
    "lower": _optional(_float),
    "upper": _optional(_float),
    "passed": _bool,
}


def _measurements(v: Any) -> tuple[Measurement, ...]:
    if not isinstance(v, list):
        raise TypeError("expected a list of measurements")
    out = []
    for item in v:
        if not isinstance(item, dict) or set(item) != set(_MEASUREMENT_FIELDS):
            raise TypeError(f"a measurement has exactly {sorted(_MEASUREMENT_FIELDS)}")
        out.append(Measurement(**{k: decode(item[k]) for k, decode in _MEASUREMENT_FIELDS.items()}))
    return tuple(out)


_DECODERS = {
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "str | None": _optional(_str),
    "dict[str, str]": _str_map,
    "tuple[Measurement, ...]": _measurements,
}
