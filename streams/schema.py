"""JSON Schema (draft 2020-12) of every event type, derived from the classes in streams.events.

Derived rather than written by hand so the documentation cannot drift from the code; the
tests validate the emulator's output against it.
"""

from __future__ import annotations

import json
from dataclasses import MISSING
from typing import Any

from streams.events import EVENT_TYPES, Event

_NUMBER_OR_NULL = {"type": ["number", "null"]}
MEASUREMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "label", "unit", "value", "lower", "upper", "passed"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "unit": {"type": "string"},
        "value": {"type": "number"},
        "lower": _NUMBER_OR_NULL,
        "upper": _NUMBER_OR_NULL,
        "passed": {"type": "boolean"},
    },
}
FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "str | None": {"type": ["string", "null"]},
    "int | None": {"type": ["integer", "null"]},
    "bool | None": {"type": ["boolean", "null"]},
    "dict[str, str]": {"type": "object", "additionalProperties": {"type": "string"}},
    "dict[str, int]": {"type": "object", "additionalProperties": {"type": "integer"}},
    "tuple[Measurement, ...]": {"type": "array", "items": MEASUREMENT_SCHEMA},
}


def event_schema(cls: type[Event]) -> dict[str, Any]:
    """Return the JSON Schema of one event type's CloudEvents document."""
    fields = cls.__dataclass_fields__
    data_props = {name: FIELD_SCHEMAS[str(fields[name].type)] for name in cls.data_fields()}
    required = [
        name
        for name in cls.data_fields()
        if fields[name].default is MISSING and fields[name].default_factory is MISSING
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": cls.__name__,
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1},
            "type": {"const": cls.TYPE},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "data": {"type": "object", "additionalProperties": False, "required": required, "properties": data_props},
        },
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """Return the schema of every event type, keyed by CloudEvents type."""
    return {type_: event_schema(cls) for type_, cls in EVENT_TYPES.items()}


if __name__ == "__main__":
    print(json.dumps(all_schemas(), indent=2))
