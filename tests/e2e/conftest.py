"""Real processes and a real browser: the app as a subprocess, Debian's headless Chromium."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which a closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class RunningApp:
    """``python app.py`` on a free port, with the URLs it printed at start."""

    def __init__(self, *args: str, start_timeout_s: float = 20.0) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), *args]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.output: list[str] = []
        self.tracking_urls: list[str] = []
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            match = re.search(r"(http://\S+/track/\S+)", line)
            if match:
                self.tracking_urls.append(match.group(1))
            if "Tracking link" not in line and self.tracking_urls:
                break
            if len(self.tracking_urls) >= 3:
                break
        if not self.tracking_urls:
            self.stop()
            raise RuntimeError("app did not print tracking links:\n" + "".join(self.output))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app():
    app = RunningApp("--speed", "120", "--seed", "42")
    yield app
    app.stop()
