"""Entry point: ``python app.py`` runs the whole transparent factory in one process.

create_app() wires the pieces (bus, state pump, pages, sockets) and returns them without
starting threads, so tests can build an app in-process; main() adds the line emulator and serves.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dash
import flask
from flask_socketio import SocketIO

from config import Settings, settings_from_args
from dashboard import hardening
from dashboard import login as login_routes
from dashboard.accounts import Accounts
from dashboard.api import INGEST_EXTENSION, api
from dashboard.login import ACCOUNTS_EXTENSION
from dashboard.realtime import EXTENSION_KEY, LiveFactory
from factory import rollups
from factory.history import History, record
from factory.layout import LayoutError, Plant, load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast, run_paced
from streams.bus import Bus
from streams.ingest import Ingestor
from streams.memory import MemoryBus
from streams.mqtt_bridge import MqttBridge
from streams.redis_streams import RedisStreamsBus

HERE = Path(__file__).resolve().parent
log = logging.getLogger("transparent_factory")


@dataclasses.dataclass
class TransparentFactory:
    """The wired application: what main() runs and what tests drive."""

    settings: Settings
    plant: Plant
    bus: Bus
    history: History
    dash_app: dash.Dash
    socketio: SocketIO
    live: LiveFactory
    ingestor: Ingestor


def create_app(settings: Settings) -> TransparentFactory:
    """Build the Dash app, Socket.IO server, bus and live state for ``settings``."""
    plant = load_plant(settings.config)
    bus: Bus = RedisStreamsBus(settings.redis_url) if settings.redis_url else MemoryBus()
    history = History(settings.data_dir / "history.duckdb" if settings.data_dir is not None else ":memory:")
    dash_app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "dashboard" / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Transparent Factory",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    dash_app.layout = dash.html.Div([dash.page_container])
    server = dash_app.server
    socketio = SocketIO(server, async_mode="threading", cors_allowed_origins=[])
    live = LiveFactory(plant, bus, socketio, settings.frame_interval_s, history)
    server.extensions[EXTENSION_KEY] = live
    live.register_socket_handlers()
    hardening.install(dash_app)
    accounts = Accounts(settings.data_dir / "accounts.json" if settings.data_dir is not None else None)
    server.extensions[ACCOUNTS_EXTENSION] = accounts
    server.secret_key = _secret_key(settings.data_dir)
    server.config.update(
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True, PERMANENT_SESSION_LIFETIME=timedelta(days=30)
    )
    login_routes.install_guard(server)
    server.register_blueprint(login_routes.login)
    server.register_blueprint(api)
    server.config["TF_API_KEYS"] = settings.api_keys
    server.config.update(TF_KIOSK_ROTATE_S=settings.kiosk_rotate_s, TF_STALE_AFTER_S=settings.stale_after_s)
    server.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024  # a bigger ingestion batch gets a 413
    ingestor = Ingestor(bus, bus.dead_letter)
    server.extensions[INGEST_EXTENSION] = ingestor

    @server.before_request
    def _unknown_order_is_a_real_404():
        # Dash serves its page shell for every path with status 200; a tracker link that leads
        # nowhere should say so to the browser and to crawlers too (and guessing is limited).
        path = flask.request.path
        if path.startswith("/track/"):
            status, _view = live.find_order(path[len("/track/") :], flask.request.remote_addr or "?")
            if status != 200:
                return flask.make_response(dash_app.index(), status)
        return None

    return TransparentFactory(settings, plant, bus, history, dash_app, socketio, live, ingestor)


def warm_rollups(factory: TransparentFactory, days: int = 90) -> None:
    """Store the day sums the executive page needs, logging progress; errors are logged, not raised."""
    now = factory.history.last_time()
    if now is None:
        return
    started = time.monotonic()
    try:
        done = rollups.warm(factory.history, factory.plant, days, now)
    except Exception:
        log.exception("summing past days failed; the executive page will sum them on demand")
        return
    if done:
        log.info("summed %d line-days of history for the executive view in %.1f s", done, time.monotonic() - started)


def _secret_key(data_dir: Path | None) -> bytes:
    """Return the session-signing key, kept in the data folder so sign-ins survive a restart."""
    if data_dir is None:
        return secrets.token_bytes(32)
    path = data_dir / "session.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


def start_emulator(factory: TransparentFactory, stop: threading.Event) -> PlantModel:
    """Warm the plant up as fast as possible, then keep it running paced in the background."""
    settings = factory.settings
    warmup_s = (
        settings.warmup_s if settings.warmup_s is not None else float(factory.plant.simulation.get("warmup_s", 3600))
    )
    now = settings.start or datetime.now(UTC)
    # Order numbers continue after those in history, so unit codes stay unique across restarts.
    model = PlantModel(
        factory.plant,
        factory.bus.publish,
        origin=now - timedelta(seconds=warmup_s),
        seed=settings.seed,
        first_orders=factory.history.next_order_numbers(),
    )
    run_fast(model, warmup_s)
    factory.socketio.start_background_task(run_paced, model, settings.speed, stop)
    return model


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(argv)
    generated_key = None
    if not settings.api_keys:
        generated_key = secrets.token_urlsafe(24)
        settings = dataclasses.replace(settings, api_keys=(generated_key,))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # its dev-server banner is noise here
    try:
        factory = create_app(settings)
    except LayoutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # A service manager stops us with SIGTERM: leave through the same path as Ctrl-C, so the
    # history writer flushes what it holds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stop = threading.Event()
    if settings.emulator:
        # The built-in plant starts afresh each run (its machines' state is not saved), so the
        # live view starts from its warm-up; history keeps earlier runs for KPIs and old orders.
        start_emulator(factory, stop)
    else:
        latest = factory.history.last_time()
        if latest is not None:
            replayed = factory.live.load(factory.history.replay(start=latest - timedelta(hours=settings.replay_h)))
            log.info("replayed %d events (%.0f h) from history", replayed, settings.replay_h)
    factory.live.catch_up(limit=10_000_000)  # the warm-up, so the first page is already full
    factory.socketio.start_background_task(factory.live.run)
    recorder = threading.Thread(target=record, args=(factory.bus, factory.history, stop), name="history")
    recorder.start()
    factory.socketio.start_background_task(factory.ingestor.run, stop)
    # Sum finished days ahead of the first executive visit (a month of three lines: ~15 s, once).
    threading.Thread(target=warm_rollups, args=(factory,), name="rollups", daemon=True).start()
    bridge = None
    if settings.mqtt_url:
        bridge = MqttBridge(settings.mqtt_url, settings.mqtt_topic, factory.ingestor)
        bridge.start()

    accounts = factory.dash_app.server.extensions[ACCOUNTS_EXTENSION]
    admin_password = accounts.ensure_admin()
    print(f"Wall screen:    {settings.base_url}/kiosk/{accounts.default_kiosk()}", flush=True)
    print(f"Sign in:        {settings.base_url}/login", flush=True)
    if admin_password is not None:
        print(
            f"Admin login:    admin / {admin_password}   (shown once; manage users with python -m dashboard.accounts)",
            flush=True,
        )
    for token in factory.live.orders_to_watch(settings.tracking_links):
        print(f"Tracking link:  {settings.base_url}/track/{token}", flush=True)
    if generated_key is not None:
        print(f"API key (this run only; set TF_API_KEYS to keep one): {generated_key}", flush=True)
    try:
        factory.socketio.run(
            factory.dash_app.server,
            host=settings.host,
            port=settings.port,
            allow_unsafe_werkzeug=True,
            log_output=False,
        )
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        if bridge is not None:
            bridge.stop()
        stop.set()
        factory.live.stop()
        recorder.join(10)
        factory.history.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
