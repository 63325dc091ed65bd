"""The simulated plant: reproducible, conserving units, respecting flow order, calendar and queueing theory."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from factory.layout import parse_plant
from line_emulator.cli import emulate, parse_duration
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import codec
from streams import events as ev

START = datetime(2026, 3, 2, 0, tzinfo=UTC)  # 08:00 in the Chinese plants (UTC+8): the early shift


@pytest.fixture(scope="module")
def run_8h(plant):
    out = []
    run_fast(PlantModel(plant, out.append, START, seed=11), 8 * 3600)
    return out


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        result = CliRunner().invoke(emulate, ["--seed", "7", "--duration", "2h", "--fast", "--out", str(path)])
        assert result.exit_code == 0, result.output
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_bytes().splitlines()) > 1000


def test_different_seeds_differ(plant):
    runs = []
    for seed in (1, 2):
        out = []
        run_fast(PlantModel(plant, out.append, START, seed=seed), 3600)
        runs.append([codec.to_json(e) for e in out])
    assert runs[0] != runs[1]


def test_every_event_passes_its_schema_and_ids_are_unique(run_8h):
    jsonschema = pytest.importorskip("jsonschema")
    from streams.schema import all_schemas

    schemas = {t: jsonschema.Draft202012Validator(s) for t, s in all_schemas().items()}
    keys = [(e.source, e.id) for e in run_8h]
    assert len(keys) == len(set(keys))
    per_type = Counter()
    for event in run_8h:
        per_type[event.TYPE] += 1
        if per_type[event.TYPE] > 300:  # a sample of the frequent types keeps this test quick
            continue
        doc = codec.to_dict(event)
        schemas[doc["type"]].validate(doc)
        assert codec.from_dict(doc) == event


def test_time_never_decreases_within_a_source(run_8h):
    last = {}
    for event in run_8h:
        assert event.time >= last.get(event.source, event.time)
        last[event.source] = event.time


def test_the_run_shows_every_kind_of_happening(run_8h):
    kinds = Counter(type(e).__name__ for e in run_8h)
    for name in (
        "OrderPlaced",
        "StationEntered",
        "StationWorkDone",
        "StationExited",
        "QualityChecked",
        "ReworkRouted",
        "UnitCompleted",
        "UnitShipped",
        "ChangeoverStarted",
        "ChangeoverFinished",
        "MachineDown",
        "MachineUp",
        "ShiftStarted",
        "PlannedStopStarted",
        "PlannedStopEnded",
    ):
        assert kinds[name] > 0, name


def test_units_are_conserved(run_8h):
    placed = {e.unit_code for e in of(run_8h, ev.OrderPlaced)}
    started = {e.unit_code for e in of(run_8h, ev.StationEntered)}
    completed = [e.unit_code for e in of(run_8h, ev.UnitCompleted)]
    scrapped = [e.unit_code for e in of(run_8h, ev.UnitScrapped)]
    finished = completed + scrapped
    assert len(finished) == len(set(finished)) and set(finished) <= started <= placed
    wip = started - set(finished)
    waiting = placed - started
    assert len(placed) == len(completed) + len(scrapped) + len(wip) + len(waiting)
    assert len(completed) > 700  # three lines of 35-50 units an hour over 8 hours


def test_units_follow_flow_order_through_rework_loops(plant, run_8h):
    expected_next = {}
    line_of = {e.unit_code: plant.line(e.line_id) for e in of(run_8h, ev.OrderPlaced)}
    reworked = 0
    for event in run_8h:
        unit = getattr(event, "unit_code", None)
        if unit is None:
            continue
        stations = [s.id for s in line_of[unit].stations]
        if isinstance(event, ev.StationEntered):
            assert event.station_id == stations[expected_next.get(unit, 0)], unit
        elif isinstance(event, ev.StationExited):
            expected_next[unit] = stations.index(event.station_id) + 1
        elif isinstance(event, ev.ReworkRouted):
            expected_next[unit] = stations.index(event.reenter_at)
            reworked += 1
        elif isinstance(event, ev.UnitCompleted):
            assert expected_next[unit] == len(stations)
    assert reworked > 0


def test_a_failed_gate_sends_the_unit_back_with_the_next_visit_number(run_8h):
    routed = of(run_8h, ev.ReworkRouted)[0]
    after = [e for e in run_8h if getattr(e, "unit_code", None) == routed.unit_code and e.time >= routed.time]
    entered = next(e for e in after if isinstance(e, ev.StationEntered))
    assert entered.station_id == routed.reenter_at and entered.visit == 2
    failed = [e for e in of(run_8h, ev.QualityChecked) if not e.passed]
    assert all(e.defect_code and any(not m.passed for m in e.measurements) for e in failed)
    assert all(
        e.defect_code is None and all(m.passed for m in e.measurements)
        for e in of(run_8h, ev.QualityChecked)
        if e.passed
    )


def test_options_add_work_where_the_factory_file_says(run_8h):
    """Smart Wi-Fi adds 18 s at wiring (factory.yaml): processing times must show it."""
    wifi = {e.unit_code: e.options["wifi"] == "wifi" for e in of(run_8h, ev.OrderPlaced) if e.line_id == "ac1"}
    work = {True: [], False: []}
    for e in of(run_8h, ev.StationWorkDone):
        if e.line_id == "ac1" and e.station_id == "wiring":
            work[wifi[e.unit_code]].append(e.work_s)
            assert e.ideal_s == (48 + 18 if wifi[e.unit_code] else 48)
    gap = statistics.mean(work[True]) - statistics.mean(work[False])
    assert 14 < gap < 22, gap


def test_no_work_starts_during_a_planned_stop(run_8h):
    stops = defaultdict(list)
    open_since = {}
    for e in run_8h:
        if isinstance(e, ev.PlannedStopStarted):
            open_since[e.line_id] = e.time
        elif isinstance(e, ev.PlannedStopEnded) and e.line_id in open_since:
            stops[e.line_id].append((open_since.pop(e.line_id), e.time))
    assert sum(map(len, stops.values())) >= 6  # maintenance + short break + meal break per line
    for e in of(run_8h, ev.StationWorkDone):
        start = e.time - timedelta(seconds=e.work_s)
        for begin, end in stops[e.line_id]:
            assert not (begin + timedelta(milliseconds=5) < start < end - timedelta(milliseconds=5)), e


def test_breakdowns_alternate_down_and_up_per_machine(run_8h):
    down_at = {}
    for e in run_8h:
        if isinstance(e, ev.MachineDown):
            key = (e.line_id, e.station_id, e.machine)
            assert key not in down_at
            down_at[key] = e.time
        elif isinstance(e, ev.MachineUp):
            began = down_at.pop((e.line_id, e.station_id, e.machine))
            assert abs((e.time - began).total_seconds() - e.down_s) < 0.01


def test_trucks_carry_completed_units_within_capacity(run_8h):
    completed_at = {e.unit_code: e.time for e in of(run_8h, ev.UnitCompleted)}
    loads = Counter()
    for e in of(run_8h, ev.UnitShipped):
        assert completed_at[e.unit_code] <= e.time
        assert e.estimated_delivery > e.time.date().isoformat()
        loads[e.shipment_id] += 1
    assert loads and max(loads.values()) <= 24


def _one_station_plant(cycle_cv: float, load: float, **simulation):
    return parse_plant(
        {
            "site": {"id": "lab"},
            "products": {"p": {}},
            "lines": [{"id": "l1", "product": "p", "stations": [{"id": "s1", "cycle_s": 60, "buffer": 0}]}],
            "simulation": {"cycle_cv": cycle_cv, "load_factor": load, **simulation},
        }
    )


def test_one_exponential_station_matches_m_m_1_time_in_system():
    """λ = 0.5 μ with μ = 1/60 s: mean time in system W = 1 / (μ − λ) = 120 s (within 5 %)."""
    placed, left = {}, []
    out = []

    def collect(e):
        if isinstance(e, ev.OrderPlaced):
            placed[e.unit_code] = e.time
        elif isinstance(e, ev.StationExited):
            left.append((e.time - placed[e.unit_code]).total_seconds())

    run_fast(PlantModel(_one_station_plant(1.0, 0.5), collect, START, seed=3), 40_000 * 120)
    del out
    warm = len(left) // 20  # drop the empty-system start
    w = statistics.mean(left[warm:])
    assert len(left) > 30_000
    assert abs(w - 120) / 120 < 0.05, w


def test_orders_follow_the_daily_pattern():
    pattern = [1] * 12 + [4] * 12  # four times as many orders in the afternoon and evening
    plant = _one_station_plant(0.1, 0.5, order_pattern=pattern)
    hours = Counter()
    run_fast(
        PlantModel(plant, lambda e: isinstance(e, ev.OrderPlaced) and hours.update([e.time.hour]), START, seed=1),
        4 * 86400,
    )
    morning = sum(hours[h] for h in range(12))
    evening = sum(hours[h] for h in range(12, 24))
    assert 3.2 < evening / morning < 4.8


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("8h", 28800), ("2d", 172800), ("45", 45)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "-1h", "8 hours", "h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def _two_station_plant(buffer: int, cycle_cv: float = 0.0):
    return parse_plant(
        {
            "site": {"id": "lab"},
            "products": {"p": {}},
            "lines": [
                {
                    "id": "l1",
                    "product": "p",
                    "stations": [
                        {"id": "a", "cycle_s": 30, "breakdown": False},
                        {"id": "b", "cycle_s": 60, "buffer": buffer, "breakdown": False},
                    ],
                }
            ],
            "simulation": {"cycle_cv": cycle_cv, "load_factor": 0.9},
        }
    )


def test_cycle_cv_zero_gives_every_cycle_its_mean():
    out = []
    run_fast(PlantModel(_two_station_plant(buffer=2), out.append, START, seed=1), 6 * 3600)
    work = of(out, ev.StationWorkDone)
    assert work and {(w.station_id, w.work_s) for w in work} == {("a", 30.0), ("b", 60.0)}


def test_buffer_zero_means_no_place_between_stations():
    """With no buffer, a unit leaves a only when b takes it: its exit from a and entry at b are one instant,
    and a unit that finished a waits there, blocking it (work done, not exited)."""
    out = []
    run_fast(PlantModel(_two_station_plant(buffer=0), out.append, START, seed=1), 6 * 3600)
    exits = {e.unit_code: e.time for e in out if isinstance(e, ev.StationExited) and e.station_id == "a"}
    entries = {e.unit_code: e.time for e in out if isinstance(e, ev.StationEntered) and e.station_id == "b"}
    assert len(entries) > 100
    assert all(entries[u] == exits[u] for u in entries)
    done = {e.unit_code: e.time for e in out if isinstance(e, ev.StationWorkDone) and e.station_id == "a"}
    assert sum(exits[u] > done[u] for u in entries) > len(entries) / 3  # blocked on a while b was busy
    with_buffer = []
    run_fast(PlantModel(_two_station_plant(buffer=3), with_buffer.append, START, seed=1), 6 * 3600)
    waited = [e for e in with_buffer if isinstance(e, ev.StationEntered) and e.station_id == "b"]
    exits_b = {e.unit_code: e.time for e in with_buffer if isinstance(e, ev.StationExited) and e.station_id == "a"}
    assert any(e.time > exits_b[e.unit_code] for e in waited)  # a buffer lets units wait between


def test_orders_respect_the_option_rules(run_8h, plant):
    orders = of(run_8h, ev.OrderPlaced)
    assert len(orders) > 500
    for order in orders:
        assert not plant.products[order.product].violations(order.options), order


def test_components_are_fitted_once_each_with_supplier_batch_and_serial(run_8h, plant):
    fitted = defaultdict(list)
    for e in of(run_8h, ev.ComponentFitted):
        fitted[e.unit_code].append(e)
    completed = [e.unit_code for e in of(run_8h, ev.UnitCompleted)]
    orders = {e.unit_code: e for e in of(run_8h, ev.OrderPlaced)}
    spec = plant.spec.products
    for unit in completed[:200]:
        order = orders.get(unit)
        if order is None:
            continue
        expected = {
            name
            for name, c in spec[order.product].components.items()
            if all(order.options.get(k) == v for k, v in (c.only_with or {}).items())
        }
        assert sorted(e.component for e in fitted[unit]) == sorted(expected)
        assert all(e.serial and e.batch and e.supplier for e in fitted[unit])
    serials = [e.serial for units in fitted.values() for e in units]
    assert len(serials) == len(set(serials))


def test_every_line_s_backlog_stays_bounded_over_30_days(plant):
    """The default plant run for 30 days: no line's open orders grow from one week to the next.

    A line with a five-day week (Camden) builds a backlog over each weekend and must work it
    off during the week; an unstable line would start each week further behind.
    """
    open_orders: Counter[str] = Counter()

    def count(event: ev.Event) -> None:
        if isinstance(event, ev.OrderPlaced):
            open_orders[event.line_id] += 1
        elif isinstance(event, (ev.UnitCompleted, ev.UnitScrapped)):
            open_orders[event.line_id] -= 1

    model = PlantModel(plant, count, START, seed=3)
    samples: dict[str, list[int]] = defaultdict(list)  # line -> open orders every 6 h
    for step in range(1, 30 * 4 + 1):
        run_fast(model, step * 6 * 3600)
        for line in plant.lines:
            samples[line.id].append(open_orders[line.id])
    for line_id, counts in samples.items():
        weeks = [counts[w * 28 : (w + 1) * 28] for w in range(4)]  # 28 samples of 6 h = a week
        # Each week the line catches up at least once (as few open orders as an hour of output)...
        assert all(min(week) <= 60 for week in weeks), (line_id, [min(w) for w in weeks])
        # ...and the worst moment of the last week is no worse than that of the first, give or take.
        assert max(weeks[3]) <= 1.25 * max(weeks[0]) + 30, (line_id, [max(w) for w in weeks])


def test_every_line_can_keep_up_with_its_demand(plant):
    """Utilisation below 1 at every station at the average order rate, setups and breakdowns included."""
    model = PlantModel(plant, lambda e: None, START, seed=1)
    for line_model in model.lines.values():
        capacity = line_model.capacity_per_s()
        open_fraction = model.params.calendars[plant.site_of(line_model.line.id).id].open_fraction()
        demand = line_model.arrival_rate_per_s / open_fraction  # orders per open second
        assert demand / capacity == pytest.approx(model.params.load_factor)
        assert demand / capacity < 1
