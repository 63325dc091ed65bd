"""Event <-> CloudEvents 1.0 JSON: the only place that sees dicts and bytes.

Structured-mode CloudEvents: the envelope attributes sit at the top level and the event's own
fields in ``data``. Decoding validates strictly (types, lengths, ranges, no lone surrogates, no
NaN, bounded nesting) and raises :class:`DecodeError` with a reason code, so that ingestion can
dead-letter bad input instead of crashing. Encoding is compiled (orjson) and byte-stable: equal
events give equal bytes.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.events import EVENT_TYPES, Event, Measurement

SPEC_VERSION = "1.0"
MAX_DOCUMENT_BYTES = 64 * 1024  # one event; a real one is under 2 kB
MAX_TEXT = 4096  # characters in one string field
MAX_INT = 2**31 - 1  # visits, machines, ratings: 32-bit in every store
MAX_NUMBER = 1e15  # seconds, measured values: anything larger is not a physical reading
MAX_ITEMS = 64  # options of an order, measurements of a check
MAX_DEPTH = 16  # nesting levels of one event document; a real one has 4
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


class DecodeError(ValueError):
    """Input that is not a valid event; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@functools.lru_cache(maxsize=65536)
def format_time(t: datetime) -> str:
    """Return RFC 3339 UTC with millisecond precision and a ``Z`` suffix (memoised: views repeat times)."""
    if t.utcoffset():
        t = t.astimezone(UTC)
    return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _event_time(t: datetime) -> str:
    """format_time without its memo, for encoding: an event's time is nearly always new, and a
    miss of the memo (2.2 µs) cost more than formatting afresh (1.1 µs)."""
    if t.tzinfo is UTC:  # what the emulator and the decoder make: isoformat ends in "+00:00"
        return t.isoformat(timespec="milliseconds")[:-6] + "Z"
    return format_time(t)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("timestamp has no timezone")
    return t.astimezone(UTC)


def to_dict(event: Event) -> dict[str, Any]:
    """Return the CloudEvents structured representation of ``event``."""
    found = _GETTERS.get(type(event)) or _data_getter(type(event))
    names, values = found
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.TYPE,
        "time": _event_time(event.time),
        "datacontenttype": "application/json",
        "data": dict(zip(names, values(event))),  # as many values as names, by construction
    }


_GETTERS: dict[type[Event], tuple[tuple[str, ...], Callable[[Event], tuple[Any, ...]]]] = {}


def _data_getter(cls: type[Event]) -> tuple[tuple[str, ...], Callable[[Event], tuple[Any, ...]]]:
    """Return the class's data field names and one function that reads all their JSON values.

    Built once per class: reading the fields with one C-level attrgetter and converting only the
    fields that need it (nested measurements) took encoding from 2.5 to 1.8 µs an event measured
    alone; inside the emulator's loop the gain is smaller (docs/benchmarks.md, "Line emulator").
    """
    found = _GETTERS.get(cls)
    if found is not None:
        return found
    names = _data_fields(cls)
    nested = [i for i, n in enumerate(names) if str(cls.__dataclass_fields__[n].type) in _NESTED]
    if not names:

        def values(event: Event) -> tuple[Any, ...]:
            return ()

    elif len(names) == 1:
        one = operator.attrgetter(names[0])

        def values(event: Event) -> tuple[Any, ...]:
            return (_encode(one(event)),)

    elif nested:
        many = operator.attrgetter(*names)

        def values(event: Event) -> tuple[Any, ...]:
            row = list(many(event))
            for i in nested:
                row[i] = _encode(row[i])
            return tuple(row)

    else:
        values = operator.attrgetter(*names)  # type: ignore[assignment]  # a tuple of the fields
    found = _GETTERS[cls] = (names, values)
    return found


_FIELDS: dict[type[Event], tuple[str, ...]] = {}


def _data_fields(cls: type[Event]) -> tuple[str, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:  # computing dataclass fields per event cost a third of encoding
        fields = _FIELDS[cls] = cls.data_fields()
    return fields


# Field annotations whose values orjson cannot write as the schema wants: measurements are
# dataclasses, and orjson would write their keys in field order rather than sorted.
_NESTED = {"tuple[Measurement, ...]"}


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Measurement):
        return {name: getattr(value, name) for name in Measurement.__dataclass_fields__}
    return value


_DUMPS_OPTIONS = orjson.OPT_SORT_KEYS


def to_bytes(event: Event) -> bytes:
    """Return ``event`` as one compact, key-ordered UTF-8 JSON document (byte-stable for equal events)."""
    return orjson.dumps(to_dict(event), option=_DUMPS_OPTIONS)


def to_json(event: Event) -> str:
    """Return ``event`` as one compact, key-ordered JSON line (byte-stable for equal events)."""
    return to_bytes(event).decode()


def from_dict(doc: Any) -> Event:
    """Build the typed event from a CloudEvents dict, or raise DecodeError."""
    if not isinstance(doc, dict):
        raise DecodeError("not_an_object", type(doc).__name__)
    if doc.get("specversion") != SPEC_VERSION:
        raise DecodeError("bad_specversion", repr(doc.get("specversion"))[:100])
    cls = EVENT_TYPES.get(doc.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise DecodeError("unknown_type", repr(doc.get("type"))[:200])
    for key in ("id", "source", "time"):
        value = doc.get(key)
        if not isinstance(value, str) or not value or len(value) > 256:
            raise DecodeError("missing_attribute", f"{key} must be a non-empty string of at most 256 characters")
    try:
        time = parse_time(doc["time"])
    except (ValueError, OverflowError) as exc:
        raise DecodeError("bad_time", str(exc)) from None
    if not EARLIEST <= time < LATEST:
        raise DecodeError("bad_time", f"{doc['time']} is outside {EARLIEST.year}-{LATEST.year}")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise DecodeError("bad_data", "data must be an object")
    unknown = set(data) - set(_data_fields(cls))
    if unknown:
        raise DecodeError("unknown_field", ", ".join(sorted(unknown))[:300])
    values = {}
    for name, value in data.items():
        decode = _decoder(cls, name)
        try:
            values[name] = decode(value)
        except (TypeError, ValueError) as exc:
            raise DecodeError("bad_field_type", f"{name}: {exc}") from None
    try:
        return cls(id=doc["id"], source=doc["source"], time=time, **values)
    except TypeError as exc:
        raise DecodeError("missing_field", str(exc)) from None


def parse_document(text: str | bytes) -> Any:
    """Parse JSON text strictly (no NaN, valid UTF-8, at most MAX_DEPTH levels), or raise DecodeError."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise DecodeError("too_large", f"{len(text)} bytes; an event is at most {MAX_DOCUMENT_BYTES}")
    try:
        doc = orjson.loads(text)  # C, with its own limit of 1,024 levels
    except orjson.JSONDecodeError as exc:
        raise DecodeError("bad_json", str(exc)[:300]) from None
    # A document cannot nest deeper than it has brackets (those in strings only add to the
    # count): a real event has a handful, so the walk below is for the odd one.
    if _brackets(text) > MAX_DEPTH and _deeper_than(doc, MAX_DEPTH):
        raise DecodeError("too_deep", f"JSON nests more than {MAX_DEPTH} levels")
    return doc


def _brackets(text: str | bytes) -> int:
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def _deeper_than(value: Any, limit: int) -> bool:
    """Tell whether parsed JSON nests beyond ``limit`` (an event is 4 deep: it stops early on others)."""
    if isinstance(value, dict):
        return limit <= 0 or any(_deeper_than(v, limit - 1) for v in value.values())
    if isinstance(value, list):
        return limit <= 0 or any(_deeper_than(v, limit - 1) for v in value)
    return False


def from_json(text: str | bytes) -> Event:
    """Parse one JSON document into a typed event, or raise DecodeError."""
    return from_dict(parse_document(text))


# One decoder per field annotation used in streams.events; each checks the JSON type strictly
# (a bool is not a number, an int is a valid float) and returns the field's Python value.
def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("expected a string")
    if len(v) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    return v


def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("expected an integer")
    if not -MAX_INT <= v <= MAX_INT:
        raise ValueError(f"{v} is out of range (at most {MAX_INT:,} either way)")
    return v


def _float(v: Any) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v:
        raise TypeError("expected a finite number")
    if not -MAX_NUMBER <= v <= MAX_NUMBER:
        raise ValueError(f"{v} is out of range")
    return float(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("expected true or false")
    return v


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else decode(v)


def _str_map(v: Any) -> dict[str, str]:
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise TypeError("expected an object of strings")
    if len(v) > MAX_ITEMS:
        raise ValueError(f"more than {MAX_ITEMS} entries")
    return {_str(k): _str(x) for k, x in v.items()}


def _count_map(v: Any) -> dict[str, int]:
    if not isinstance(v, dict) or not all(isinstance(k, str) for k in v):
        raise TypeError("expected an object of counts")
    if len(v) > MAX_ITEMS:
        raise ValueError(f"more than {MAX_ITEMS} entries")
    return {_str(k): _int(x) for k, x in v.items()}


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
    if len(v) > MAX_ITEMS:
        raise ValueError(f"more than {MAX_ITEMS} measurements")
    out = []
    for item in v:
        if not isinstance(item, dict) or set(item) != set(_MEASUREMENT_FIELDS):
            raise TypeError(f"a measurement has exactly {sorted(_MEASUREMENT_FIELDS)}")
        out.append(Measurement(**{k: decode(item[k]) for k, decode in _MEASUREMENT_FIELDS.items()}))
    return tuple(out)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "str | None": _optional(_str),
    "int | None": _optional(_int),
    "bool | None": _optional(_bool),
    "dict[str, str]": _str_map,
    "dict[str, int]": _count_map,
    "tuple[Measurement, ...]": _measurements,
}


def _decoder(cls: type[Event], name: str) -> Callable[[Any], Any]:
    return _DECODERS[str(cls.__dataclass_fields__[name].type)]
