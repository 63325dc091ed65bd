"""Room for viewers: the process raises its open-files limit to the hard one and counts two per viewer."""

from __future__ import annotations

import os
import resource
import time

import pytest
import socketio

from support import RunningApp
from web.open_files import PER_VIEWER, RESERVED, raise_open_files_limit, viewers_room


def test_the_soft_limit_is_raised_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard > 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))  # as a system starting us low would
        limit = raise_open_files_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == limit
        assert limit == (hard if hard != resource.RLIM_INFINITY else max(soft, limit))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_two_files_per_viewer_after_the_reserve():
    assert (PER_VIEWER, RESERVED) == (2, 256)
    assert viewers_room(1024) == 384  # (1,024 − 256) / 2: a default soft limit holds a few hundred
    assert viewers_room(20_000) == 9_872  # this machine's hard limit: not quite 10,000
    assert viewers_room(100) == 0
    assert viewers_room(20_000, per_viewer=1) == 19_744  # the push gateway: one descriptor a socket


@pytest.mark.e2e
def test_the_served_app_holds_two_descriptors_per_viewer_and_says_its_room(tmp_path):
    # simple-websocket duplicates each socket under gevent: what web/open_files.py counts on.
    app = RunningApp("--speed", "60", data_dir=tmp_path)
    try:
        token = app.tracking_urls[0].rsplit("/", 1)[1]
        files = lambda: len(os.listdir(f"/proc/{app.proc.pid}/fd"))  # noqa: E731
        before = files()
        clients = []
        for _ in range(20):
            client = socketio.Client(reconnection=False)
            client.connect(app.base_url, auth={"view": "track", "token": token}, transports=["websocket"])
            clients.append(client)
        time.sleep(1)
        grown = files() - before
        for client in clients:
            client.disconnect()
        assert 36 <= grown <= 46, grown  # about two each
        assert any("room for about" in line for line in app.output)
    finally:
        app.stop()
