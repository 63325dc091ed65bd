"""The history writer's own logic, with in-memory buses and history."""

from __future__ import annotations

import pytest

from factory.history import open_history
from factory.history.writer import Recorder
from streams.memory import MemoryBus


class StrictBus(MemoryBus):
    """Refuses a read of nothing, as Redis does (XREAD COUNT 0 is an error)."""

    def read(self, after=None, limit=1000, block_s=0.0):
        assert limit > 0, "asked for no entries"
        return super().read(after, limit, block_s)


def test_a_full_batch_leaves_the_other_buses_for_the_next_one(plant, events):
    history = open_history(None, plant)
    first, second = StrictBus(), StrictBus()
    first.publish_many([events.placed(0, f"U{i}", token=f"token-U{i}-0123456789") for i in range(10)])
    second.publish_many([events.placed(1, f"V{i}", token=f"token-V{i}-0123456789") for i in range(3)])
    recorder = Recorder(history, {"events": first, "control": second}, batch=10)
    assert recorder.step() == 10  # the first bus filled the batch
    assert recorder.step() == 3
    assert recorder.step() == 0
    assert history.count() == 13


class FlakyBus(MemoryBus):
    """Fails the next read once when told to, as a Redis that goes away does."""

    fail_next = False

    def read(self, after=None, limit=1000, block_s=0.0):
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("bus away")
        return super().read(after, limit, block_s)


def test_a_bus_that_fails_mid_read_loses_nothing_already_read(plant, events):
    history = open_history(None, plant)
    first, second = MemoryBus(), FlakyBus()
    first.publish_many([events.placed(0, f"U{i}", token=f"token-U{i}-0123456789") for i in range(4)])
    recorder = Recorder(history, {"events": first, "control": second})
    second.fail_next = True  # the first bus was read, then the second one fails
    with pytest.raises(ConnectionError):  # the supervisor restarts the task; the recorder object is the same
        recorder.step()
    assert recorder.step() == 4
    assert history.count() == 4


def test_a_shared_store_that_cannot_be_asked_is_an_outage_not_another_workers_turn(plant, events):
    """Not the writer because the store is away: /ready must see an unhealthy writer, not a standby."""
    import threading

    history = open_history(None, plant)
    answers = iter([(False, "OperationalError: connection refused"), (False, None), (True, None)])
    turns: list[bool] = []

    def is_writer() -> bool:
        mine, history.writer_unreachable = next(answers, (True, None))
        turns.append(mine)
        if len(turns) >= 3:
            stop.set()  # its turn: it takes over, flushes and returns
        return mine

    stop = threading.Event()
    recorder = Recorder(history, {"events": MemoryBus()}, is_writer=is_writer, linger_s=0.0)
    seen: list[tuple[bool, bool, str | None]] = []

    def sleep(_s: float) -> None:  # after each look at the writer's turn that was not its own
        seen.append((recorder.healthy, recorder.standby, recorder.last_error))

    recorder.run(stop, sleep)
    assert seen[0] == (False, True, "OperationalError: connection refused")  # the store is away
    assert seen[1] == (True, True, None)  # it answers again; another worker writes
    assert recorder.healthy and not recorder.standby  # its turn: it took over
