"""The PostgreSQL history against the DuckDB one, and several workers sharing one database.

A real PostgreSQL server (tests/postgres_server.py) on a free port. The same simulated hours of the
default enterprise (six sites, their own time zones) are recorded into both backends; the KPI
queries the REST API and the executive view use (factory/history/queries.py, exec_view, the
demand's wishes) must answer the same, to 1e-9.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from test_exec_view import DAY_1, DAY_2, PLANT, two_days
from test_history_contract import same

from factory.exec_view import exec_view
from factory.history import open_history
from factory.history import queries as hq
from factory.history.wishes import wishes
from factory.history.writer import Recorder, state_at
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev
from streams.memory import MemoryBus

T = datetime(2026, 1, 5, 6, tzinfo=UTC)  # 14:00 in China, 11:30 in Pune, 01:00 in Camden
HOURS = 10
_RUN: list[ev.Event] = []


def simulated(plant) -> list[ev.Event]:
    """Ten simulated hours of the default enterprise (seed 11), with configurator visits among them."""
    if not _RUN:
        run_fast(PlantModel(plant, _RUN.append, T, seed=11), HOURS * 3600)
        rng = random.Random(11)
        models = ["AS12", "AS18", "AS24"]
        for n in range(300):  # visits that did not order, some drafting twice, one ordering
            at = T + timedelta(seconds=rng.uniform(0, HOURS * 3600))
            _RUN.extend(
                ev.ConfigurationDrafted(
                    id=f"draft-{n}-{k}",
                    source="/configurator",
                    time=at + timedelta(seconds=30 * k),
                    session_id=f"visit-{n}",
                    product="air_conditioner",
                    options={"model": rng.choice(models)},
                    ordered=n % 50 == 0 and k == 1,
                )
                for k in range(1 + n % 2)
            )
    return _RUN


def batches(events: list[ev.Event], size: int = 2500) -> list[list[ev.Event]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


@pytest.fixture(scope="module")
def both(plant, postgres, tmp_path_factory):
    """The same events recorded into a DuckDB file and a PostgreSQL database."""
    duck = open_history(tmp_path_factory.mktemp("duck") / "history.duckdb", plant)
    pg = open_history(postgres.create_database("kpis_both"), plant)
    for batch in batches(simulated(plant)):
        duck.record(batch)
        pg.record(batch)
    yield duck, pg
    duck.close()
    pg.close()


RANGES = [(0, HOURS), (0.5, 3.75), (2.2, 9.1), (7, 7.5), (9.99, HOURS)]


@pytest.mark.parametrize("from_h, to_h", RANGES)
def test_kpis_are_the_same_on_duckdb_and_postgresql(plant, both, from_h, to_h):
    duck, pg = both
    assert duck.count() == pg.count() == len(simulated(plant))
    start, end = T + timedelta(hours=from_h), T + timedelta(hours=to_h)
    enterprise = hq.kpis(pg, plant, start, end)
    assert len(enterprise["lines"]) == 6 and enterprise["enterprise"]["orders_placed"] > 0
    same(hq.kpis(duck, plant, start, end), enterprise)
    for site in plant.sites:
        same(hq.kpis(duck, plant, start, end, site_id=site.id), hq.kpis(pg, plant, start, end, site_id=site.id))
    for line in plant.lines:
        same(hq.kpis(duck, plant, start, end, line.id), hq.kpis(pg, plant, start, end, line.id))


def test_days_history_bounds_and_the_executive_view_are_the_same(plant, both):
    duck, pg = both
    now = T + timedelta(hours=HOURS)
    assert hq.now_of(duck) == hq.now_of(pg)
    for line in plant.lines:
        assert hq.line_history_start(duck, line.id) == hq.line_history_start(pg, line.id)
        first = T.astimezone(plant.tz_of(line.id)).date()
        days = [hq.daily_sums(store, plant, line, first, first + timedelta(days=1), now) for store in (duck, pg)]
        assert list(days[0]) == list(days[1])
        for d in days[0]:
            same(dataclasses.asdict(days[0][d]), dataclasses.asdict(days[1][d]))
    first = (T - timedelta(days=1)).date()
    last = now.date()
    same(exec_view(duck, plant, first, last, now), exec_view(pg, plant, first, last, now))
    same(
        exec_view(duck, plant, first, last, now, site_id="pune"),
        exec_view(pg, plant, first, last, now, site_id="pune"),
    )


def test_the_wishes_of_the_demand_page_are_the_same(plant, both):
    duck, pg = both
    for start, end in [(None, None), (T + timedelta(hours=2), T + timedelta(hours=5))]:
        a, b = wishes(duck, plant, start, end), wishes(pg, plant, start, end)
        assert len(a) > 300 and (~a["ordered"]).sum() > 0
        assert a.equals(b), a.compare(b) if a.shape == b.shape else (a.shape, b.shape)


def test_replay_and_lookups_are_the_same(plant, both):
    duck, pg = both
    start, end = T + timedelta(hours=3), T + timedelta(hours=4)
    assert [e.id for e in duck.replay(start, end, "rf2")] == [e.id for e in pg.replay(start, end, "rf2")]
    assert duck.next_order_numbers() == pg.next_order_numbers()
    order = next(e for e in simulated(plant) if isinstance(e, ev.OrderPlaced) and e.line_id == "ac2")
    assert [e.id for e in duck.unit_events(order.unit_code)] == [e.id for e in pg.unit_events(order.unit_code)]


def test_two_workers_recording_the_same_batches_store_each_event_once(plant, postgres):
    """Two History objects (two workers' writers) on one database, one after the other and at once."""
    url = postgres.create_database("two_workers")
    first, second = open_history(url, plant), open_history(url, plant)
    events = simulated(plant)
    parts = batches(events, 1500)
    half = len(parts) // 2
    for batch in parts[:half]:  # one after the other: the second finds every event stored
        assert len(first.record(batch).new) == len(batch)
        assert len(second.record(batch).new) == 0
    recorded = {"first": 0, "second": 0}

    def write(name, store, order):
        for batch in order:
            recorded[name] += len(store.record(batch).new)

    rest = parts[half:]
    threads = [
        threading.Thread(target=write, args=("first", first, rest)),
        threading.Thread(target=write, args=("second", second, rest[::-1])),  # at once, from opposite ends
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert recorded["first"] + recorded["second"] == sum(len(b) for b in rest)
    assert first.count() == len(events)
    assert first.query("SELECT count(DISTINCT seq) FROM events")[0][0] == len(events)
    one = open_history(None, plant)
    for batch in parts:
        one.record(batch)
    for table in ("units", "station_facts", "timeline", "tokens", "unit_options"):
        count = f"SELECT count(*) FROM {table}"
        assert first.query(count) == one.query(count), table
    start, end = T + timedelta(hours=1), T + timedelta(hours=HOURS)
    same(hq.kpis(one, plant, start, end), hq.kpis(second, plant, start, end))
    for store in (first, second, one):
        store.close()


class SharedBus(MemoryBus):
    """An in-memory stream with a durable id, standing in for the Redis stream every worker reads."""

    durable_id = "memory:shared"


def _wait(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s  # generous: a loaded machine is slow, not wrong
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_standby_worker_takes_over_from_the_recorded_offsets_and_checkpoint(plant, postgres):
    url = postgres.create_database("take_over")
    bus = SharedBus()
    events = [e for e in simulated(plant) if not isinstance(e, ev.ConfigurationDrafted)]
    cut = len(events) // 2
    bus.publish_many(events[:cut])
    histories = [open_history(url, plant), open_history(url, plant)]
    recorders = [Recorder(h, {"events": bus}, checkpoint_every=timedelta(hours=2)) for h in histories]
    stops = [threading.Event(), threading.Event()]

    def fast(s: float) -> None:
        time.sleep(min(s, 0.05))

    runs = [threading.Thread(target=r.run, args=(stop, fast)) for r, stop in zip(recorders, stops)]
    runs[0].start()
    _wait(lambda: histories[0].count() == cut)
    runs[1].start()
    _wait(lambda: recorders[1].standby)
    stops[0].set()  # the writer stops (flushes, checkpoints) and its process ends
    assert recorders[0].wait_stopped(60)
    runs[0].join(60)
    histories[0].close()
    bus.publish_many(events[cut:])
    _wait(lambda: histories[1].count() == len(events))
    assert not recorders[1].standby and recorders[1].recorded == len(events) - cut  # read on, nothing twice
    stops[1].set()
    assert recorders[1].wait_stopped(60)
    runs[1].join(60)
    assert histories[1].refused_ids == 0
    # Its checkpoints carry the whole plant: the state a restart resumes from is the state of every event.
    reference = open_history(None, plant)
    reference.record(events)
    resumed, expected = state_at(histories[1]), state_at(reference)

    def in_progress(state):  # a checkpoint has let go of units that left the plant long ago
        return {c: u.position for c, u in state.units.items() if u.completed_at is None and u.scrapped_at is None}

    assert len(in_progress(expected)) > 50 and in_progress(resumed) == in_progress(expected)
    assert all(resumed.units[c].position == expected.units[c].position for c in resumed.units)
    for line in plant.lines:
        assert resumed.lines[line.id].active == expected.lines[line.id].active
    assert histories[1].latest_checkpoint()[1] == histories[1].last_seq()
    histories[1].close()
    reference.close()


def test_a_worker_sees_a_late_event_another_worker_recorded_in_its_kept_days(postgres):
    """Kept days in one worker's memory are dropped by a late event, however far another worker moved the mark."""
    url = postgres.create_database("kept_days")
    a, b = open_history(url, PLANT), open_history(url, PLANT)
    a.record(two_days())
    now = datetime(2026, 3, 4, tzinfo=UTC)
    for store in (a, b):
        assert exec_view(store, PLANT, DAY_1, DAY_2, now)["headline"]["availability"] == pytest.approx(0.5, abs=1e-12)
    from test_day_sums import late_breakdown

    a.record(late_breakdown())
    assert exec_view(a, PLANT, DAY_1, DAY_2, now)["headline"]["availability"] == pytest.approx(0.4375, abs=1e-12)
    assert exec_view(b, PLANT, DAY_1, DAY_2, now)["headline"]["availability"] == pytest.approx(0.4375, abs=1e-12)
    a.close()
    b.close()


def test_the_writer_keeps_its_batches_while_the_server_is_down_and_catches_up(plant, tmp_path):
    """A PostgreSQL restart under a running writer: it says so, keeps what it read, and stores it all once."""
    import psycopg

    from postgres_server import PostgresServer

    server = PostgresServer()  # a server of its own: this test stops it
    stop = threading.Event()
    run: threading.Thread | None = None
    try:
        history = open_history(server.create_database("outage"), plant)
        bus = SharedBus()
        events = [e for e in simulated(plant) if not isinstance(e, ev.ConfigurationDrafted)][:6000]
        recorder = Recorder(history, {"events": bus}, batch=500)
        run = threading.Thread(target=recorder.run, args=(stop, lambda s: time.sleep(min(s, 0.2))), daemon=True)
        run.start()
        bus.publish_many(events[:2000])
        _wait(lambda: history.count() == 2000)
        server.stop()
        bus.publish_many(events[2000:])
        _wait(lambda: not recorder.healthy)
        assert recorder.last_error and history.writes_failed >= 1
        with pytest.raises(psycopg.OperationalError):
            history.count()  # readers fail meanwhile
        server.start()
        _wait(lambda: recorder.healthy and history.count() == len(events), timeout_s=300)
        assert history.query("SELECT count(DISTINCT (source, id)) FROM events")[0][0] == len(events)
        assert history.is_writer()  # the writer's lock, lost with the server, was taken again
        stop.set()
        assert recorder.wait_stopped(60)
        history.close()
    finally:
        stop.set()
        if run is not None:
            run.join(60)
        server.close()


def test_while_the_server_is_down_history_answers_are_503_and_the_live_pages_go_on(tmp_path):
    """A shared history that is away: REST reads say so with 503 and Retry-After, not a 500."""
    from app import create_app
    from config import Settings
    from postgres_server import PostgresServer
    from support import API_KEY, EventFactory, catch_up, client_as

    server = PostgresServer()  # a server of its own: this test stops it
    try:
        factory = create_app(
            Settings(emulator=False, data_dir=tmp_path, api_keys=(API_KEY,), history_url=server.create_database("away"))
        )
        events = EventFactory()
        batch = [events.placed(0, "UA", token="tokenA-0123456789abcdef"), events.entered(1, "UA", "kitting")]
        factory.bus.publish_many(batch)
        factory.history.record(batch)
        catch_up(factory)
        client = client_as(factory)
        key = {"Authorization": f"Bearer {API_KEY}"}
        assert client.get("/api/kpis", headers=key).status_code == 200
        server.stop()
        answer = client.get("/api/kpis", headers=key)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
        assert answer.get_json()["error"] == "history_unavailable"
        assert client.get("/api/orders/tokenA-0123456789abcdef").status_code == 200  # from the live state
        factory.history.close()
    finally:
        server.close()
