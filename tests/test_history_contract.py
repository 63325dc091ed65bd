"""The history contract: what every store must do. One class of tests, subclassed per backend.

DuckDB runs in-process on a file in a temporary folder; PostgreSQL runs against a real server the
test starts on a free port (tests/postgres_server.py).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, timedelta

import pytest

from factory import snapshot
from factory.history import open_history
from factory.history import queries as hq
from factory.history.writer import state_at
from factory.kpi_registry import evaluate
from factory.kpi_sums import add
from factory.kpis import compute
from factory.projector import apply
from factory.state import empty_state
from factory.validation import PlantCheck
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

T = datetime(2026, 1, 5, tzinfo=UTC)  # 08:00 in the Chinese plants: early shift, breaks and maintenance ahead
_DAY: list[ev.Event] = []


def a_day(plant) -> list[ev.Event]:
    if not _DAY:
        run_fast(PlantModel(plant, _DAY.append, T, seed=2), 20 * 3600)
    return _DAY


def same(a, b, path=""):
    if isinstance(a, dict):
        assert set(a) == set(b), (path, set(a) ^ set(b))
        for key in a:
            same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


class HistoryContract:
    """Subclasses provide ``target`` (a fresh, empty store for each test) and ``shared_target`` (one per class)."""

    @pytest.fixture
    def history(self, plant, target):
        store = open_history(target, plant)
        yield store
        store.close()

    @pytest.fixture(scope="class")
    def stored(self, plant, shared_target):
        """A store holding a day of the whole enterprise (written once per class)."""
        store = open_history(shared_target, plant)
        day = a_day(plant)
        for i in range(0, len(day), 3000):
            store.record(day[i : i + 3000])
        yield store
        store.close()

    def test_every_event_is_stored_once_and_copies_are_refused_by_id_and_by_key(self, plant, history):
        day = a_day(plant)[:4000]
        history.record(day)
        assert history.count() == len(day)
        again = history.record(day[:500])
        assert (len(again.new), again.duplicate_ids) == (0, 500)
        original = next(e for e in day if isinstance(e, ev.StationEntered))
        copy = ev.StationEntered(
            id="another-id",
            source=original.source,
            time=original.time,
            unit_code=original.unit_code,
            line_id=original.line_id,
            station_id=original.station_id,
            visit=original.visit,
        )
        result = history.record([copy])
        assert (len(result.new), result.duplicate_keys) == (0, 1) and history.count() == len(day)
        # the same fact reported five minutes later by another gateway, and twice in one batch
        later = dataclasses.replace(
            copy, id="a-third-id", source="/gateway-2", time=original.time + timedelta(minutes=5)
        )
        result = history.record([later, dataclasses.replace(later, id="a-fourth-id")])
        assert (len(result.new), result.duplicate_ids, result.duplicate_keys) == (0, 0, 2)
        fresh = ev.ShiftStarted(id="x1", source="/t", time=original.time, line_id="ac1", shift="X", planned_end="")
        result = history.record([fresh, fresh])  # one new event and its redelivery in the same batch
        assert (len(result.new), result.duplicate_ids) == (1, 1) and history.count() == len(day) + 1

    def test_replay_is_in_time_then_meaning_then_arrival_order(self, plant, history, events):
        start = events.placed(0, "U1")  # same instant as the end below, which arrives later
        at = start.time
        late = ev.ShiftStarted(id="s2", source="/t", time=at, line_id="ac1", shift="Late", planned_end="")
        early_end = ev.ShiftEnded(id="s1", source="/t", time=at, line_id="ac1", shift="Early")
        history.record([late, start, early_end])
        assert [type(e) for e in history.replay()] == [ev.ShiftEnded, ev.OrderPlaced, ev.ShiftStarted]

    def test_lookups_for_orders(self, plant, stored):
        day = a_day(plant)
        order = next(e for e in day if isinstance(e, ev.OrderPlaced))
        assert stored.unit_for_token(order.tracking_token) == (order.unit_code, order.line_id)
        assert stored.unit_for_token("no-such-token-000000") is None
        assert stored.unit_order(order.unit_code) == (order.order_id, order.line_id)
        mine = stored.unit_events(order.unit_code)
        assert {type(e) for e in mine} >= {ev.OrderPlaced, ev.StationEntered}
        assert all(e.unit_code == order.unit_code for e in mine)
        placed = [e for e in day if isinstance(e, ev.OrderPlaced) and e.line_id == "wm1"]
        assert stored.next_order_numbers()["wm1"] == len(placed) + 1

    def test_a_token_stays_with_its_first_order(self, plant, history, events):
        first = events.placed(0, "U1", token="tok-shared-aaaaaaaaaa")
        second = events.placed(1, "U2", token="tok-shared-aaaaaaaaaa")
        history.record([first, second])
        assert history.unit_for_token("tok-shared-aaaaaaaaaa") == ("U1", "ac1")

    @pytest.mark.parametrize("from_h, to_h", [(0, 20), (2, 3.25), (5.9, 14.4), (15.5, 19)])
    def test_kpis_equal_the_reference_path(self, plant, stored, from_h, to_h):
        start, end = T + timedelta(hours=from_h), T + timedelta(hours=to_h)
        same(compute(a_day(plant), plant, start, end), hq.kpis(stored, plant, start, end))

    def test_kpis_of_one_site(self, plant, stored):
        start, end = T + timedelta(hours=1), T + timedelta(hours=9)
        result = hq.kpis(stored, plant, start, end, site_id="camden")
        assert list(result["lines"]) == ["rf2"] and list(result["sites"]) == ["camden"]
        same(compute(a_day(plant), plant, start, end, site_id="camden"), result)

    def test_days_add_up_to_the_range(self, plant, stored):
        line = plant.line("ac1")
        tz = plant.tz_of("ac1")
        first = T.astimezone(tz).date()
        now = T + timedelta(hours=20)
        days = hq.daily_sums(stored, plant, line, first, first + timedelta(days=1), now)
        assert list(days) == [first, first + timedelta(days=1)]
        from factory.local_time import day_bounds

        direct = hq.kpis(stored, plant, day_bounds(first, tz)[0], now, "ac1")["lines"]["ac1"]
        same(evaluate(add(list(days.values()))), direct)

    def test_meta_and_checkpoints(self, plant, history):
        day = [e for e in a_day(plant) if e.time < T + timedelta(hours=7)]
        history.record(day)
        stored = history
        stored.record([], meta={"offset:redis:tf:events": "17-0"})
        assert stored.meta("offset:redis:tf:events") == "17-0"
        state = empty_state(plant)
        check = PlantCheck(plant, window=timedelta(days=3650))
        cut = T + timedelta(hours=6)
        for e in a_day(plant):
            if e.time < cut and check.admit(e) is None:
                apply(state, e)
        stored.put_checkpoint(cut - timedelta(hours=2), 0, snapshot.to_json(empty_state(plant)))
        replayed = state_at(stored, cut - timedelta(milliseconds=1))
        state.events_applied = replayed.events_applied = 0
        for line in plant.lines:
            assert replayed.lines[line.id].active == state.lines[line.id].active
        assert {c: u.position for c, u in replayed.units.items()} == {c: u.position for c, u in state.units.items()}

    def test_backfill_rebuilds_the_same_sums_and_checkpoints(self, plant, history):
        from factory.history.backfill import rebuild

        day = [e for e in a_day(plant) if e.time < T + timedelta(hours=4)]
        for i in range(0, len(day), 2000):
            history.record(day[i : i + 2000])
        start, end = T + timedelta(minutes=20), T + timedelta(hours=4)
        before = hq.kpis(history, plant, start, end)
        assert rebuild(history) == len(day)
        same(before, hq.kpis(history, plant, start, end))
        found = history.latest_checkpoint()
        assert found is not None and found[1] == history.last_seq()

    def test_a_failed_batch_leaves_nothing_half_done(self, plant, history, events, monkeypatch):
        batch = [events.placed(0, "U1"), events.entered(1, "U1", "kitting")]
        real = history._insert

        def failing(table, *args, **kwargs):
            if table == "units":
                raise OSError("disk full")
            return real(table, *args, **kwargs)

        monkeypatch.setattr(history, "_insert", failing)
        with pytest.raises(OSError):
            history.record(batch)
        monkeypatch.setattr(history, "_insert", real)
        assert history.count() == 0
        assert len(history.record(batch).new) == 2 and history.unit_order("U1") == ("SO-U1", "ac1")


class TestDuckDB(HistoryContract):
    @pytest.fixture
    def target(self, tmp_path):
        return tmp_path / "history.duckdb"

    @pytest.fixture(scope="class")
    def shared_target(self, tmp_path_factory):
        return tmp_path_factory.mktemp("duckdb") / "history.duckdb"

    def test_history_survives_reopening(self, plant, tmp_path):
        day = a_day(plant)
        path = tmp_path / "h.duckdb"
        first = open_history(path, plant)
        first.record(day[:1000])
        first.close()
        again = open_history(path, plant)
        assert again.count() == 1000 and len(again.record(day[:1200]).new) == 200
        again.close()

    def test_no_index_grows_with_every_event(self, plant, target):
        history = open_history(target, plant)
        keyed = history.query("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'")
        assert "events" not in {t for (t,) in keyed} and "event_ids" not in {t for (t,) in keyed}
        history.close()

    def test_the_write_ahead_log_is_checkpointed_while_recording(self, plant, target):
        """Nothing the store opened with holds a transaction open, which would stop DuckDB's own checkpoints."""
        history = open_history(target, plant)
        history.query("SET GLOBAL checkpoint_threshold = '1KB'")  # on a cursor, as every query of the store
        history.record(a_day(plant)[:2000])
        history.record(a_day(plant)[2000:4000])
        wal = target.with_name(target.name + ".wal")
        assert not wal.exists() or wal.stat().st_size < 100_000  # a batch is about 1 MB in the log
        history.close()

    def test_a_file_with_the_old_event_index_is_rebuilt_once_and_keeps_every_event(self, plant, tmp_path):
        import duckdb

        day = a_day(plant)[:300]
        path = tmp_path / "old.duckdb"
        history = open_history(path, plant)
        history.record(day)
        history.close()
        db = duckdb.connect(str(path))  # the layout files had before: a primary key on events, and event_ids
        db.execute("CREATE TABLE keyed AS SELECT * FROM events")
        db.execute("DROP TABLE events")
        db.execute(
            "CREATE TABLE events (key VARCHAR PRIMARY KEY, seq BIGINT NOT NULL, source VARCHAR NOT NULL, "
            "id VARCHAR NOT NULL, kind VARCHAR NOT NULL, time TIMESTAMP NOT NULL, line_id VARCHAR, "
            "station_id VARCHAR, unit_code VARCHAR, doc VARCHAR NOT NULL)"
        )
        db.execute("INSERT INTO events SELECT * FROM keyed")
        db.execute("DROP TABLE keyed")
        db.execute("CREATE TABLE event_ids (source VARCHAR NOT NULL, id VARCHAR NOT NULL, PRIMARY KEY (source, id))")
        db.close()
        again = open_history(path, plant)
        keyed = (
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'events' AND constraint_type = 'PRIMARY KEY'"
        )
        assert again.query(keyed)[0][0] == 0
        assert {e.id for e in again.replay()} == {e.id for e in day}
        assert again.count() == 300 and again.last_seq() == 300
        assert len(again.record(a_day(plant)[:400]).new) == 100
        assert again.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'event_ids'")[0][0] == 0
        again.close()

    def test_a_fatal_error_opens_the_file_again_and_the_retried_batch_is_recorded(self, plant, tmp_path, monkeypatch):
        import duckdb

        history = open_history(tmp_path / "h.duckdb", plant)
        day = a_day(plant)[:200]
        history.record(day[:100])
        real = history._insert

        def out_of_memory(table, *args, **kwargs):
            if table == "events":  # as DuckDB says it after an out-of-memory error in a rollback
                raise duckdb.FatalException("FATAL Error: database has been invalidated")
            return real(table, *args, **kwargs)

        monkeypatch.setattr(history, "_insert", out_of_memory)
        before = history._db
        with pytest.raises(duckdb.FatalException):
            history.record(day[100:])
        assert history._db is not before  # opened again
        monkeypatch.setattr(history, "_insert", real)
        assert len(history.record(day[100:]).new) == 100
        assert history.count() == 200 and history.last_seq() == 200  # nothing lost, no arrival number skipped
        history.close()

    def test_a_damaged_file_is_one_clear_message(self, plant, tmp_path):
        from factory.history import HistoryError

        path = tmp_path / "h.duckdb"
        path.write_bytes(b"this is not a database" * 100)
        with pytest.raises(HistoryError, match="damaged or not a DuckDB database"):
            open_history(path, plant)


class TestPostgreSQL(HistoryContract):
    """The same contract on a real PostgreSQL server the test starts (tests/postgres_server.py)."""

    @pytest.fixture
    def target(self, postgres_url):
        return postgres_url

    @pytest.fixture(scope="class")
    def shared_target(self, postgres):
        return postgres.create_database("contract_shared")

    def test_history_survives_reopening(self, plant, target):
        day = a_day(plant)
        first = open_history(target, plant)
        first.record(day[:1000])
        first.close()
        again = open_history(target, plant)
        assert again.count() == 1000 and len(again.record(day[:1200]).new) == 200
        again.close()

    def test_an_event_stored_by_another_writer_meanwhile_is_stored_once(self, plant, target, monkeypatch):
        """The unique key refuses what the look-up for copies did not see; nothing is derived twice."""
        day = a_day(plant)[:300]
        first, second = open_history(target, plant), open_history(target, plant)
        first.record(day[:200])
        monkeypatch.setattr(second, "_not_stored", lambda batch: (list(batch), 0, 0))  # as if it looked too early
        result = second.record(day)
        assert (len(result.new), result.duplicate_ids) == (100, 200)
        assert second.count() == 300
        reference = open_history(None, plant)
        reference.record(day)
        for table in ("units", "station_facts", "timeline", "tokens"):
            count = f"SELECT count(*) FROM {table}"
            assert second.query(count) == reference.query(count), table
        sums = "SELECT sum(processed), sum(checks) FROM station_hour"
        assert second.query(sums) == reference.query(sums)
        same(hq.kpis(reference, plant, T, T + timedelta(hours=2)), hq.kpis(second, plant, T, T + timedelta(hours=2)))
        for store in (first, second, reference):
            store.close()

    def test_one_worker_at_a_time_is_the_writer_and_another_takes_over(self, plant, target):
        first, second = open_history(target, plant), open_history(target, plant)
        assert first.is_writer() and first.is_writer()
        assert not second.is_writer()
        first.close()  # its process ends: the server lets go of the lock
        assert second.is_writer() and second.is_writer()
        second.close()

    def test_connections_lost_while_idle_do_not_fail_the_next_queries(self, plant, target, postgres):
        """A server restart kills every pooled connection; the next calls open new ones."""
        import psycopg

        history = open_history(target, plant)
        history.record(a_day(plant)[:100])
        with psycopg.connect(postgres.url(), autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
                [target.rsplit("/", 1)[1]],
            ).fetchone()[0]
        assert killed >= 1
        assert history.count() == 100
        assert len(history.record(a_day(plant)[:150]).new) == 50
        with psycopg.connect(postgres.url(), autocommit=True) as admin:  # and a batch first after it
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [target.rsplit("/", 1)[1]],
            )
        with pytest.raises(psycopg.OperationalError):
            history.record(a_day(plant)[150:200])  # the batch's transaction is the writer's to retry
        assert len(history.record(a_day(plant)[150:200]).new) == 50  # at once, on a new connection
        history.close()

    def test_a_server_that_cannot_be_reached_is_one_clear_message(self, plant):
        from factory.history import HistoryError
        from support import free_port

        with pytest.raises(HistoryError, match=r"cannot connect to the PostgreSQL history at tf@127\.0\.0\.1:\d+/tf"):
            open_history(f"postgresql://tf:secret@127.0.0.1:{free_port()}/tf?connect_timeout=3", plant)

    def test_a_bad_url_is_one_clear_message(self, plant):
        from factory.history import HistoryError

        with pytest.raises(HistoryError, match="not a valid PostgreSQL URL"):
            open_history("postgresql://tf@127.0.0.1:notaport/tf", plant)
        with pytest.raises(HistoryError, match="not a valid PostgreSQL URL"):
            open_history("postgresql://tf@127.0.0.1/tf?nosuchoption=1", plant)

    def test_the_cli_says_so_too_without_a_traceback(self, plant):
        from click.testing import CliRunner

        from factory.kpis_cli import kpis as kpis_command
        from support import free_port

        url = f"postgresql://tf:secret@127.0.0.1:{free_port()}/tf?connect_timeout=3"
        result = CliRunner().invoke(kpis_command, ["--history", url])
        assert result.exit_code == 1 and "cannot connect to the PostgreSQL history" in result.output
        assert "secret" not in result.output and "Traceback" not in result.output


__all__ = ["HistoryContract", "date"]
