"""What only the in-memory bus promises (the shared contract is in test_bus_contract.py)."""

from streams.memory import MemoryBus


def test_offsets_count_from_one(events):
    assert MemoryBus().publish_many([events.completed(0, "U1"), events.completed(1, "U2")]) == ["1", "2"]


def test_retention_drops_oldest_but_offsets_keep_counting(events):
    bus = MemoryBus(max_len=3)
    bus.publish_many(events.completed(i, f"U{i}") for i in range(5))
    assert [o for o, _ in bus.read()] == ["3", "4", "5"]
    assert [o for o, _ in bus.read(after="1")] == ["3", "4", "5"]
