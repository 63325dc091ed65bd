from datetime import UTC

import pytest

from streams import codec
from streams import events as ev
from streams.events import EVENT_TYPES
from support import T0

ENV = {"id": "x-1", "source": "/qingdao/ac1", "time": T0}
MEASUREMENTS = (
    ev.Measurement("leak_rate", "Refrigerant leak rate", "g/yr", 3.4, None, 3.0, False),
    ev.Measurement("charge", "Refrigerant charge", "g", 801.0, 776.0, 824.0, True),
)
ONE_OF_EACH = [
    ev.OrderPlaced(
        **ENV,
        order_id="SO-1",
        unit_code="U1",
        tracking_token="t" * 22,
        line_id="ac1",
        product="air_conditioner",
        options={"model": "AS12"},
    ),
    ev.StationEntered(**ENV, unit_code="U1", line_id="ac1", station_id="kitting", visit=2),
    ev.StationWorkDone(**ENV, unit_code="U1", line_id="ac1", station_id="kitting", work_s=41.25, ideal_s=38.0),
    ev.StationExited(**ENV, unit_code="U1", line_id="ac1", station_id="kitting"),
    ev.QualityChecked(
        **ENV,
        unit_code="U1",
        line_id="ac1",
        station_id="leak_test",
        passed=False,
        measurements=MEASUREMENTS,
        defect_code="leak_rate_high",
    ),
    ev.ReworkRouted(
        **ENV,
        unit_code="U1",
        line_id="ac1",
        station_id="leak_test",
        defect_code="leak_rate_high",
        reenter_at="vacuum_charge",
    ),
    ev.UnitScrapped(**ENV, unit_code="U1", line_id="ac1", station_id="leak_test", defect_code="leak_rate_high"),
    ev.UnitCompleted(**ENV, unit_code="U1", line_id="ac1"),
    ev.UnitShipped(
        **ENV,
        unit_code="U1",
        line_id="ac1",
        shipment_id="AC1-T1",
        carrier="RRS Logistics",
        estimated_delivery="2026-03-04",
    ),
    ev.ChangeoverStarted(
        **ENV, line_id="ac1", station_id="vacuum_charge", option="model", from_choice="AS09", to_choice="AS18"
    ),
    ev.ChangeoverFinished(**ENV, line_id="ac1", station_id="vacuum_charge", duration_s=44.5),
    ev.MachineDown(**ENV, line_id="ac1", station_id="brazing", machine=2, reason_code="TORCH", reason="Torch fault"),
    ev.MachineUp(**ENV, line_id="ac1", station_id="brazing", machine=2, reason_code="TORCH", down_s=600.0),
    ev.ShiftStarted(**ENV, line_id="ac1", shift="Early", planned_end="2026-03-02T06:00:00.000Z"),
    ev.ShiftEnded(**ENV, line_id="ac1", shift="Early"),
    ev.PlannedStopStarted(**ENV, line_id="ac1", kind="break", reason="Meal break", planned_s=1800.0),
    ev.PlannedStopEnded(**ENV, line_id="ac1", kind="break"),
    ev.ComponentFitted(
        **ENV,
        unit_code="U1",
        line_id="ac1",
        station_id="brazing",
        component="compressor",
        supplier="Huanghai Compressor",
        batch="HC-2603-0001",
        serial="HC00A1B2C3D4",
    ),
    ev.ConfigurationDrafted(
        **ENV, session_id="s" * 16, product="air_conditioner", options={"model": "AS09"}, ordered=False
    ),
    ev.AlarmAcknowledged(**ENV, alarm_id="ac1/brazing/down/2026-03-02T08:00:00.000Z", line_id="ac1", by="mara"),
    ev.AlarmShelved(
        **ENV,
        line_id="ac1",
        station_id="packing",
        alarm_kind="starved",
        until="2026-03-02T10:00:00.000Z",
        reason="no packaging material",
        by="mara",
    ),
    ev.AlarmUnshelved(**ENV, line_id="ac1", station_id="packing", alarm_kind="starved", by="mara"),
    ev.DowntimeClassified(
        **ENV,
        line_id="ac1",
        station_id="brazing",
        machine=2,
        down_since="2026-03-02T08:00:00.000Z",
        reason_code="GAS",
        note="bottle changed",
        by="mara",
    ),
    ev.DeadLetterResubmitted(
        **ENV,
        dead_letter_id="1772438400000-0",
        event_kind="station_entered",
        event_source="/qingdao/ac1",
        event_id="ac1-000123",
        by="mara",
    ),
    ev.FeedbackGiven(**ENV, unit_code="U1", line_id="ac1", rating=5, comment="quick"),
    ev.AccountCreated(**ENV, user="mara", role="manager", password_hash="$argon2id$x", site_id="zhengzhou", by="cli"),
    ev.AccountChanged(**ENV, user="mara", by="cli", disabled=True),
    ev.KioskRegistered(**ENV, label="Hall A", token_sha256="0" * 64, line_id="ac1", site_id=None, by="cli"),
    ev.KioskRevoked(**ENV, label="Hall A", by="cli"),
    ev.SessionStarted(**ENV, session_id="s1", user="mara", role="manager", client="10.0.0.1"),
    ev.SessionRevoked(**ENV, session_id="s1", by="mara"),
    ev.SignInsFailed(
        **ENV,
        since="2026-03-02T08:00:00.000Z",
        failures=3,
        accounts={"mara": 2},
        unknown_names=1,
        clients={"10.0.0.1": 3},
    ),
]


def test_every_event_type_round_trips():
    assert {type(e) for e in ONE_OF_EACH} == set(EVENT_TYPES.values())
    for event in ONE_OF_EACH:
        assert codec.from_json(codec.to_json(event)) == event


def test_every_event_type_matches_its_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from streams.schema import all_schemas

    schemas = all_schemas()
    for event in ONE_OF_EACH:
        jsonschema.validate(codec.to_dict(event), schemas[event.TYPE])


def test_measurements_are_checked_strictly():
    doc = codec.to_dict(ONE_OF_EACH[4])
    doc["data"]["measurements"][0]["value"] = "3.4"
    with pytest.raises(codec.DecodeError, match="bad_field_type"):
        codec.from_dict(doc)
    doc["data"]["measurements"] = [{"name": "x"}]
    with pytest.raises(codec.DecodeError, match="bad_field_type"):
        codec.from_dict(doc)


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
    assert t.tzinfo == UTC and t.hour == 8


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "bad_json"),
        ('{"specversion": "1.0", "data": ' + '{"a": ' * 20 + "1" + "}" * 21, "too_deep"),
        ("[" * 2000 + "]" * 2000, "bad_json"),  # beyond the parser's own limit
        ("[1, 2]", "not_an_object"),
        ('{"specversion": "0.3"}', "bad_specversion"),
        ('{"specversion": "1.0", "type": "com.example.other"}', "unknown_type"),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s"}',
            "missing_attribute",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "yesterday", "data": {}}',
            "bad_time",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "2026-03-02T08:00:00", "data": {}}',
            "bad_time",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1"}}',
            "missing_field",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U1", "line_id": "ac1", "extra": 1}}',
            "unknown_field",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "1",'
            ' "source": "/s", "time": "2026-03-02T08:00:00Z",'
            ' "data": {"unit_code": "U1", "line_id": "ac1", "station_id": "k", "visit": "1"}}',
            "bad_field_type",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "1",'
            ' "source": "/s", "time": "2026-03-02T08:00:00Z",'
            ' "data": {"unit_code": "U1", "line_id": "ac1", "station_id": "k", "visit": true}}',
            "bad_field_type",
        ),
        (  # NaN is not JSON
            '{"specversion": "1.0", "type": "com.transparentfactory.station.changeover_finished.v1", "id": "1",'
            ' "source": "/s", "time": "2026-03-02T08:00:00Z",'
            ' "data": {"line_id": "ac1", "station_id": "k", "duration_s": NaN}}',
            "bad_json",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.station_entered.v1", "id": "1",'
            ' "source": "/s", "time": "2026-03-02T08:00:00Z",'
            ' "data": {"unit_code": "U1", "line_id": "ac1", "station_id": "k",'
            ' "visit": 1099511627776}}',
            "bad_field_type",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "9999-12-31T23:59:59Z", "data": {"unit_code": "U1", "line_id": "ac1"}}',
            "bad_time",
        ),
        (
            '{"specversion": "1.0", "type": "com.transparentfactory.unit.completed.v1", "id": "1", "source": "/s",'
            ' "time": "2026-03-02T08:00:00Z", "data": {"unit_code": "U\\ud800", "line_id": "ac1"}}',
            "bad_json",
        ),
        ("[" * 5000 + "]" * 5000, "bad_json"),
        ('{"a": "' + "x" * 70_000 + '"}', "too_large"),
    ],
)
def test_invalid_input_names_its_reason(text, reason):
    with pytest.raises(codec.DecodeError) as info:
        codec.from_json(text)
    assert info.value.reason == reason


def test_every_event_names_its_own_key_and_copies_share_it(events):
    a, b = events.entered(1, "U1", "kitting"), events.entered(1, "U1", "kitting")
    assert a.id != b.id and a.key() == b.key()
    assert events.entered(1, "U1", "kitting", visit=2).key() != a.key()
    keys = [e.key() for e in ONE_OF_EACH]
    assert len(set(keys)) == len(keys)
