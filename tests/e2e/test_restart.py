"""A restart keeps everything: history on disk, old orders still tracked, unit codes never reused."""

from __future__ import annotations

import time

import pytest
import requests

from factory.history import History
from support import DAY_SHIFT, RunningApp

pytestmark = pytest.mark.e2e
# The second run starts the next day, as a later restart would (the same start would replay the
# same simulated run, with the same event ids).
NEXT_DAY_SHIFT = "2026-03-03T03:20:00Z"


def test_orders_of_an_earlier_run_are_still_tracked_after_a_restart(tmp_path):
    first = RunningApp("--speed", "60", "--seed", "5", "--start", DAY_SHIFT, data_dir=tmp_path)
    try:
        old_token = first.tracking_urls[0].rsplit("/", 1)[1]
        assert requests.get(first.tracking_urls[0], timeout=5).status_code == 200
        time.sleep(1.5)  # a batch or two for the history writer
    finally:
        first.stop()
    stored = History(tmp_path / "history.duckdb")
    stored_before, numbers_before = stored.count(), stored.next_order_numbers()
    stored.close()
    assert stored_before > 1000  # the warm-up hour of three lines, at least

    second = RunningApp("--speed", "60", "--seed", "5", "--start", NEXT_DAY_SHIFT, data_dir=tmp_path)
    try:
        assert all(old_token not in url for url in second.tracking_urls)
        assert requests.get(f"{second.base_url}/track/{old_token}", timeout=5).status_code == 200  # from history
        time.sleep(1.5)
    finally:
        second.stop()
    stored = History(tmp_path / "history.duckdb")
    try:
        assert stored.count() > stored_before
        reused = stored.frame(
            "SELECT unit_code FROM events WHERE type = 'placed' GROUP BY unit_code HAVING count(*) > 1"
        )
        assert reused.empty
        assert all(stored.next_order_numbers()[line] > n for line, n in numbers_before.items())
    finally:
        stored.close()
