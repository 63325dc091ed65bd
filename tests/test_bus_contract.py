"""One contract, every bus: the in-memory one and Redis Streams against a real redis-server."""

from __future__ import annotations

import threading
import time

import pytest

from redis_server import RedisServer
from streams import events as ev
from streams.memory import MemoryBus
from streams.redis_streams import RedisStreamsBus
from streams.site_streams import LayoutMismatch, SiteStreamsBus, open_redis_events
from support import T0, EventFactory


class BusContract:
    """Subclasses provide a ``bus`` fixture; every test here must hold for every backend."""

    @pytest.fixture
    def events(self):
        return EventFactory()

    def test_read_returns_what_was_published_in_order(self, bus, events):
        published = [events.entered(i, f"U{i}", "kitting") for i in range(5)]
        offsets = bus.publish_many(published)
        entries = bus.read()
        assert [e for _, e in entries] == published
        assert [o for o, _ in entries] == offsets and len(set(offsets)) == 5

    def test_read_after_an_offset_and_with_a_limit(self, bus, events):
        published = [events.entered(i, f"U{i}", "kitting") for i in range(5)]
        offsets = bus.publish_many(published)
        assert [e for _, e in bus.read(after=offsets[2])] == published[3:]
        assert [o for o, _ in bus.read(after=offsets[0], limit=2)] == offsets[1:3]
        assert bus.read(after=offsets[-1]) == []

    def test_publish_returns_the_offset_read_gives(self, bus, events):
        offset = bus.publish(events.completed(0, "U1"))
        assert bus.read()[0][0] == offset

    def test_blocking_read_wakes_on_publish(self, bus, events):
        got = []
        reader = threading.Thread(target=lambda: got.extend(bus.read(block_s=1.0)))
        reader.start()
        time.sleep(0.1)
        bus.publish(events.completed(0, "U1"))
        reader.join(3)
        assert not reader.is_alive() and len(got) == 1

    def test_blocking_read_returns_empty_after_its_wait(self, bus):
        started = time.monotonic()
        assert bus.read(block_s=0.2) == []
        assert time.monotonic() - started < 2

    def test_subscribers_get_new_events_until_unsubscribed(self, bus, events):
        bus.publish(events.completed(0, "before"))
        seen = []
        unsubscribe = bus.subscribe(lambda offset, event: seen.append(event.unit_code))
        bus.publish(events.completed(1, "U1"))
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        unsubscribe()
        time.sleep(MAX_SETTLE_S)
        bus.publish(events.completed(2, "U2"))
        time.sleep(MAX_SETTLE_S)
        assert seen == ["U1"]

    def test_a_thousand_events_arrive_exactly_once(self, bus, events):
        published = [events.entered(i, f"U{i}", "kitting") for i in range(1000)]
        for start in range(0, 1000, 250):
            bus.publish_many(published[start : start + 250])
        got, after = [], None
        while True:
            batch = bus.read(after, limit=300)
            if not batch:
                break
            got += [e for _, e in batch]
            after = batch[-1][0]
        assert got == published

    def test_a_reader_overtaken_by_retention_is_told_what_it_missed(self, small_bus, events):
        offsets = small_bus.publish_many([events.entered(i, f"U{i}", "kitting") for i in range(10)])
        assert [o for o, _ in small_bus.read(limit=2)] == offsets[:2]
        for start in range(0, 1000, 250):  # far more than the bus keeps
            small_bus.publish_many([events.completed(i, f"V{i}") for i in range(start, start + 250)])
        resumed = small_bus.read(after=offsets[1], limit=10)
        assert resumed and resumed[0][0] != offsets[2]
        [gap] = small_bus.gaps
        assert (gap.after, gap.resumed) == (offsets[1], resumed[0][0])
        small_bus.read(after=resumed[-1][0], limit=10)  # goes on from where it is: nothing more missed
        assert len(small_bus.gaps) == 1

    def test_a_reader_that_keeps_up_misses_nothing(self, small_bus, events):
        after = None
        for start in range(0, 1000, 100):
            small_bus.publish_many([events.completed(i, f"U{i}") for i in range(start, start + 100)])
            while batch := small_bus.read(after, limit=30):
                after = batch[-1][0]
        assert small_bus.gaps == []


MAX_SETTLE_S = 1.3  # a Redis subscriber notices an unsubscribe within one blocking read (1 s)


class TestMemoryBus(BusContract):
    @pytest.fixture
    def bus(self):
        bus = MemoryBus()
        yield bus
        bus.close()

    @pytest.fixture
    def small_bus(self):
        return MemoryBus(max_len=100)  # as much as Redis keeps of the small stream below

    def test_a_gap_counts_the_events_missed(self, events):
        bus = MemoryBus(max_len=5)
        bus.publish_many(events.completed(i, f"U{i}") for i in range(12))
        assert [o for o, _ in bus.read(after="2", limit=1)] == ["8"]
        assert bus.gaps[0].missed == 5  # offsets 3 to 7


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


class TestRedisStreamsBus(BusContract):
    @pytest.fixture
    def bus(self, redis_server, request):
        bus = RedisStreamsBus(redis_server.url, stream=f"test:{request.node.name}")
        yield bus
        bus.close()

    @pytest.fixture
    def small_bus(self, redis_server, request):
        # MAXLEN ~ trims whole radix-tree nodes (100 entries each by default): 5 keeps about 100
        bus = RedisStreamsBus(redis_server.url, stream=f"small:{request.node.name}", max_len=5)
        yield bus
        bus.close()

    def test_undecodable_entries_go_to_the_dead_letter_stream(self, bus, redis_server, events):
        import redis

        client = redis.Redis.from_url(redis_server.url)
        good = events.completed(0, "U1")
        client.xadd(bus.stream, {"e": b"{not json"})
        bus.publish(good)
        assert [e for _, e in bus.read()] == [good]
        dead = client.xrange(bus.dead_letters)
        assert dead[-1][1][b"reason"] == b"bad_json"
        assert int(client.hget(f"{bus.dead_letters}:count", "bad_json")) >= 1

    def test_two_readers_of_one_bus_decode_each_entry_once_and_dead_letter_it_once(self, bus, redis_server, events):
        import redis

        client = redis.Redis.from_url(redis_server.url)
        dead_before = client.xlen(bus.dead_letters)
        client.xadd(bus.stream, {"e": b"{not json"})
        published = [events.entered(i, f"U{i}", "kitting") for i in range(3)]
        bus.publish_many(published)
        first, second = bus.read(), bus.read()  # the pump, then the history writer
        assert [e for _, e in first] == [e for _, e in second] == published
        assert all(a[1] is b[1] for a, b in zip(first, second))  # decoded once
        assert client.xlen(bus.dead_letters) == dead_before + 1  # not once per reader

    def test_acknowledged_events_survive_kill_9(self, tmp_path, events):
        server = RedisServer(tmp_path)
        try:
            bus = RedisStreamsBus(server.url)
            published = [events.entered(i, f"U{i}", "kitting") for i in range(500)]
            bus.publish_many(published)
            time.sleep(1.2)  # appendfsync everysec: acknowledged writes reach the disk within a second
            server.kill()
            server.start()
            bus = RedisStreamsBus(server.url)
            assert [e for _, e in bus.read(limit=1000)] == published
        finally:
            server.stop()


class TestConsumerGroups:
    @pytest.fixture
    def bus(self, redis_server, request):
        bus = RedisStreamsBus(redis_server.url, stream=f"group:{request.node.name}")
        yield bus
        bus.close()

    def test_a_group_shares_entries_out_once_each(self, bus):
        from streams.redis_streams import GroupReader

        events = EventFactory()
        published = [events.completed(i, f"U{i}") for i in range(40)]
        bus.publish_many(published)
        a, b = GroupReader(bus, "g", "a"), GroupReader(bus, "g", "b")
        got_a, got_b = a.read(limit=25), b.read(limit=25)
        a.ack([o for o, _ in got_a])
        b.ack([o for o, _ in got_b])
        assert sorted(e.unit_code for _, e in got_a + got_b) == sorted(e.unit_code for e in published)
        assert len(got_a) == 25 and len(got_b) == 15

    def test_a_dead_consumers_pending_entries_are_claimed(self, bus):
        from streams.redis_streams import GroupReader

        events = EventFactory()
        bus.publish_many([events.completed(i, f"U{i}") for i in range(10)])
        doomed = GroupReader(bus, "g", "doomed", claim_idle_s=0.2)
        taken = doomed.read(limit=10)
        assert len(taken) == 10  # ... and the consumer dies before acknowledging any of them
        heir = GroupReader(bus, "g", "heir", claim_idle_s=0.2)
        assert heir.read(limit=10) == []  # not idle long enough yet
        time.sleep(0.3)
        claimed = heir.read(limit=10)
        assert [o for o, _ in claimed] == [o for o, _ in taken]
        heir.ack([o for o, _ in claimed])
        assert bus._redis.xpending(bus.stream, "g")["pending"] == 0

    def test_a_poison_entry_is_dead_lettered_after_bounded_deliveries(self, bus, redis_server):
        import redis

        from streams.redis_streams import GroupReader

        events = EventFactory()
        bus.publish_many([events.completed(0, "poison"), events.completed(1, "fine")])
        reader = GroupReader(bus, "g", "w", claim_idle_s=0.05, max_deliveries=3)
        seen = []
        for _ in range(8):
            for offset, event in reader.read(limit=10):
                seen.append(event.unit_code)
                if event.unit_code != "poison":  # processing the poison entry always fails: never acked
                    reader.ack([offset])
            time.sleep(0.06)
        assert seen.count("fine") == 1 and seen.count("poison") == 3
        client = redis.Redis.from_url(redis_server.url)
        assert client.xrange(bus.dead_letters)[-1][1][b"reason"] == b"poison"
        assert client.xpending(bus.stream, "g")["pending"] == 0


SITE_OF_LINE = {"ac1": "zhengzhou", "fr1": "shenyang"}


def _site_streams(url: str, prefix: str, max_len: int | None = 1_000_000) -> SiteStreamsBus:
    sites = sorted(set(SITE_OF_LINE.values()))
    return SiteStreamsBus(url, sites, lambda e: SITE_OF_LINE.get(getattr(e, "line_id", "")), max_len, prefix=prefix)


class TestSiteStreamsBus(BusContract):
    """The same contract over one stream per site (here every event of the contract is one site's)."""

    @pytest.fixture
    def bus(self, redis_server, request):
        bus = _site_streams(redis_server.url, f"sites:{request.node.name}")
        yield bus
        bus.close()

    @pytest.fixture
    def small_bus(self, redis_server, request):
        bus = _site_streams(redis_server.url, f"small-sites:{request.node.name}", max_len=5)
        yield bus
        bus.close()

    def test_a_quiet_site_s_event_is_not_queued_behind_a_busy_site_s_burst(self, bus):
        busy, quiet = EventFactory("ac1"), EventFactory("fr1")
        bus.publish_many(busy.entered(i / 100, f"U{i}", "kitting") for i in range(3000))
        probe = quiet.entered(0, "F1", "door_foaming")
        bus.publish(probe)
        first = bus.read(limit=100)
        assert len(first) == 100 and probe in [e for _, e in first][:2]

    def test_two_sites_interleaved_arrive_exactly_once_and_each_in_order(self, bus):
        a, b = EventFactory("ac1"), EventFactory("fr1")
        published = {"ac1": [], "fr1": [], None: []}
        for i in range(600):
            event = (a if i % 3 else b).entered(i, f"U{i}", "kitting")
            published[event.line_id].append(event)
        drafts = [  # no line: the enterprise's stream
            ev.ConfigurationDrafted(id=f"d-{i}", source="/configurator", time=T0, session_id=f"s{i}", product="ac")
            for i in range(5)
        ]
        published[None] = drafts
        bus.publish_many([*published["ac1"][:300], *drafts, *published["fr1"], *published["ac1"][300:]])
        got, after = [], None
        while batch := bus.read(after, limit=70):
            got += [e for _, e in batch]
            after = batch[-1][0]
        for line, events in published.items():  # each site's own order; nothing twice, nothing lost
            assert [e for e in got if getattr(e, "line_id", None) == line] == events
        assert len(got) == 605
        assert bus.read(after) == [] and bus.read(bus.tail()) == []


class TestStreamLayout:
    SITES = ("shenyang", "zhengzhou")

    @staticmethod
    def _open(url, per_site):
        return open_redis_events(url, TestStreamLayout.SITES, lambda e: None, per_site, wait_s=0)

    def test_the_first_process_chooses_and_the_others_follow(self, tmp_path):
        server = RedisServer(tmp_path)
        try:
            assert isinstance(self._open(server.url, True), SiteStreamsBus)
            assert isinstance(self._open(server.url, None), SiteStreamsBus)  # an emulator started without the flag
            with pytest.raises(LayoutMismatch, match="with --stream-per-site"):
                self._open(server.url, False)
        finally:
            server.stop()

    def test_a_redis_carrying_one_stream_is_not_split_under_its_readers(self, tmp_path):
        server = RedisServer(tmp_path)
        try:
            legacy = RedisStreamsBus(server.url)  # written before layouts were recorded
            legacy.publish(EventFactory().completed(0, "U1"))
            with pytest.raises(LayoutMismatch, match="of their own"):
                self._open(server.url, True)
            assert isinstance(self._open(server.url, None), RedisStreamsBus)
            with pytest.raises(LayoutMismatch, match="without --stream-per-site"):
                self._open(server.url, True)
        finally:
            server.stop()

    def test_an_unreachable_redis_is_refused_with_the_reason(self):
        with pytest.raises(LayoutMismatch, match="cannot reach Redis"):
            self._open("redis://127.0.0.1:1/0", None)
