"""Entry point: ``python app.py`` (or ``tf run``) runs the whole transparent factory in one process.

create_app() wires the pieces (buses, history, live state, pages, sockets) and returns them
without starting anything, so tests can build an app in-process; serve() resumes or starts the
built-in plant, starts the supervised background tasks and serves on gevent's WSGI server
(``--dev``: Werkzeug's development server, for debugging only).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # before anything below imports socket or threading
    from cli import prepare_serving

    prepare_serving(sys.argv)

import logging
import os
import secrets
import signal
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import dash
import flask
import pandas  # noqa: F401 -- see below

# Plotly imports pandas lazily, at its first JSON encoding, and other threads look it up in
# sys.modules without waiting: two first requests at once (a page's layout and its socket) found
# it half-imported and the page answered 500 ("partially initialized module 'pandas'"), which a
# loaded machine made likely. Imported here, it is whole before the server takes a request.
from flask_socketio import SocketIO

from config import Settings, run_options, settings_from_params
from factory.exec_view import warm as warm_exec_view
from factory.history import History, HistoryError, open_history
from factory.history.measurements import recent_checks
from factory.history.writer import Recorder, recorded_offsets, state_at
from factory.layout import LayoutError, Plant, load_plant
from factory.spc_alarms import SPC_SEED, SpcWatch
from factory.validation import PlantCheck
from line_emulator.external_orders import OrderInbox, own_sources
from line_emulator.model import PlantModel, new_run_id
from line_emulator.params import load_params
from line_emulator.publisher import BusPublisher
from line_emulator.resume import resume_plan
from line_emulator.runner import run_fast, run_paced
from streams import events as ev
from streams.bus import Bus
from streams.ingest import Ingestor
from streams.memory import MemoryBus
from web import (
    admin_api,
    alarms_api,
    api,
    dead_letters_api,
    downtime_api,
    hardening,
    login,
    metrics,
    orders_api,
    reports_api,
    spc_api,
)
from web.accounts import DEFAULT_KIOSK, hash_password
from web.accounts_cli import register_kiosk
from web.blocking import runner
from web.certificates import certificates
from web.control_log import open_control_log
from web.customer_orders import OrderLimits
from web.gc_pauses import LongLivedObjects
from web.hardening import socket_origin_policy
from web.health import health
from web.json_socket import JsonPacket, OrjsonForSocketIO
from web.open_files import raise_open_files_limit, viewers_room
from web.push.gateway import Gateway
from web.push.join_pace import JoinPace
from web.push.loop import run_kpis, run_pump
from web.push.pump import LivePlant
from web.push.queries import LiveQueries
from web.push.replay import FloorReplay
from web.push.rooms import Rooms
from web.ratelimit import MissLimiter, limiter, storage_uri
from web.services import EXTENSION_KEY, Services
from web.shift_reports import ShiftReports, reports_directory
from web.sign_in_failures import run_flusher
from web.supervisor import Supervisor

HERE = Path(__file__).resolve().parent
log = logging.getLogger("transparent_factory")


class StartError(RuntimeError):
    """The app cannot start as asked (a message for the operator, not a traceback)."""


def create_app(settings: Settings) -> Services:
    """Build the Dash app, Socket.IO server, buses, history and live state for ``settings``."""
    try:
        plant = load_plant(settings.config)
    except LayoutError as exc:
        raise StartError(str(exc)) from None
    run = runner(settings.async_mode)
    bus = _event_bus(settings, plant)
    control = open_control_log(settings.data_dir, settings.redis_url)
    history = _open_history(settings, plant, run)
    if settings.reset:
        history.wipe()
        _skip_retained(history, bus)
    live = LivePlant(
        plant, bus, control, check=PlantCheck(plant, window=timedelta(days=3650), lookup_unit=history.unit_order)
    )
    live.state = run(lambda: state_at(history))
    spc_watch = _spc_watch(plant, live, history, run)
    # The history holds everything up to its recorded offset, so the pump reads on from there
    # (a worker on a long Redis stream does not read it all again at every start).
    live.offsets["events"] = recorded_offsets(history, {"events": bus})["events"]
    while (
        live.read_once() > 0
        and live.offsets["control"] is not None
        and live.control.read(live.offsets["control"], limit=1)
    ):
        pass  # the whole control log first: accounts and acknowledgements before the first request
    queries = LiveQueries(live, history)
    queries.spc = spc_watch
    queries.misses = MissLimiter(storage_uri(settings.redis_url))
    dash_app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "dashboard" / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Transparent Factory",
        update_title="",
        suppress_callback_exceptions=True,
    )
    dash_app.layout = dash.html.Div([dash.page_container])
    server = dash_app.server
    socketio = SocketIO(
        server,
        async_mode=settings.async_mode,
        cors_allowed_origins=socket_origin_policy(settings.allowed_origins, settings.trusted_proxies),
        json=OrjsonForSocketIO,
        serializer=JsonPacket,
        ping_interval=20,
        ping_timeout=20,
    )
    rooms = Rooms(
        queries, lambda name, payload, to: socketio.emit(name, payload, to=to), pause=lambda: socketio.sleep(0)
    )
    gateway = Gateway(socketio, rooms, JoinPace(settings.join_rate, sleep=socketio.sleep))
    gateway.register()
    live.listeners.append(gateway.on_control)
    check = PlantCheck(
        plant,
        window=timedelta(hours=settings.event_window_h),
        lookup_token=lambda token: _token_owner(live, history, token),
        lookup_unit=history.unit_order,
    )
    ingestor = Ingestor(bus, bus.dead_letter, check=check.check, admit=check.admit)
    supervisor = Supervisor(spawn=socketio.start_background_task, sleep=socketio.sleep)
    svc = Services(
        settings,
        plant,
        bus,
        control,
        history,
        live,
        queries,
        rooms,
        ingestor,
        supervisor,
        run,
        dash_app=dash_app,
        socketio=socketio,
        extras={"gateway": gateway},
        replay=FloorReplay(plant, history, run),
        order_limits=OrderLimits(storage_uri(settings.redis_url)),
    )
    _recall_open_orders(svc)
    live.event_listeners.append(svc.open_orders.note)
    rooms._health = lambda: _health_summary(svc)
    server.extensions[EXTENSION_KEY] = svc
    metrics.install(server, svc)  # first, so its timing sees every request, redirected ones too
    server.secret_key = _secret_key(settings)
    server.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,  # a bigger ingestion batch gets a 413
        RATELIMIT_STORAGE_URI=storage_uri(settings.redis_url),
        RATELIMIT_STRATEGY="moving-window",
    )
    limiter.init_app(server)
    hardening.install(dash_app, settings.trusted_proxies, settings.push_url)
    login.install_guard(server)
    server.register_blueprint(login.login)
    server.register_blueprint(api.blueprint)
    server.register_blueprint(orders_api.blueprint)
    server.register_blueprint(alarms_api.blueprint)
    server.register_blueprint(spc_api.blueprint)
    server.register_blueprint(dead_letters_api.blueprint)
    server.register_blueprint(admin_api.blueprint)
    server.register_blueprint(reports_api.blueprint)
    server.register_blueprint(downtime_api.blueprint)
    server.register_blueprint(certificates)
    server.register_blueprint(health)

    @server.before_request
    def _unknown_order_is_a_real_404():
        # Dash serves its page shell for every path with status 200; a tracker link that leads
        # nowhere should say so to the browser and to crawlers too (and guessing is limited).
        path = flask.request.path
        if path.startswith("/track/"):
            token = path[len("/track/") :].split("/", 1)[0]
            status, _view = queries.find_order(token, flask.request.remote_addr or "?")
            if status != 200:
                return flask.make_response(dash_app.index(), status)
        return None

    return svc


def _spc_watch(plant: Plant, live: LivePlant, history: History, run) -> SpcWatch:
    """Build the SPC andon watch from the recent stored checks, then keep it with every check folded.

    It takes the checks before the pump reads on from the history's offset, so none is missed.
    """

    def options_of(unit_code: str) -> dict[str, str] | None:
        unit = live.state.units.get(unit_code)
        return unit.options if unit is not None else None

    watch = SpcWatch(plant, options_of)
    since = live.state.last_event_time
    if since is not None:
        watch.seed(run(lambda: recent_checks(history, since - SPC_SEED)))
    live.event_listeners.append(watch.note)
    return watch


def _recall_open_orders(svc: Services, days: float = 7.0) -> None:
    """Count the customers' orders of the last days again after a restart (the live state starts from a checkpoint)."""
    since = svc.live.state.last_event_time
    if since is None:
        return
    drafts = svc.run(lambda: svc.history.replay(start=since - timedelta(days=days), kinds=["configuration_drafted"]))
    for event in drafts:
        svc.open_orders.note(event)


def _event_bus(settings: Settings, plant: Plant) -> Bus:
    if settings.redis_url:
        from streams.site_streams import LayoutMismatch, open_redis_events

        try:
            return open_redis_events(
                settings.redis_url, [site.id for site in plant.sites], plant.site_of_event, settings.stream_per_site
            )
        except LayoutMismatch as exc:
            raise StartError(str(exc)) from None
    return MemoryBus()


def _skip_retained(history: History, bus: Bus) -> None:
    """After --reset, begin after what a shared stream retains: the old run must not come back."""
    durable, tail = getattr(bus, "durable_id", None), getattr(bus, "tail", None)
    if durable is not None and tail is not None:
        newest = tail()
        if newest is not None:
            history.set_meta(f"offset:{durable}", newest)


def _open_history(settings: Settings, plant: Plant, run) -> History:
    target: str | Path | None = settings.history_url
    if target is None and settings.data_dir is not None:
        target = settings.data_dir / "history.duckdb"
    try:
        history = open_history(target, plant, run)
    except HistoryError as exc:
        raise StartError(str(exc)) from None
    if history.dialect == "postgresql" and not settings.redis_url:
        log.warning(
            "a PostgreSQL history without --redis-url: run one worker on it (workers that share a history "
            "share the event stream and the control log through Redis)"
        )
    return history


def _token_owner(live: LivePlant, history: History, token: str) -> tuple[str, str] | None:
    with live.lock:
        code = live.state.unit_by_token.get(token)
        unit = live.state.units.get(code) if code else None
    if unit is not None:
        return unit.unit_code, unit.line_id
    return history.unit_for_token(token)


def _secret_key(settings: Settings) -> bytes:
    """Return the session-signing key, one for every worker: so a failover signs nobody out.

    Set by the operator (TF_SECRET_KEY), else made once and kept in the workers' Redis, else
    made once and kept in the data directory (owner-only file).
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        client.set("tf:session-key", secrets.token_hex(32), nx=True)
        return client.get("tf:session-key")  # type: ignore[return-value]
    if settings.data_dir is None:
        return secrets.token_bytes(32)
    path = settings.data_dir / "session.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
        except FileExistsError:
            pass  # another worker made it first
    return path.read_bytes()


def _health_summary(svc: Services) -> dict:
    """What a floor frame says about the server's health (shown to signed-in managers)."""
    recorder = svc.extras.get("recorder")
    problems = []
    if recorder is not None and not recorder.healthy:
        problems.append("history not writable")
    problems += [
        f"{name} {task['state']}"
        for name, task in svc.supervisor.report().items()
        if task["state"] not in ("running", "stopped")
    ]
    if svc.live.lag_s() > 10:
        problems.append(f"{svc.live.lag_s():.0f} s behind the stream")
    return {"ok": not problems, "problems": problems}


# --- the built-in plant -------------------------------------------------------------------------------
def start_emulator(svc: Services, stop: threading.Event) -> PlantModel:
    """Resume the recorded run of the built-in plant (or start one, warmed up), then run it paced."""
    settings, history = svc.settings, svc.history
    recorded_until = history.last_time(line_events_only=True)
    params = load_params(svc.plant)
    publisher = BusPublisher(svc.bus, retry_on=(Exception,), sleep=svc.socketio.sleep)
    if recorded_until is not None and settings.start is not None and settings.start < recorded_until:
        raise StartError(
            f"the history already holds events up to {recorded_until.isoformat()}: --start "
            f"{settings.start.isoformat()} would simulate that time again. Start without --start to "
            "resume, or add --reset to begin a new history."
        )
    first_orders = history.next_order_numbers()
    if recorded_until is None:
        warmup_s = settings.warmup_s if settings.warmup_s is not None else params.warmup_s
        now = settings.start or datetime.now(UTC)
        model = PlantModel(
            svc.plant,
            publisher.emit,
            origin=now - timedelta(seconds=warmup_s),
            seed=settings.seed,
            first_orders=first_orders,
            run_id=new_run_id(),
            params=params,
        )
        run_fast(model, warmup_s, after_step=publisher.flush)
        log.info("a new plant, warmed up for %.0f simulated seconds", warmup_s)
    else:
        clock = max(settings.start or recorded_until, recorded_until)
        with svc.live.lock:
            plan = resume_plan(svc.live.state, svc.plant, params, clock)
        model = PlantModel(
            svc.plant,
            publisher.emit,
            origin=clock,
            seed=settings.seed,
            first_orders=first_orders,
            run_id=new_run_id(),
            params=params,
            resume=plan,
        )
        units = sum(len(p["progress"]) for p in plan.values())
        log.info("resuming the plant at %s with %d units in progress", clock.isoformat(), units)
    publisher.flush()
    svc.extras["emulator"] = model
    # Customers' orders reach the plant through the stream like anyone's: the pump offers each
    # one to the inbox, the plant's own thread takes them between two steps.
    inbox = OrderInbox(own_sources(model))
    svc.live.event_listeners.append(inbox.offer)
    svc.extras["order_inbox"] = inbox

    def tick() -> None:
        inbox.deliver(model)
        publisher.flush()

    svc.supervisor.start(
        "emulator", lambda: run_paced(model, settings.speed, stop, after_tick=tick, sleep=svc.socketio.sleep)
    )
    return model


def bootstrap_accounts(svc: Services) -> tuple[str | None, str | None]:
    """On a first start: create ``admin`` with a random password and the default wall screen; return them."""
    with svc.live.lock:
        has_users = bool(svc.live.accounts.users)
        kiosk = svc.live.accounts.kiosks.get(DEFAULT_KIOSK)
    admin_password = kiosk_token = None
    if not has_users and _claim(svc, "tf:bootstrap-admin"):
        admin_password = secrets.token_urlsafe(12)
        svc.publish_control(
            ev.AccountCreated,
            user="admin",
            role="admin",
            password_hash=hash_password(admin_password),
            site_id=None,
            by="first start",
        )
    token_file = svc.settings.data_dir / "default-kiosk.token" if svc.settings.data_dir else None
    if kiosk is None or kiosk.revoked:
        if _claim(svc, "tf:bootstrap-kiosk"):
            kiosk_token = register_kiosk(svc.control, DEFAULT_KIOSK, None, None, "first start")
            if token_file is not None:
                token_file.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(kiosk_token)
    elif token_file is not None and token_file.exists():
        kiosk_token = token_file.read_text().strip()
    while svc.live.read_once() > 0:
        pass  # apply what was just published, so the first sign-in works at once
    return admin_password, kiosk_token


def _claim(svc: Services, name: str) -> bool:
    """Let one worker of several do a first-start job (always this one without Redis)."""
    if not svc.settings.redis_url:
        return True
    import redis

    return bool(redis.Redis.from_url(svc.settings.redis_url).set(name, "1", nx=True))


# --- serving ------------------------------------------------------------------------------------------
@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@run_options
@click.option(
    "--dev",
    is_flag=True,
    help="Serve with Werkzeug's development server (one thread per "
    "connection, for debugging only; never in production).",
)
def run_command(dev: bool, **params) -> None:
    """Run the emulator, the event bus, the history and the web app in one process."""
    settings = settings_from_params(params, async_mode="threading" if dev else "gevent")
    sys.exit(serve(settings))


def serve(settings: Settings) -> int:
    """Serve ``settings`` until interrupted; return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    open_files = raise_open_files_limit()
    log.info("open files allowed: %d, room for about %d live viewers", open_files, viewers_room(open_files))
    generated_key = None
    if not settings.api_keys:
        generated_key = secrets.token_urlsafe(24)
        settings = replace(settings, api_keys=(generated_key,))
    try:
        svc = create_app(settings)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    socketio: SocketIO = svc.socketio
    stop = threading.Event()
    svc.supervisor.stop = stop
    _stop_on_sigterm(socketio, settings)
    try:
        if settings.emulator:
            start_emulator(svc, stop)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    while svc.live.read_once() > 0:
        pass  # the warm-up or the resume point, so the first page is already full
    sources = {"events": svc.bus, "control": svc.control}
    recorder = Recorder(
        svc.history, sources, state=state_at(svc.history), start_after=recorded_offsets(svc.history, sources)
    )
    svc.extras["recorder"] = recorder
    svc.supervisor.start("history", lambda: recorder.run(stop, sleep=socketio.sleep))
    svc.supervisor.start("pump", lambda: run_pump(svc.live, svc.rooms, settings.frame_interval_s, stop, socketio.sleep))
    svc.supervisor.start("kpis", lambda: run_kpis(svc.rooms, svc.queries.kpi_interval_s, stop, svc.run, socketio.sleep))
    svc.supervisor.start("ingest", lambda: svc.ingestor.run(stop))
    svc.supervisor.start(
        "sign-in-failures",
        lambda: run_flusher(
            svc.sign_in_failures,
            lambda data: svc.publish_control(ev.SignInsFailed, **data),
            stop,
            socketio.sleep,
            lambda: datetime.now(UTC),
        ),
    )
    svc.supervisor.start("exec-warm", lambda: _warm_exec_view(svc), restart=False)
    collector = LongLivedObjects()  # after the warm-up: what the start built is frozen with it
    collector.start()
    svc.extras["gc"] = collector
    svc.supervisor.start("gc", lambda: collector.run(stop, socketio.sleep))
    reports_dir = reports_directory(settings.data_dir)
    if reports_dir is not None:
        reports = ShiftReports(svc.history, svc.plant, reports_dir)
        svc.extras["shift_reports"] = reports
        svc.supervisor.start("reports", lambda: reports.run(stop, svc.run, socketio.sleep))
    if settings.mqtt_url:
        from streams.mqtt_bridge import MqttBridge

        bridge = MqttBridge(settings.mqtt_url, settings.mqtt_topic, svc.ingestor, settings.mqtt_client_id)
        svc.extras["mqtt_bridge"] = bridge
        bridge.start()
        svc.supervisor.start("mqtt", bridge.run)
    admin_password, kiosk_token = bootstrap_accounts(svc)
    _banner(svc, admin_password, kiosk_token, generated_key)
    try:
        if settings.async_mode == "threading":
            log.warning("development server: for debugging only (one thread per connection)")
        socketio.run(
            svc.dash_app.server,
            host=settings.host,
            port=settings.port,
            allow_unsafe_werkzeug=settings.async_mode == "threading",
            log_output=False,
        )
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        _shut_down(svc, stop)
    return 0


def _warm_exec_view(svc: Services) -> None:
    """Keep the executive page's default month summed (a failure here only makes its first load slower)."""
    started = time.monotonic()
    try:
        days = svc.run(lambda: warm_exec_view(svc.history, svc.plant))
    except Exception:  # the page sums what is missing itself
        log.warning("could not sum the executive view's days in advance", exc_info=True)
        return
    log.info("executive view: %d line-days summed in %.1f s", days, time.monotonic() - started)


def _stop_on_sigterm(socketio: SocketIO, settings: Settings) -> None:
    """A service manager stops us with SIGTERM: leave through the same path as Ctrl-C (history flushed)."""
    if settings.async_mode == "gevent":
        import gevent

        gevent.signal_handler(signal.SIGTERM, socketio.stop)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def _banner(svc: Services, admin_password: str | None, kiosk_token: str | None, generated_key: str | None) -> None:
    settings = svc.settings
    if kiosk_token:
        print(f"Wall screen:    {settings.base_url}/kiosk/{kiosk_token}", flush=True)
    else:
        print("Wall screen:    (its link was printed when it was registered; tf kiosks add makes another)", flush=True)
    print(f"Sign in:        {settings.base_url}/login", flush=True)
    print(f"Configure:      {settings.base_url}/configure   (customers order here, no sign-in)", flush=True)
    if admin_password is not None:
        print(
            f"Admin login:    admin / {admin_password}   (shown once; manage users on /admin/users or with tf users)",
            flush=True,
        )
    for token in svc.queries.tokens_to_watch(settings.tracking_links):
        print(f"Tracking link:  {settings.base_url}/track/{token}", flush=True)
    if generated_key is not None:
        print(f"API key (this run only; set TF_API_KEYS to keep one): {generated_key}", flush=True)


def _shut_down(svc: Services, stop: threading.Event) -> None:
    stop.set()
    bridge = svc.extras.get("mqtt_bridge")
    if bridge is not None:
        bridge.stop()
    recorder = svc.extras.get("recorder")
    if recorder is not None:
        deadline = time.monotonic() + 15
        while not recorder.wait_stopped(0.2) and time.monotonic() < deadline:
            svc.socketio.sleep(0.1)
    closing = getattr(svc.run, "close", None)
    if closing is not None:
        closing()
    svc.history.close()


def main(argv: list[str] | None = None) -> int:
    """``python app.py [FLAGS]``: the same as ``tf run [FLAGS]``."""
    try:
        run_command.main(args=argv, prog_name="app.py", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
