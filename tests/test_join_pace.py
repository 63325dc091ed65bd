"""The join pace: a token bucket worked by hand on a fake clock, and the gateway that waits on it."""

from __future__ import annotations

from collections import Counter

import pytest

from config import Settings
from support import TOKEN_A, TOKEN_B, client_as
from web.push.join_pace import JOIN_BURST, JoinPace


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _pace(rate: float, burst: int) -> tuple[JoinPace, FakeClock]:
    clock = FakeClock()
    return JoinPace(rate, burst, clock=clock, sleep=clock.sleep), clock


def test_the_nth_of_simultaneous_requests_waits_for_its_turn_after_the_burst():
    pace, _ = _pace(rate=2.0, burst=3)
    # max(0, n - 3) / 2 for n = 1..6: three at once, then one every half second
    assert [pace.reserve() for _ in range(6)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]


@pytest.mark.parametrize(("rate", "burst", "n"), [(200.0, 30, 1000), (150.0, 50, 400), (7.0, 1, 20)])
def test_any_burst_and_rate_follow_the_formula(rate, burst, n):
    pace, _ = _pace(rate, burst)
    delays = [pace.reserve() for _ in range(n)]
    assert delays == pytest.approx([max(0, k - burst) / rate for k in range(1, n + 1)])


def test_with_the_apps_defaults_a_storm_of_a_thousand_takes_under_seven_seconds_and_under_a_fifth_a_second():
    pace, _ = _pace(rate=Settings().join_rate, burst=JOIN_BURST)
    per_second = Counter(int(pace.reserve()) for _ in range(1000))
    assert max(per_second) == 6  # the last is admitted at (1000 - 30) / 150 = 6.47 s
    assert per_second[0] == 30 + 149 and max(per_second.values()) < 200


def test_the_bucket_refills_at_the_rate_and_never_beyond_the_burst():
    pace, clock = _pace(rate=4.0, burst=1)
    assert pace.reserve() == 0.0
    assert pace.reserve() == 0.25  # the bucket is one token short
    clock.now = 0.125  # half a token back: the third is due at 0.5 s, 0.375 s from now
    assert pace.reserve() == pytest.approx(0.375)
    clock.now = 100.0  # long idle: one token (the burst), not 400
    assert [pace.reserve() for _ in range(2)] == [0.0, 0.25]


def test_wait_sleeps_only_when_the_burst_is_spent():
    pace, clock = _pace(rate=10.0, burst=2)
    assert [pace.wait() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert clock.slept == pytest.approx([0.1, 0.2])


def test_rate_zero_is_unpaced_and_nonsense_is_refused():
    pace, _ = _pace(rate=0.0, burst=1)
    assert {pace.reserve() for _ in range(1000)} == {0.0}
    with pytest.raises(ValueError):
        JoinPace(-1.0)
    with pytest.raises(ValueError):
        JoinPace(10.0, burst=0)


# --- the gateway ----------------------------------------------------------------------------------


@pytest.fixture
def paced(factory, monkeypatch):
    """The app's gateway with a burst of one and a clock that stands still; its deferred joins are
    collected in a list for the test to run, instead of in background tasks."""
    pace, clock = _pace(rate=10.0, burst=1)
    factory.extras["gateway"].pace = pace
    tasks: list = []
    monkeypatch.setattr(factory.socketio, "start_background_task", lambda target, *args: tasks.append((target, args)))
    return tasks, clock


def _socket(factory, token):
    client = client_as(factory)
    return factory.socketio.test_client(
        factory.dash_app.server, auth={"view": "track", "token": token}, flask_test_client=client
    )


def _frames(client):
    return [m["args"][0] for m in client.get_received()]


def test_a_join_beyond_the_burst_is_accepted_at_once_and_gets_its_view_at_its_turn(factory, paced):
    tasks, clock = paced
    first = _socket(factory, TOKEN_A)
    assert len(_frames(first)) == 1 and tasks == []  # the burst: at once, in the handshake
    second = _socket(factory, TOKEN_B)
    assert second.is_connected() and _frames(second) == [] and len(factory.rooms.members) == 1
    ((target, args),) = tasks
    target(*args)
    assert clock.slept == [0.1]
    frames = _frames(second)
    assert len(frames) == 1 and "v" in frames[0]
    assert len(factory.rooms.members) == 2 and factory.rooms.watchers[f"order:{TOKEN_B}"] == 1


def test_a_socket_that_leaves_while_waiting_is_sent_nothing_and_leaves_no_membership(factory, paced):
    tasks, _ = paced
    _socket(factory, TOKEN_A)
    second = _socket(factory, TOKEN_B)
    second.disconnect()
    ((target, args),) = tasks
    target(*args)  # no error, no frame built for nobody
    assert f"order:{TOKEN_B}" not in factory.rooms.watchers and len(factory.rooms.members) == 1
    assert factory.extras["gateway"].refused == 0


def test_a_resync_waits_its_turn_and_is_dropped_if_the_socket_left_meanwhile(factory, paced):
    _, clock = paced
    viewer = _socket(factory, TOKEN_A)
    first = _frames(viewer)[0]
    viewer.emit("resync")
    again = _frames(viewer)
    assert clock.slept == [0.1] and len(again) == 1 and again[0]["s"] == first["s"]

    (sid,) = factory.rooms.members
    clock.sleep = lambda _s: factory.rooms.leave(sid)  # it disconnects while its resync waits
    factory.extras["gateway"].pace.sleep = clock.sleep
    viewer.emit("resync")
    assert _frames(viewer) == []
