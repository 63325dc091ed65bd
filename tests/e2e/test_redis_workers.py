"""One emulator and two app workers on one Redis: a browser on either worker sees the same plant live."""

from __future__ import annotations

import time

import pytest

from redis_server import RedisServer
from support import RunningApp, emulate_on_redis, stop_process
from web.accounts_cli import register_kiosk
from web.control_log import open_control_log

pytestmark = pytest.mark.e2e


def test_two_workers_show_the_same_units_moving(browser, tmp_path):
    server = RedisServer(tmp_path / "redis")
    emulator = emulate_on_redis(server.url)  # orders on the line before the workers start
    workers = []
    try:
        kiosk = register_kiosk(open_control_log(None, server.url), "hall", None, None, "test")
        for name in ("a", "b"):
            workers.append(RunningApp("--redis-url", server.url, "--no-emulator", data_dir=tmp_path / name))  # noqa: PERF401 -- one by one, so a failed start still stops the first
        pages = []
        for worker in workers:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(f"{worker.base_url}/kiosk/{kiosk}")
            page.goto(worker.base_url + "/floor?line=ac1")
            page.wait_for_selector(
                ".freshness.live",
            )
            pages.append(page)
        # The same unit, seen on both workers, moves on both. A unit crosses the whole line in
        # seconds at this speed, so each screen is read in one evaluation and the unit is one
        # both screens show at the same moment (a chip read twice may have left in between).
        units_at = (
            "() => Object.fromEntries([...document.querySelectorAll('.station-tile .unit-chip')]"
            ".map(c => [c.title, c.closest('.station-tile').dataset.station]))"
        )
        deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
        while True:
            seen = [page.evaluate(units_at) for page in pages]
            common = sorted(set(seen[0]) & set(seen[1]))
            if common or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert common, "no unit on both screens at once"
        unit = common[-1]  # the latest order: the longest way still ahead of it
        stations = [where[unit] for where in seen]
        for page, before in zip(pages, stations):
            page.wait_for_function(
                """([unit, before]) => {
                     const chip = document.querySelector(`.unit-chip[title="${unit}"]`);
                     return !chip || chip.closest('.station-tile').dataset.station !== before;
                   }""",
                arg=[unit, before],
            )
        # And the two screens agree on where every unit of the line is (sampled until two
        # back-to-back readings match, since each worker pushes on its own four-per-second beat).
        script = (
            "tiles => tiles.map(t => [t.dataset.station, "
            "[...t.querySelectorAll('.unit-chip')].map(c => c.title).join(',')])"
        )
        deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
        while True:
            layouts = [page.eval_on_selector_all(".station-tile", script) for page in pages]
            if layouts[0] == layouts[1] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert layouts[0] == layouts[1]
    finally:
        for worker in workers:
            worker.stop()
        stop_process(emulator)
        server.stop()
