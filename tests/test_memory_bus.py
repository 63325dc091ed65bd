import threading
import time

from streams.memory import MemoryBus


def test_read_returns_entries_after_an_offset(events):
    bus = MemoryBus()
    published = [events.entered(i, f"U{i}", "kitting") for i in range(5)]
    offsets = bus.publish_many(published)
    assert offsets == ["1", "2", "3", "4", "5"]
    assert [e for _, e in bus.read()] == published
    assert [e for _, e in bus.read(after="3")] == published[3:]
    assert [o for o, _ in bus.read(after="1", limit=2)] == ["2", "3"]
    assert bus.read(after="5") == []


def test_blocking_read_wakes_on_publish(events):
    bus = MemoryBus()
    got = []
    reader = threading.Thread(target=lambda: got.extend(bus.read(block_s=5)))
    reader.start()
    time.sleep(0.05)
    bus.publish(events.completed(0, "U1"))
    reader.join(2)
    assert not reader.is_alive() and len(got) == 1


def test_blocking_read_returns_empty_after_timeout():
    assert MemoryBus().read(block_s=0.05) == []


def test_subscribers_get_each_event_until_unsubscribed(events):
    bus = MemoryBus()
    seen = []
    unsubscribe = bus.subscribe(lambda offset, event: seen.append(offset))
    bus.publish(events.completed(0, "U1"))
    unsubscribe()
    bus.publish(events.completed(1, "U2"))
    assert seen == ["1"]


def test_retention_drops_oldest_but_offsets_keep_counting(events):
    bus = MemoryBus(max_len=3)
    bus.publish_many(events.completed(i, f"U{i}") for i in range(5))
    entries = bus.read()
    assert [o for o, _ in entries] == ["3", "4", "5"]
    assert [o for o, _ in bus.read(after="1")] == ["3", "4", "5"]
