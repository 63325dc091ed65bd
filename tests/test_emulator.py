"""The simulated plant: reproducible, conserving units, respecting flow order and options."""
from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timezone

import pytest

from line_emulator.__main__ import main as emulator_main
from line_emulator.__main__ import parse_duration
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import codec
from streams.events import OrderPlaced, StationEntered, StationExited, UnitCompleted

START = datetime(2026, 3, 2, 6, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def run_8h(plant):
    out = []
    model = PlantModel(plant, out.append, START, seed=11)
    run_fast(model, 8 * 3600)
    return out


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (a, b):
        assert emulator_main(["--seed", "7", "--duration", "2h", "--fast", "--out", str(path)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_bytes().splitlines()) > 1000


def test_different_seeds_differ(plant):
    runs = []
    for seed in (1, 2):
        out = []
        run_fast(PlantModel(plant, out.append, START, seed=seed), 3600)
        runs.append([codec.to_json(e) for e in out])
    assert runs[0] != runs[1]


def test_every_event_decodes_and_ids_are_unique(run_8h):
    keys = [(e.source, e.id) for e in run_8h]
    assert len(keys) == len(set(keys))
    for event in run_8h[:2000]:
        assert codec.from_json(codec.to_json(event)) == event


def test_time_never_decreases_within_a_source(run_8h):
    last = {}
    for event in run_8h:
        assert event.time >= last.get(event.source, event.time)
        last[event.source] = event.time


def test_units_are_conserved(run_8h):
    placed = {e.unit_code for e in run_8h if isinstance(e, OrderPlaced)}
    started = {e.unit_code for e in run_8h if isinstance(e, StationEntered)}
    completed = [e.unit_code for e in run_8h if isinstance(e, UnitCompleted)]
    assert len(completed) == len(set(completed)) and set(completed) <= started <= placed
    wip = started - set(completed)
    waiting = placed - started
    assert len(placed) == len(completed) + len(wip) + len(waiting)
    assert len(completed) > 900  # three lines of roughly 45 units an hour over 8 hours


def test_units_visit_stations_in_flow_order(plant, run_8h):
    visits = defaultdict(list)
    for event in run_8h:
        if isinstance(event, (StationEntered, StationExited)):
            visits[event.unit_code].append((type(event).__name__, event.station_id))
    for unit, seen in visits.items():
        line = plant.line(next(e.line_id for e in run_8h if getattr(e, "unit_code", None) == unit))
        expected = [(kind, s.id) for s in line.stations for kind in ("StationEntered", "StationExited")]
        assert seen == expected[: len(seen)], unit


def test_options_add_work_where_the_factory_file_says(run_8h):
    """Smart Wi-Fi adds 18 s at wiring (factory.yaml): time at wiring must show it."""
    wifi = {e.unit_code: e.options["wifi"] == "wifi" for e in run_8h if isinstance(e, OrderPlaced) and e.line_id == "ac1"}
    entered = {}
    spent = {True: [], False: []}
    for event in run_8h:
        if getattr(event, "station_id", None) == "wiring" and event.line_id == "ac1":
            if isinstance(event, StationEntered):
                entered[event.unit_code] = event.time
            elif isinstance(event, StationExited):
                spent[wifi[event.unit_code]].append((event.time - entered[event.unit_code]).total_seconds())
    gap = statistics.median(spent[True]) - statistics.median(spent[False])
    assert 12 < gap < 24, gap


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("8h", 28800), ("2d", 172800), ("45", 45)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "-1h", "8 hours", "h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(Exception):
        parse_duration(text)
