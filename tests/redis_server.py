"""A private redis-server for a test: free port, its own folder, append-only file, killable."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from support import free_port


class RedisServer:
    def __init__(self, folder) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing: run scripts/test.sh, which installs Debian's redis-server")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._binary = binary
        self.proc = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """Kill -9: no chance to flush, like a power cut."""
        self.proc.kill()
        self.proc.wait(5)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
