"""What if: a changed line against the baseline, same seeds and demand, intervals over replications.

The default plant's ac1 is limited by vacuum & refrigerant charge (2 machines at 110 s plus
model changeovers: about 57 units an hour, the lowest of its stations, worked out from
factory.yaml as LineModel.capacity_per_s does). With orders at 1.3 times the plant's own rate the
line is saturated, so its throughput shows its capacity: speeding that station up must raise
it, and a slightly slower station with room to spare (kitting, 38 s, about 56 % busy) must not.
"""

from __future__ import annotations

import pytest
import yaml

from line_emulator.whatif import Change, WhatIfError, compare_many, line_doc, measure
from support import ROOT

DOC = yaml.safe_load((ROOT / "factory.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def study():
    speed_up = (Change.parse("vacuum_charge.cycle_s=*0.8"),)
    slow_down = (Change.parse("kitting.cycle_s=*1.05"),)
    return compare_many(DOC, "ac1", [speed_up, slow_down], days=1.5, warmup_days=0.25, replications=5, demand=1.3,
                        jobs=2)  # fmt: skip


def test_speeding_up_the_bottleneck_raises_throughput_and_moves_the_bottleneck(study):
    base, faster = study["baseline"], study["variants"][0]["summary"]
    assert base["bottleneck"] == "vacuum_charge"
    assert faster["throughput_per_day"]["low"] > base["throughput_per_day"]["high"]  # intervals apart
    assert faster["bottleneck"] != "vacuum_charge"
    assert study["variants"][0]["gain"]["low"] > 0
    assert faster["lead_time_h"]["mean"] < base["lead_time_h"]["mean"]


def test_slowing_a_station_with_room_to_spare_leaves_throughput_within_its_interval(study):
    base, slower = study["baseline"], study["variants"][1]["summary"]
    low, high = base["throughput_per_day"]["low"], base["throughput_per_day"]["high"]
    assert low <= slower["throughput_per_day"]["mean"] <= high
    assert slower["bottleneck"] == "vacuum_charge"
    assert slower["utilisation"]["kitting"] > base["utilisation"]["kitting"]  # it did get slower


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vacuum_charge.speed=2", "FIELD one of"),
        ("vacuum_charge", "STATION.FIELD=VALUE"),
        ("vacuum_charge.cycle_s=fast", "is not a number"),
        ("vacuum_charge.cycle_s=nan", "finite"),
    ],
)
def test_a_change_that_cannot_be_read_is_refused_with_the_reason(text, message):
    with pytest.raises(WhatIfError, match=message):
        Change.parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("welding.cycle_s=10", "no station 'welding'"),
        ("vacuum_charge.machines=1.5", "whole machines"),
        ("vacuum_charge.machines=0", "refused"),
        ("vacuum_charge.cycle_s=-5", "refused"),
    ],
)
def test_a_change_the_factory_file_cannot_hold_is_refused(text, message):
    with pytest.raises(WhatIfError, match=message):
        compare_many(DOC, "ac1", [(Change.parse(text),)], days=0.1, warmup_days=0, replications=2)


def test_the_changed_line_is_a_copy_and_stations_without_breakdowns_say_so():
    changed = line_doc(DOC, "ac1", (Change.parse("brazing.mtbf_h=*2"), Change.parse("kitting.machines=2")))
    stations = {s["id"]: s for s in changed["sites"][0]["lines"][0]["stations"]}
    assert stations["brazing"]["breakdown"]["mtbf_h"] == 20 and stations["kitting"]["machines"] == 2
    original = {s["id"]: s for s in DOC["sites"][0]["lines"][0]["stations"]}
    assert original["brazing"]["breakdown"]["mtbf_h"] == 10 and original["kitting"]["machines"] == 1
    assert [line["id"] for site in changed["sites"] for line in site["lines"]] == ["ac1"]
    with pytest.raises(WhatIfError, match="no line"):
        line_doc(DOC, "nope")


def test_measures_worked_by_hand(events, plant):
    """Two units over one hour: U1 enters kitting at 0, done at 10 min; U2 enters at 30, still in at 60."""
    from datetime import timedelta

    from support import T0

    line = plant.line("ac1")
    done = events.completed(10, "U1")
    work = [
        _work_done(events, 5, "U1", "kitting", 300.0),
        _work_done(events, 40, "U2", "kitting", 600.0),
    ]
    stream = [events.entered(0, "U1", "kitting"), work[0], done, events.entered(30, "U2", "kitting"), work[1]]
    found = measure(stream, line, T0, T0 + timedelta(hours=1))
    assert found["throughput_per_day"] == pytest.approx(24.0)  # one unit in one hour
    assert found["lead_time_h"] == pytest.approx(10 / 60)
    assert found["wip"] == pytest.approx((10 + 30) / 60)  # U1 for 10 min, U2 for the last 30
    assert found["utilisation"]["kitting"] == pytest.approx(900 / 3600)  # 1 machine, open all hour (no calendar)
    assert found["bottleneck"] == "kitting"


def _work_done(events, minute, unit, station, work_s):
    from streams import events as ev

    return ev.StationWorkDone(**events._env(minute), unit_code=unit, line_id="ac1", station_id=station,
                              work_s=work_s, ideal_s=work_s)  # fmt: skip
