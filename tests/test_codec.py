from datetime import timezone

import pytest

from streams import codec
from streams.events import EVENT_TYPES


def test_every_event_type_round_trips(events):
    samples = [events.placed(0, "U1"), events.entered(1, "U1", "kitting"),
               events.exited(2, "U1", "kitting"), events.completed(3, "U1")]
    assert {type(e) for e in samples} == set(EVENT_TYPES.values())
    for event in samples:
        assert codec.from_json(codec.to_json(event)) == event


def test_envelope_is_cloudevents_1_0(events):
    doc = codec.to_dict(events.entered(1.5, "U1", "kitting"))
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "com.transparentfactory.unit.station_entered.v1"
    assert doc["time"] == "2026-03-02T08:01:30.000Z"
    assert doc["data"] == {"unit_code": "U1", "line_id": "ac1", "station_id": "kitting", "visit": 1}
    assert set(doc) == {"specversion", "id", "source", "type", "time", "datacontenttype", "data"}


def test_json_is_byte_stable(events):
    e = events.placed(0, "U1")
    assert codec.to_json(e) == codec.to_json(codec.from_json(codec.to_json(e)))


def test_time_is_parsed_to_utc():
    t = codec.parse_time("2026-03-02T10:00:00+02:00")
    assert t.tzinfo == timezone.utc and t.hour == 8


@pytest.mark.parametrize("text, reason", [
    ("{not json", "bad_json"),
    ("[1, 2]", "not_an_object"),
    ('{"specversion": "0.3"}', "bad_specversion"),
    ('{"specversion": "1.0", "type": "com.example.other"}', "unknown_type"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s"}',
     "missing_attribute"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
     ' "time": "yesterday", "data": {}}', "bad_time"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
     ' "time": "2026-03-02T08:00:00", "data": {}}', "bad_time"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
     ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1"}}', "missing_field"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
     ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1", "line_id": "ac1", "extra": 1}}', "unknown_field"),
    ('{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "1", "source": "/s",'
     ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1", "line_id": "ac1", "station_id": "k", "visit": "1"}}',
     "bad_field_type"),
])
def test_invalid_input_names_its_reason(text, reason):
    with pytest.raises(codec.DecodeError) as info:
        codec.from_json(text)
    assert info.value.reason == reason
