"""A private PostgreSQL server for tests: its own cluster in a temporary folder, a free port, killable.

initdb and postgres refuse to run as root: when the tests run as root (CI does), the server runs
as the ``postgres`` user Debian's package creates (else ``nobody``), in a folder given to it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from support import free_port

USER = "tf"  # the cluster's superuser (trust authentication on loopback: test data only)


def server_binaries() -> Path:
    """Return the folder with initdb and postgres: Debian's newest /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    for name in ("initdb", "pg_config"):
        path = shutil.which(name)
        if path and name == "initdb":
            return Path(path).parent
        if path:
            bindir = subprocess.run([path, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
            if bindir and (Path(bindir) / "initdb").exists():
                return Path(bindir)
    raise RuntimeError("PostgreSQL's server is missing: run scripts/test.sh, which installs Debian's postgresql")


class PostgresServer:
    def __init__(self, durable: bool = False) -> None:
        """``durable``: fsync and synchronous commits as a real server has them (tests do without)."""
        self.bin = server_binaries()
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="tf-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]
        self.proc: subprocess.Popen | None = None
        self._log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - open for the server's life
        result = subprocess.run(
            [*self._as, str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, check=False, cwd=self.folder,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr.strip()[-2000:]}")
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*self._as, str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
             *([] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                        "-c", "full_page_writes=off"])],
            stdout=subprocess.DEVNULL, stderr=self._log, cwd=self.folder,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("postgres did not start")

    def create_database(self, name: str) -> str:
        """Make an empty database; return its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def kill(self) -> None:
        """Kill -9: no chance to shut down cleanly, like a power cut."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: fast shutdown, clients are disconnected
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        self._log.close()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)
