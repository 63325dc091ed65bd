"""A restart is a non-event: the plant resumes where it stopped, nothing is recorded twice, figures hold.

Three restarts on one data directory (the third after kill -9): after each, the first hour's KPIs
are what they were, no figure exceeds 100 %, no event id or unit code is recorded twice, the
simulated clock goes on from where the record ended, and a unit that was in progress continues
from its station.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import requests

from factory.history import open_history
from factory.layout import load_plant
from support import DAY_SHIFT, ROOT, RunningApp

pytestmark = pytest.mark.e2e
KEY = "restart-test-key-0123456789"
PLANT = load_plant(ROOT / "factory.yaml")


def _kpis(app, start, end):
    r = requests.get(
        f"{app.base_url}/api/kpis",
        params={"from": start, "to": end},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _ratios_at_most_one(doc, path=""):
    for key, value in doc.items():
        if isinstance(value, dict):
            _ratios_at_most_one(value, f"{path}.{key}")
        elif key in ("oee", "availability", "quality", "first_pass_yield") and value is not None:
            assert value <= 1 + 1e-9, (f"{path}.{key}", value)


def _same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _wait_recorded(app, until: datetime):
    """Wait until the history holds the plant's events up to ``until`` (a condition, not a sleep)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        history = requests.get(f"{app.base_url}/ready", timeout=60).json()["parts"].get("history", {})
        if history.get("recorded_until") and datetime.fromisoformat(history["recorded_until"]) > until:
            return
        time.sleep(0.5)
    raise AssertionError("the history writer did not catch up")


def _in_progress(app, token):
    r = requests.get(f"{app.base_url}/api/orders/{token}", timeout=60)
    assert r.status_code == 200
    view = r.json()
    done = [s["id"] for s in view["steps"] if s["state"] == "done"]
    return view, done


def _start(tmp_path, *extra):
    return RunningApp("--speed", "60", "--seed", "5", "--api-key", KEY, *extra, data_dir=tmp_path)


def test_three_restarts_and_a_kill_change_nothing_recorded(tmp_path):
    t0 = datetime.fromisoformat(DAY_SHIFT.replace("Z", "+00:00")) - timedelta(hours=1)  # the warm-up's start
    hour = (t0.isoformat(), (t0 + timedelta(hours=1)).isoformat())
    first = _start(tmp_path, "--start", DAY_SHIFT)
    try:
        _wait_recorded(first, t0 + timedelta(hours=1, minutes=10))
        token = first.tracking_urls[0].rsplit("/", 1)[1]
        reference = _kpis(first, *hour)
        _ratios_at_most_one(reference)
        _view, done_before = _in_progress(first, token)
    finally:
        first.stop()

    for restart, how in enumerate(("term", "term", "kill"), 1):
        app = _start(tmp_path)
        try:
            assert "resuming the plant" in "".join(app.output)
            _wait_recorded(app, t0 + timedelta(hours=1, minutes=15 + 5 * restart))
            _same(_kpis(app, *hour), reference)  # the first hour is what it was
            _ratios_at_most_one(_kpis(app, hour[0], (t0 + timedelta(days=3)).isoformat()))
            _view, done = _in_progress(app, token)
            assert set(done_before) <= set(done), (restart, done_before, done)  # it went on, not back
            done_before = done
        finally:
            if how == "kill":
                app.proc.send_signal(signal.SIGKILL)
                app.proc.wait(30)
            else:
                app.stop()

    history = open_history(tmp_path / "history.duckdb", PLANT)
    try:
        twice = history.query("SELECT source, id FROM events GROUP BY source, id HAVING count(*) > 1")
        orders = history.query(
            "SELECT unit_code FROM events WHERE kind = 'placed' GROUP BY unit_code HAVING count(*) > 1"
        )
        assert twice == [] and orders == []
        entries = history.query(
            "SELECT unit_code, station_id, count(*) FROM events WHERE kind = 'station_entered' "
            "GROUP BY unit_code, station_id, json_extract(doc, '$.data.visit') "
            "HAVING count(*) > 1"
        )
        assert entries == []  # no unit entered the same station twice on the same visit (nothing re-simulated)
        assert history.count() > 6000
    finally:
        history.close()


def test_a_start_in_the_past_of_the_history_is_refused_or_reset(tmp_path):
    first = _start(tmp_path, "--start", DAY_SHIFT)
    try:
        _wait_recorded(first, datetime.fromisoformat(DAY_SHIFT.replace("Z", "+00:00")))
    finally:
        first.stop()
    refused = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--data-dir", str(tmp_path), "--start", DAY_SHIFT, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert refused.returncode == 2 and "would simulate that time again" in refused.stderr
    again = _start(tmp_path, "--start", DAY_SHIFT, "--reset")
    try:
        assert "a new plant" in "".join(again.output)
    finally:
        again.stop()
