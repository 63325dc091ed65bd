"""The collector policy: what survives is frozen, and frozen garbage cycles are still freed within the hour."""

from __future__ import annotations

import gc
import weakref

import pytest

from web.gc_pauses import LongLivedObjects


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def policy():
    clock = [0.0]
    p = LongLivedObjects(slow_s=0.0, full_every_s=3600.0, clock=lambda: clock[0])
    p.clock = clock  # type: ignore[attr-defined]
    yield p
    p.stop()
    gc.unfreeze()  # other tests in this process collect as usual


def _cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_start_freezes_what_exists_and_watches_the_collections(policy):
    policy.start()
    assert gc.get_freeze_count() > 0
    gc.collect(0)
    gc.collect(2)
    report = policy.report()
    assert report["collections"]["2"] >= 1 and report["collections"]["0"] >= 1
    assert report["longest_ms"]["2"] >= 0 and report["frozen_objects"] == gc.get_freeze_count()


def test_a_slow_full_collection_freezes_its_survivors_at_the_next_tick(policy):
    policy.start()
    frozen = gc.get_freeze_count()
    survivors = [Node() for _ in range(1000)]
    policy.tick()
    # No full collection yet: nothing frozen (the count may drop: frozen objects still die).
    assert gc.get_freeze_count() <= frozen and policy.freezes == 1
    gc.collect(2)  # slower than slow_s (0 here)
    policy.tick()
    assert gc.get_freeze_count() >= frozen + len(survivors)
    assert policy.freezes == 2


def test_a_garbage_cycle_frozen_by_mistake_is_freed_by_the_hourly_full_collection(policy):
    policy.start()
    ref = _cycle()  # alive now, garbage once the frames are gone ...
    gc.freeze()  # ... but frozen like a survivor
    gc.collect()
    assert ref() is not None  # the collector does not see it
    policy.clock[0] = 3599.0
    policy.tick()
    assert ref() is not None
    policy.clock[0] = 3600.0
    policy.tick()  # the hourly unfreeze and full collection
    assert ref() is None
    assert policy.full_collections == 1 and gc.get_freeze_count() > 0  # frozen again afterwards


def test_stop_leaves_the_collector_as_it_was(policy):
    policy.start()
    policy.stop()
    assert policy._note not in gc.callbacks


def test_a_server_of_many_sockets_freezes_every_so_often_after_freeing_young_cycles():
    clock = [0.0]
    policy = LongLivedObjects(slow_s=3600.0, full_every_s=3600.0, clock=lambda: clock[0], freeze_every_s=1.0)
    try:
        policy.start()
        waiting = [Node() for _ in range(1000)]  # what sockets wait on until their next frame
        young_garbage = _cycle()
        clock[0] = 0.5
        policy.tick()
        assert policy.freezes == 1  # not yet due, and no collection was slow
        clock[0] = 1.0
        policy.tick()
        assert policy.freezes == 2
        assert young_garbage() is None  # collected first, not frozen with the rest
        seen = {id(o) for o in gc.get_objects()}  # what a full collection walks
        assert not any(id(n) in seen for n in waiting)  # out of its sight
    finally:
        policy.stop()
        gc.unfreeze()
