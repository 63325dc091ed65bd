"""KPIs at the edges, each worked out by hand; the reference path and the history path agree to 1e-9.

Cases: lines with different run times added into a plant (ISO 22400 weighting: A x P x Q of the
plant's own sums), a range inside a week-long shutdown, a range inside a 3-day breakdown, a shift
change at one instant delivered end-after-start, a product without options, sites at +05:30 and
+05:45, takt time with no planned time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from factory.history import open_history
from factory.history import queries as hq
from factory.kpis import compute
from factory.kpis_cli import kpis as kpis_command
from factory.layout import parse_plant
from streams import codec
from streams import events as ev

T = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def at(hours: float = 0.0, days: int = 0) -> datetime:
    return T + timedelta(days=days, hours=hours)


class Stream:
    """Builds events of one line with increasing ids."""

    def __init__(self, line: str) -> None:
        self.line, self.out, self.n = line, [], 0

    def add(self, cls, time, **data):
        self.n += 1
        self.out.append(
            cls(id=f"{self.line}-{self.n}", source=f"/test/{self.line}", time=time, line_id=self.line, **data)
        )

    def unit(self, code, placed, station, ideal, done, failed_first=False, product="p"):
        self.add(
            ev.OrderPlaced,
            placed,
            order_id=f"O-{code}",
            unit_code=code,
            tracking_token=f"tok-{code:>20}".replace(" ", "x"),
            product=product,
        )
        self.add(ev.StationEntered, placed, unit_code=code, station_id=station)
        self.add(ev.StationWorkDone, done, unit_code=code, station_id=station, work_s=ideal, ideal_s=ideal)
        if failed_first:
            self.add(
                ev.QualityChecked,
                done,
                unit_code=code,
                station_id=station,
                passed=False,
                measurements=(),
                defect_code="noise_high",
            )
            self.add(
                ev.ReworkRouted, done, unit_code=code, station_id=station, defect_code="noise_high", reenter_at=station
            )
            self.add(ev.QualityChecked, done, unit_code=code, station_id=station, passed=True, measurements=(), visit=2)
        self.add(ev.UnitCompleted, done, unit_code=code)


def both(plant, events, start, end, **scope):
    """Return the KPI document by the reference path and by the history path (asserted equal)."""
    reference = compute(events, plant, start, end, **scope)
    history = open_history(None, plant)
    try:
        history.record(events)
        stored = hq.kpis(history, plant, start, end, scope.get("line_id"), scope.get("site_id"))
    finally:
        history.close()
    assert_close(reference, stored)
    return reference


def assert_close(a, b, path=""):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, set(a) ^ set(b))
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None, (path, a, b)
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), (path, a, b)
    else:
        assert a == b, (path, a, b)


# --- a plant of two lines with different run times ---------------------------------------------------
TWO_LINES = parse_plant(
    {
        "site": {"id": "s"},
        "products": {"p": {}},
        "lines": [
            {"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]},
            {"id": "l2", "product": "p", "stations": [{"id": "B", "cycle_s": 60, "machines": 2}]},
        ],
    }
)


def two_lines() -> list[ev.Event]:
    """l1: open 00:00-08:00, 200 good units of 60 s ideal. l2: open 00:00-04:00, B's machine 1 down 01:00-02:00,
    300 units of 60 s ideal on 2 machines (bottleneck share 30 s), the first 30 of them failed once."""
    one, two = Stream("l1"), Stream("l2")
    one.add(ev.ShiftStarted, at(0), shift="D", planned_end="")
    one.add(ev.ShiftEnded, at(8), shift="D")
    for i in range(200):
        one.unit(f"A{i:03d}", at(i * 0.04), "A", 60.0, at(i * 0.04 + 0.01))
    two.add(ev.ShiftStarted, at(0), shift="D", planned_end="")
    two.add(ev.ShiftEnded, at(4), shift="D")
    two.add(ev.MachineDown, at(1), station_id="B", machine=1, reason_code="MECH", reason="jam")
    two.add(ev.MachineUp, at(2), station_id="B", machine=1, reason_code="MECH", down_s=3600.0)
    for i in range(300):
        two.unit(f"B{i:03d}", at(i * 0.013), "B", 60.0, at(i * 0.013 + 0.01), failed_first=i < 30)
    return one.out + two.out


def test_a_plant_of_lines_is_weighted_by_time_and_quantity():
    doc = both(TWO_LINES, two_lines(), at(0), at(8))
    l1, l2, plant = doc["lines"]["l1"], doc["lines"]["l2"], doc["enterprise"]
    # l1: A = 1, P = 200 x 60 / 28,800, Q = 1
    assert l1["availability"] == 1 and l1["performance"] == pytest.approx(12000 / 28800, abs=1e-12)
    # l2: station PBT 2 x 14,400 = 28,800 machine-s, 3,600 down: A = 0.875, line APT = 0.875 x 14,400 = 12,600
    assert l2["availability"] == pytest.approx(0.875, abs=1e-12)
    assert l2["performance"] == pytest.approx(9000 / 12600, abs=1e-12)  # 300 units x 30 s
    assert l2["quality"] == pytest.approx(0.9, abs=1e-12) and l2["oee"] == pytest.approx(0.5625, abs=1e-12)
    # the plant: PBT 28,800 + 14,400; APT 28,800 + 12,600; FPT 12,000 + 9,000; Q = 470 / 500
    assert plant["availability"] == pytest.approx(41400 / 43200, abs=1e-12)  # not the machine-time 0.9375
    assert plant["performance"] == pytest.approx(21000 / 41400, abs=1e-12)
    assert plant["quality"] == pytest.approx(0.94, abs=1e-12)
    assert plant["oee"] == pytest.approx(21000 * 0.94 / 43200, abs=1e-12)  # 0.456944, not the mean 0.4896
    assert plant["oee"] == pytest.approx(plant["availability"] * plant["performance"] * plant["quality"], abs=1e-12)
    assert doc["sites"]["s"] == plant
    assert set(plant["stations"]) == {"l1/A", "l2/B"}  # stations of different lines never merge


# --- long states that began before the range ----------------------------------------------------------
ONE_LINE = parse_plant(
    {
        "site": {"id": "s"},
        "products": {"p": {}},
        "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]}],
    }
)


def test_a_range_inside_a_week_long_shutdown_has_no_planned_time():
    s = Stream("l1")
    s.add(ev.ShiftStarted, at(8), shift="D", planned_end="")
    s.add(ev.ShiftEnded, at(16), shift="D")  # then nothing until a week later
    s.add(ev.ShiftStarted, at(8, days=7), shift="D", planned_end="")
    s.unit("U1", at(1, days=3), "A", 60.0, at(2, days=3))  # an order placed during the shutdown
    inside = both(ONE_LINE, s.out, at(0, days=3), at(12, days=3))["lines"]["l1"]
    assert inside["planned_busy_time_s"] == 0 and inside["availability"] is None and inside["oee"] is None
    assert inside["orders_placed"] == 1 and inside["takt_time_s"] is None and inside["actual_cycle_time_s"] is None
    reopening = both(ONE_LINE, s.out, at(0, days=6), at(12, days=7))["lines"]["l1"]
    assert reopening["planned_busy_time_s"] == 4 * 3600  # 08:00-12:00 on the seventh day


def test_a_range_inside_a_three_day_breakdown_is_all_downtime():
    s = Stream("l1")  # no calendar at all: always scheduled
    s.add(ev.MachineDown, at(10), station_id="A", machine=1, reason_code="MECH", reason="jam")
    s.add(ev.MachineUp, at(10, days=3), station_id="A", machine=1, reason_code="MECH", down_s=3 * 86400.0)
    k = both(ONE_LINE, s.out, at(0, days=2), at(12, days=2))["lines"]["l1"]
    assert k["planned_busy_time_s"] == 43200 and k["unplanned_downtime_s"] == 43200
    assert k["availability"] == 0 and k["oee"] == 0
    assert k["failures"] == 0 and k["mttr_s"] is None  # it began before the range
    assert k["downtime_pareto_s"] == [{"key": "MECH", "value": 43200}]


def test_a_shift_change_at_one_instant_leaves_no_gap_in_any_arrival_order():
    s = Stream("l1")
    s.add(ev.ShiftStarted, at(6), shift="Early", planned_end="")
    s.add(ev.ShiftStarted, at(14), shift="Late", planned_end="")  # arrives before the end of Early
    s.add(ev.ShiftEnded, at(14), shift="Early")
    k = both(ONE_LINE, s.out, at(13), at(15))["lines"]["l1"]
    assert k["planned_busy_time_s"] == 7200


def test_orders_of_a_product_without_options_are_counted_as_placed():
    s = Stream("l1")
    for i in range(3):
        s.unit(f"U{i}", at(1 + i), "A", 60.0, at(1.5 + i))
    k = both(ONE_LINE, s.out, at(0), at(8))["lines"]["l1"]
    assert k["orders_placed"] == 3 and k["option_mix"] == {}


# --- sites whose hours do not start on the UTC hour ---------------------------------------------------
@pytest.mark.parametrize("offset_h, first_bucket", [(5.5, "09:30"), (5.75, "09:15")])
def test_hour_buckets_follow_the_sites_own_hours(offset_h, first_bucket):
    plant = parse_plant(
        {
            "site": {"id": "s", "utc_offset_h": offset_h},
            "products": {"p": {}},
            "lines": [{"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]}],
        }
    )
    s = Stream("l1")
    minutes = 30 if offset_h == 5.5 else 15
    for code, minute in (("U1", minutes - 1), ("U2", minutes + 1)):  # either side of a local hour
        done = at(10) + timedelta(minutes=minute)
        s.unit(code, done - timedelta(minutes=5), "A", 60.0, done)
    hourly = both(plant, s.out, at(10), at(12))["lines"]["l1"]["hourly"]
    assert [h["hour"][11:16] for h in hourly] == [first_bucket, f"10:{minutes}", f"11:{minutes}"]
    assert [h["open_s"] for h in hourly] == [minutes * 60, 3600, 3600 - minutes * 60]  # clipped to the range
    assert [h["actual"] for h in hourly] == [1, 1, 0]


# --- every path gives the same numbers ------------------------------------------------------------------
def test_reference_cli_rest_and_history_agree(tmp_path):
    from app import create_app
    from config import Settings

    events = two_lines()
    path = tmp_path / "events.jsonl"
    path.write_text("".join(codec.to_json(e) + "\n" for e in events))
    reference = compute(events, TWO_LINES, at(0), at(8))
    factory = tmp_path / "factory.json.yaml"
    factory.write_text(
        json.dumps(
            {
                "site": {"id": "s"},
                "products": {"p": {}},
                "lines": [
                    {"id": "l1", "product": "p", "stations": [{"id": "A", "cycle_s": 60}]},
                    {"id": "l2", "product": "p", "stations": [{"id": "B", "cycle_s": 60, "machines": 2}]},
                ],
            }
        )
    )
    result = CliRunner().invoke(
        kpis_command, [str(path), "--config", str(factory), "--from", at(0).isoformat(), "--to", at(8).isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert_close(reference, json.loads(result.output))
    svc = create_app(Settings(emulator=False, data_dir=None, config=factory, api_keys=("k",)))
    svc.history.record(events)
    answer = svc.dash_app.server.test_client().get(
        "/api/kpis",
        query_string={"from": at(0).isoformat(), "to": at(8).isoformat()},
        headers={"Authorization": "Bearer k"},
    )
    assert answer.status_code == 200
    assert_close(reference, answer.get_json())
