"""Helpers shared by tests: paths, free ports, an event builder."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streams import codec
from streams import events as ev

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# 11:20 at the plant (UTC+8), past the meal break: an app started here warms up a busy hour and
# shows a working floor, whatever the time
# of the test run (at night the order pattern places a few dozen orders an hour).
DAY_SHIFT = "2026-03-02T03:20:00Z"


def free_port() -> int:
    """Return a TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EventFactory:
    """Builds events of one source with increasing ids, at given minutes after T0."""

    def __init__(self, line_id: str = "ac1") -> None:
        self.line_id = line_id
        self.n = 0

    def _env(self, minute: float) -> dict:
        self.n += 1
        return {"id": f"t-{self.n}", "source": f"/test/{self.line_id}", "time": T0 + timedelta(minutes=minute)}

    def placed(self, minute, unit, token=None, options=None):
        return ev.OrderPlaced(
            **self._env(minute),
            order_id=f"SO-{unit}",
            unit_code=unit,
            tracking_token=token or f"token-{unit}-0123456789",
            line_id=self.line_id,
            product="air_conditioner",
            options=options or {"model": "AS12", "wifi": "wifi"},
        )

    def entered(self, minute, unit, station, visit=1):
        return ev.StationEntered(
            **self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit
        )

    def exited(self, minute, unit, station, visit=1):
        return ev.StationExited(
            **self._env(minute), unit_code=unit, line_id=self.line_id, station_id=station, visit=visit
        )

    def completed(self, minute, unit):
        return ev.UnitCompleted(**self._env(minute), unit_code=unit, line_id=self.line_id)


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, as a service manager stops it; SIGKILL if it has not exited within 30 s."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def emulate_on_redis(redis_url: str, min_entries: int = 200) -> subprocess.Popen:
    """Run ``python -m line_emulator`` into Redis (paced, fast) until stopped; return once the stream has orders."""
    import redis

    emulator = subprocess.Popen(
        [sys.executable, "-m", "line_emulator", "--redis-url", redis_url, "--speed", "120", "--duration", "1d"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 120  # generous: a loaded machine is slow, not wrong
    while client.xlen("tf:events") < min_entries and time.monotonic() < deadline and emulator.poll() is None:
        time.sleep(0.1)
    return emulator


class RunningApp:
    """``python app.py`` on a free port, with the URLs it printed at start.

    Its output is read all the time by a thread of its own (a full pipe would stop the app) and
    kept in ``output``; waiting for the start has a generous ceiling, never a tight one.
    """

    def __init__(
        self,
        *args: str,
        data_dir: Path,
        start_timeout_s: float = 300.0,
        port: int | None = None,
        tracking_links: bool = True,
        env: dict | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), "--data-dir", str(data_dir), *args]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.output: list[str] = []
        self.tracking_urls: list[str] = []
        self.kiosk_url: str | None = None
        self._banner_done = threading.Event()
        self._want_links = tracking_links
        threading.Thread(target=self._read, daemon=True).start()
        if not self._banner_done.wait(start_timeout_s) or (tracking_links and not self.tracking_urls):
            self.stop()
            raise RuntimeError("app did not print its banner:\n" + "".join(self.output))
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:  # the links are printed just before the server listens
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"app is not listening on port {self.port}:\n" + "".join(self.output))

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output.append(line)
            kiosk = re.search(r"(http://\S+/kiosk/\S+)", line)
            if kiosk:
                self.kiosk_url = kiosk.group(1)
            match = re.search(r"(http://\S+/track/\S+)", line)
            if match:
                self.tracking_urls.append(match.group(1))
            if (
                line.startswith("API key")
                or len(self.tracking_urls) >= 3
                or (not self._want_links and "Sign in:" in line)
                or (self.tracking_urls and "Tracking link" not in line)
            ):
                self._banner_done.set()
        self._banner_done.set()

    def stop(self) -> None:
        stop_process(self.proc)


class RunningGateway:
    """``tf push`` (the customers' push gateway) on a free port, ready once its /healthz answers."""

    def __init__(self, *args: str, redis_url: str, port: int | None = None, start_timeout_s: float = 120.0) -> None:
        import requests

        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.key = "gateway-test-key"
        cmd = [sys.executable, str(ROOT / "cli.py"), "push", "--redis-url", redis_url, "--port", str(self.port),
               "--api-key", self.key, *args]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.output: list[str] = []
        threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()  # type: ignore[arg-type]
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the push gateway did not start:\n" + "".join(self.output))

    def health(self, timeout_s: float = 5.0) -> dict:
        """Its counts (viewers, frames…), which only an API key may read."""
        import requests

        headers = {"Authorization": f"Bearer {self.key}"}
        return requests.get(self.base_url + "/healthz", headers=headers, timeout=timeout_s).json()

    def stop(self) -> None:
        stop_process(self.proc)


def pick_option(page, opener, typed: str, option) -> None:
    """Open a dcc.Dropdown by clicking ``opener``, type ``typed`` to filter it, and click ``option``.

    Not Enter after typing: when the typing outruns the filter, Enter picks the first option of
    the unfiltered list (one run chose Kitting for Brazing). And the menu is opened again when
    the option does not show: on a loaded machine a click once missed the menu (the page was
    still laying out around it) and the typing went nowhere (CI, the alarm journal's and the
    downtime page's tests, one failure each).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _attempt in range(4):
        opener.click()
        page.keyboard.type(typed)
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")  # closes the menu and forgets what was typed
    option.click()


class LineFeed:
    """Events of one line stamped with the wall clock, posted to POST /api/events as a real line would."""

    def __init__(self, base_url: str, key: str, line_id: str = "ac1", prefix: str = "wall") -> None:
        self.base_url, self.key, self.line_id, self.prefix, self.n = base_url, key, line_id, prefix, 0

    def _env(self) -> dict:
        self.n += 1
        return {"id": f"{self.prefix}-{self.n}", "source": f"/test/{self.prefix}", "time": datetime.now(UTC)}

    def post(self, *events: ev.Event) -> dict:
        import requests

        body = "\n".join(codec.to_json(e) for e in events)
        r = requests.post(
            self.base_url + "/api/events",
            data=body,
            timeout=60,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/x-ndjson"},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def shift(self):
        end = codec.format_time(datetime.now(UTC) + timedelta(hours=8))
        return ev.ShiftStarted(**self._env(), line_id=self.line_id, shift="A", planned_end=end)

    def placed(self, unit):
        return ev.OrderPlaced(
            **self._env(),
            order_id=f"SO-{unit}",
            unit_code=unit,
            tracking_token=f"token-{unit}-0123456789",
            line_id=self.line_id,
            product="air_conditioner",
            options={"model": "AS12", "panel": "white", "wifi": "wifi"},
        )

    def entered(self, unit, station):
        return ev.StationEntered(**self._env(), unit_code=unit, line_id=self.line_id, station_id=station, visit=1)

    def down(self, station):
        return ev.MachineDown(
            **self._env(), line_id=self.line_id, station_id=station, machine=1, reason_code="E12", reason="motor fault"
        )


class TcpProxy:
    """One port in front of several app workers, like a load balancer with sticky connections.

    Each new connection goes to the first worker that accepts it, so when that one dies the
    browser's reconnection lands on the next.
    """

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        for port in self.backends:
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                continue
        else:
            client.close()
            return
        upstream.settimeout(None)

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        other = threading.Thread(target=pipe, args=(client, upstream), daemon=True)
        other.start()
        pipe(upstream, client)
        other.join(30)
        for s in (client, upstream):
            s.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()


def add_user(svc, name: str, role: str, password: str, site: str | None = None) -> None:
    """Create an account through the control log, as ``tf users add`` does, and let the app apply it."""
    from streams import events as ev
    from web.accounts import hash_password

    svc.publish_control(
        ev.AccountCreated, user=name, role=role, password_hash=hash_password(password), site_id=site, by="test"
    )
    catch_up(svc)


def add_kiosk(svc, label: str, line: str | None = None, site: str | None = None) -> str:
    """Register a wall screen through the control log and return its link's token."""
    from web.accounts_cli import register_kiosk

    token = register_kiosk(svc.control, label, line, site, "test")
    catch_up(svc)
    return token


def catch_up(svc) -> None:
    """Let an in-process app apply everything its buses hold."""
    while svc.live.read_once() > 0:
        pass


def sign_in(client, name: str, password: str) -> None:
    """Sign a Flask test client in."""
    response = client.post("/login", data={"user": name, "password": password, "next": "/"})
    assert response.status_code == 303, response.data


def router_body(client, pathname, search) -> dict:
    """Return the body of a call to Dash's page router, as a browser at ``pathname?search`` sends it."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "_pages_content" in d["output"])
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[-1]} for o in dep["output"].strip(".").split("...")]
    values = {"pathname": pathname, "search": search}
    return {
        "output": dep["output"],
        "outputs": outputs,
        "changedPropIds": ["_pages_location.pathname"],
        "inputs": [
            {"id": i["id"], "property": i["property"], "value": values.get(i["property"])} for i in dep["inputs"]
        ],
        "state": [{"id": st["id"], "property": st["property"]} for st in dep.get("state", [])],
    }


def offline_user(data_dir: Path, name: str, role: str, password: str, site: str | None = None) -> None:
    """Create an account in a data directory before the app starts (as ``tf users add`` does)."""
    import secrets as _secrets

    from streams import events as ev
    from web.accounts import hash_password
    from web.control_log import open_control_log

    log = open_control_log(data_dir, None)
    log.publish(
        ev.AccountCreated(
            id=_secrets.token_hex(8),
            source="/test",
            time=datetime.now(UTC),
            user=name,
            role=role,
            password_hash=hash_password(password),
            site_id=site,
            by="test",
        )
    )


# --- an in-process app with two orders and three people (tests/conftest.py's ``factory``) ---------------
TOKEN_A = "tokenA-0123456789abcdef"
TOKEN_B = "tokenB-0123456789abcdef"
PASSWORD = "correct horse battery"
API_KEY = "test-key-0123456789abcdef"


def build_factory(events: EventFactory, data_dir: Path | None, **settings):
    """Return an in-process app holding orders UA (TOKEN_A, at kitting) and UB (TOKEN_B, queued), live
    and in history, with the manager mia, the executive wes and the admin ada (PASSWORD)."""
    from app import create_app
    from config import Settings

    factory = create_app(Settings(**{"emulator": False, "data_dir": data_dir, "api_keys": (API_KEY,), **settings}))
    batch = [
        events.placed(0, "UA", token=TOKEN_A),
        events.placed(0, "UB", token=TOKEN_B),
        events.entered(1, "UA", "kitting"),
    ]
    factory.bus.publish_many(batch)
    factory.history.record(batch)
    catch_up(factory)
    for name, role in (("mia", "manager"), ("wes", "executive"), ("ada", "admin")):
        add_user(factory, name, role, PASSWORD)
    factory.live.take_dirty_units()
    factory.live.take_dirty_lines()
    return factory


def client_as(factory, who=None):
    """Return a test client signed in as ``who`` (a user name, "wall", or None for anonymous)."""
    import secrets as _secrets

    client = factory.dash_app.server.test_client()
    if who == "wall":
        assert client.get(f"/kiosk/{add_kiosk(factory, 'Hall ' + _secrets.token_hex(2))}").status_code == 303
    elif who is not None:
        sign_in(client, who, PASSWORD)
    return client


def layout_text(factory, pathname, search="", client=None, headers=None) -> str:
    """Call Dash's page router the way a browser does and return the rendered layout as text."""
    import json

    client = client or client_as(factory)
    client.get("/")  # first request registers the router callback
    response = client.post("/_dash-update-component", json=router_body(client, pathname, search), headers=headers or {})
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def callback_body(dep: dict, values: dict, wildcard: dict | None = None) -> dict:
    """Return the body of a call to the callback ``dep`` (an entry of /_dash-dependencies) as Dash's renderer
    sends it. ``values`` gives the inputs' and states' values by ``"id.property"`` or by property;
    ``wildcard`` gives the ids an ALL output matches (by the output's property)."""

    def value(item: dict):
        return values.get(f"{item['id']}.{item['property']}", values.get(item["property"]))

    outputs: list = []
    for spec in dep["output"].strip(".").split("..."):
        ident, prop = spec.rsplit(".", 1)
        if '["ALL"]' in ident:
            outputs.append([{"id": i, "property": prop} for i in (wildcard or {}).get(prop, [])])
        else:
            outputs.append({"id": ident, "property": prop})
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{**i, "value": value(i)} for i in dep["inputs"]],
        "state": [{**s, "value": value(s)} for s in dep.get("state", [])],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]],
    }
