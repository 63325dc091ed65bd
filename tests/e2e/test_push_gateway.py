"""A customer's tracker page, served by a worker, live through the push gateway (tf push), in real Chromium."""

from __future__ import annotations

import pytest

from redis_server import RedisServer
from support import RunningApp, RunningGateway, emulate_on_redis, free_port, stop_process

pytestmark = pytest.mark.e2e


def test_a_tracker_page_moves_with_frames_from_the_gateway(browser, tmp_path, screenshots):
    server = RedisServer(tmp_path / "redis")
    emulator = emulate_on_redis(server.url)  # orders on the line before the worker starts, so it prints their links
    gateway = worker = None
    try:
        port = free_port()
        gateway = RunningGateway("--allowed-origin", f"http://127.0.0.1:{port}", redis_url=server.url)
        flags = ("--redis-url", server.url, "--no-emulator", "--push-url", gateway.base_url)
        worker = RunningApp(*flags, data_dir=tmp_path / "w", port=port)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(worker.tracking_urls[0])
        page.wait_for_selector(".freshness.live")
        assert gateway.health()["viewers"] == 1  # the page's socket is the gateway's, not the worker's
        done_before = page.locator(".step-done").count()
        page.wait_for_function(  # the unit leaves a station: one more step is done, pushed by the gateway
            "(n) => document.querySelectorAll('.step-done').length > n", arg=done_before, timeout=120_000
        )
        assert gateway.health()["frames_sent"] >= 1
        assert not refused, refused
        page.screenshot(path=str(screenshots / "tracker-through-gateway.png"), full_page=True)
        page.close()
    finally:
        for part in (worker, gateway):
            if part is not None:
                part.stop()
        stop_process(emulator)
        server.stop()
