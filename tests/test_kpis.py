"""KPIs of a full shift whose every figure was worked out by hand (see the comments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factory.kpis import compute
from factory.layout import parse_plant
from streams import events as ev

# Line l1: station A (1 machine, ideal 60 s), station B (1 machine, ideal 30 s, quality gate).
PLANT = parse_plant(
    {
        "site": {"id": "lab"},
        "products": {"p": {}},
        "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}, {"id": "B", "cycle_s": 30}]}],
    }
)
T = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REWORKED, SCRAPPED = {10, 20}, {30, 40}


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def shift_events() -> list[ev.Event]:
    """08:00-16:00, breaks 10:00-10:15 and 12:00-12:30, A down 09:00-09:20, B down 12:20-12:40, 100 units."""
    out: list[ev.Event] = []
    n = 0

    def add(cls, time, **data):
        nonlocal n
        n += 1
        out.append(cls(id=str(n), source="/lab/l1", time=time, line_id="l1", **data))

    add(ev.ShiftStarted, at(0), shift="Day", planned_end=at(28800).isoformat())
    add(ev.PlannedStopStarted, at(7200), kind="break", reason="Tea", planned_s=900.0)
    add(ev.PlannedStopEnded, at(8100), kind="break")
    add(ev.PlannedStopStarted, at(14400), kind="break", reason="Meal", planned_s=1800.0)
    add(ev.PlannedStopEnded, at(16200), kind="break")
    add(ev.MachineDown, at(3600), station_id="A", machine=1, reason_code="MECH", reason="Jam")
    add(ev.MachineUp, at(4800), station_id="A", machine=1, reason_code="MECH", down_s=1200.0)
    add(ev.MachineDown, at(15600), station_id="B", machine=1, reason_code="ELEC", reason="Fault")
    add(ev.MachineUp, at(16800), station_id="B", machine=1, reason_code="ELEC", down_s=1200.0)
    add(ev.ShiftEnded, at(28800), shift="Day")

    def check(unit, t, visit, passed):
        add(ev.StationWorkDone, at(t), unit_code=unit, station_id="B", work_s=30.0, ideal_s=30.0, visit=visit)
        add(
            ev.QualityChecked,
            at(t),
            unit_code=unit,
            station_id="B",
            passed=passed,
            measurements=(),
            defect_code=None if passed else "noise_high",
            visit=visit,
        )

    for i in range(100):
        unit, placed = f"U{i:03d}", 60 + 250 * i
        e = placed + 60  # enters A a minute after the order
        add(
            ev.OrderPlaced,
            at(placed),
            order_id=f"O{i}",
            unit_code=unit,
            tracking_token=f"tok{i:020d}",
            product="p",
            options={"model": "AS09" if i % 2 == 0 else "AS12"},
        )
        add(ev.StationEntered, at(e), unit_code=unit, station_id="A")
        add(ev.StationWorkDone, at(e + 60), unit_code=unit, station_id="A", work_s=60.0, ideal_s=60.0)
        add(ev.StationExited, at(e + 60), unit_code=unit, station_id="A")
        add(ev.StationEntered, at(e + 60), unit_code=unit, station_id="B")
        if i in REWORKED:  # fails once, passes after repair: on the line 900 s
            check(unit, e + 90, 1, False)
            add(ev.ReworkRouted, at(e + 90), unit_code=unit, station_id="B", defect_code="noise_high", reenter_at="B")
            check(unit, e + 630, 2, True)
            add(ev.UnitCompleted, at(e + 900), unit_code=unit)
        elif i in SCRAPPED:  # fails three times: on the line 1,200 s
            for visit, t in ((1, 90), (2, 430), (3, 830)):
                check(unit, e + t, visit, False)
                add(
                    ev.ReworkRouted, at(e + t), unit_code=unit, station_id="B", defect_code="noise_high", reenter_at="B"
                )
            add(ev.UnitScrapped, at(e + 1200), unit_code=unit, station_id="B", defect_code="noise_high")
        else:  # good first time: on the line 150 s
            check(unit, e + 90, 1, True)
            add(ev.UnitCompleted, at(e + 150), unit_code=unit)
    return out


@pytest.fixture(scope="module")
def kpis():
    return compute(shift_events(), PLANT, T, at(28800))["lines"]["l1"]


def test_planned_busy_time_excludes_planned_stops(kpis):
    assert kpis["planned_busy_time_s"] == 28800 - 900 - 1800 == 26100


def test_station_a(kpis):
    a = kpis["stations"]["A"]
    # downtime 1,200 s all inside open time: APT = 26,100 - 1,200 = 24,900
    assert a["unplanned_downtime_s"] == 1200
    assert a["availability"] == pytest.approx(24900 / 26100, abs=1e-6)  # 0.954023
    assert a["performance"] == pytest.approx(100 * 60 / 24900, abs=1e-6)  # 0.240964
    assert a["quality"] == 1.0  # no gate: every processed unit is good here
    assert a["oee"] == pytest.approx(6000 / 26100, abs=1e-6)  # 0.229885
    assert (a["mtbf_s"], a["mttr_s"], a["failures"]) == (24900, 1200, 1)


def test_station_b_counts_downtime_only_outside_planned_stops(kpis):
    b = kpis["stations"]["B"]
    # down 12:20-12:40, meal break until 12:30: 600 s unplanned; APT = 25,500
    assert b["unplanned_downtime_s"] == 600
    assert b["availability"] == pytest.approx(25500 / 26100, abs=1e-6)  # 0.977011
    # checks: 96 good units once, 2 reworked twice, 2 scrapped three times = 106; passed 98
    assert b["units_processed"] == 106
    assert b["performance"] == pytest.approx(106 * 30 / 25500, abs=1e-6)  # 0.124706
    assert b["quality"] == pytest.approx(98 / 106, abs=1e-6)  # 0.924528
    assert b["oee"] == pytest.approx(3180 * 98 / 106 / 26100, abs=1e-6)  # 0.112644


def test_line_oee_aggregates_time_and_quantity(kpis):
    # A = (24,900 + 25,500) / (2 x 26,100); fully productive time = 100 units x 60 s (bottleneck A)
    assert kpis["availability"] == pytest.approx(50400 / 52200, abs=1e-6)  # 0.965517
    assert kpis["performance"] == pytest.approx(6000 / (50400 / 52200 * 26100), abs=1e-6)  # 0.238095
    assert kpis["quality"] == pytest.approx(96 / 100, abs=1e-6)
    assert kpis["oee"] == pytest.approx(6000 * 0.96 / 26100, abs=1e-6)  # 0.220690
    assert kpis["oee"] == pytest.approx(kpis["availability"] * kpis["performance"] * kpis["quality"], abs=2e-6)


def test_output_quality_and_flow(kpis):
    assert (kpis["units_completed"], kpis["units_scrapped"]) == (98, 2)
    assert kpis["throughput_per_hour"] == pytest.approx(98 / 7.25, abs=1e-6)  # 13.517241
    assert kpis["first_pass_yield"] == 0.96
    assert kpis["rework_ratio"] == 0.04  # 2 reworked + 2 scrapped went to the repair bay
    assert kpis["scrap_ratio"] == 0.02
    # unit-seconds on the line: 96 x 150 + 2 x 900 + 2 x 1,200 = 18,600 over 28,800 s
    assert kpis["wip_avg"] == pytest.approx(18600 / 28800, abs=1e-6)  # 0.645833
    # placed -> completed: 96 x 210 s and 2 x 960 s
    assert kpis["lead_time_avg_s"] == pytest.approx((96 * 210 + 2 * 960) / 98, abs=1e-3)  # 225.306
    assert kpis["flow_time_avg_s"] == pytest.approx(18600 / 100, abs=1e-3)  # first entry -> finished
    assert kpis["takt_time_s"] == 261.0  # 26,100 s / 100 orders
    assert kpis["actual_cycle_time_s"] == pytest.approx(26100 / 98, abs=1e-3)  # 266.327


def test_reliability_paretos_and_mix(kpis):
    assert (kpis["failures"], kpis["mtbf_s"], kpis["mttr_s"]) == (2, 25200, 1200)
    assert kpis["downtime_pareto_s"] == [{"key": "MECH", "value": 1200}, {"key": "ELEC", "value": 600}]
    assert kpis["defect_pareto"] == [{"key": "noise_high", "value": 8}]
    assert kpis["option_mix"] == {"model": {"AS09": 50, "AS12": 50}}
    assert kpis["bottleneck"] == "A"


def test_a_sub_range_counts_only_what_happened_in_it():
    # 08:00-10:00: no stop, A down 09:00-09:20 -> PBT 7,200 s, A's APT 6,000 s
    k = compute(shift_events(), PLANT, T, at(7200))["lines"]["l1"]
    assert k["planned_busy_time_s"] == 7200
    assert k["stations"]["A"]["availability"] == pytest.approx(6000 / 7200, abs=1e-6)


def test_empty_range_is_refused():
    with pytest.raises(ValueError, match="empty time range"):
        compute(shift_events(), PLANT, at(100), at(100))


def test_littles_law_holds_on_a_long_emulator_run():
    """Average WIP = throughput x flow time (L = lambda W), within 3 % over two simulated days."""
    import yaml

    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast
    from support import ROOT

    doc = yaml.safe_load((ROOT / "factory.yaml").read_text())
    doc["sites"] = [site for site in doc["sites"] if site["id"] == "zhengzhou"]
    plant = parse_plant(doc)
    out: list[ev.Event] = []
    run_fast(PlantModel(plant, out.append, T, seed=4), 2 * 86400)
    start, end = at(6 * 3600), at(2 * 86400)  # skip the filling of an empty line
    k = compute(out, plant, start, end)["lines"]["ac1"]
    finished = k["units_completed"] + k["units_scrapped"]
    little = finished / (end - start).total_seconds() * k["flow_time_avg_s"]
    assert finished > 1000
    assert k["wip_avg"] == pytest.approx(little, rel=0.03)


def test_hourly_plan_follows_open_time_and_actual_counts_completions(kpis):
    hourly = {h["hour"][11:16]: h for h in kpis["hourly"]}
    assert kpis["planned_cycle_s"] == 60  # bottleneck A: 60 s on one machine
    assert [hourly[h]["plan"] for h in ("08:00", "10:00", "12:00", "15:00")] == [60, 45, 30, 60]  # 15 and 30 min breaks
    # completions at 270 + 250 i s (good) and 1,020 + 250 i s (reworked i = 10): before 09:00, i = 0..13
    assert hourly["08:00"]["actual"] == 14
    assert sum(h["actual"] for h in kpis["hourly"]) == 98 and len(kpis["hourly"]) == 8


def test_on_time_delivery_compares_plant_local_dates():
    plant = parse_plant(
        {
            "site": {"id": "lab", "utc_offset_h": 8},
            "products": {"p": {}},
            "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]}],
        }
    )
    out, n = [], 0

    def add(cls, time, **data):
        nonlocal n
        n += 1
        out.append(cls(id=str(n), source="/lab/l1", time=time, line_id="l1", **data))

    # (promised local date, shipped UTC) -> on time?
    cases = [
        ("2026-03-03", "2026-03-02T10:00:00+00:00"),  # 18:00 local on the 2nd: early
        ("2026-03-02", "2026-03-02T15:59:00+00:00"),  # 23:59 local on the 2nd: on the day
        ("2026-03-02", "2026-03-02T16:00:00+00:00"),  # 00:00 local on the 3rd: a day late
        ("2026-03-05", "2026-03-04T20:00:00+00:00"),
    ]  # 04:00 local on the 5th: on the day
    for i, (promised, shipped) in enumerate(cases):
        add(
            ev.OrderPlaced,
            T,
            order_id=f"O{i}",
            unit_code=f"U{i}",
            tracking_token=f"tok{i:020d}",
            product="p",
            promised_by=promised,
        )
        add(
            ev.UnitShipped,
            datetime.fromisoformat(shipped),
            unit_code=f"U{i}",
            shipment_id="S",
            carrier="RRS",
            estimated_delivery=promised,
        )
    k = compute(out, plant, T, T + timedelta(days=4))["lines"]["l1"]
    assert k["on_time_delivery"] == 0.75
