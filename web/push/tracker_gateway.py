"""The customers' push gateway (``tf push``): tracker rooms on python-socketio's asyncio server.

Why a process of its own: under the workers' gevent stack a viewer's socket holds three
greenlets with their saved stacks and two descriptors, about 80 kB; on asyncio a socket is a
task's state and one descriptor, about 37 kB (docs/benchmarks.md). A plant's customers
outnumber its wall screens a thousand to one, so they get the lighter server, and the workers
keep the pages, the sessions and the wall screens.

It reads the workers' Redis stream and folds it as every worker does (web.push.pump.LivePlant,
from the shared history's checkpoint when there is one), builds each watched order room's frame
once per batch (web.push.rooms.Rooms) and emits it once to the room: python-socketio encodes a
room's packet once and sends those bytes to every member. It admits tracker sockets only, by
the same decision as the workers (web.auth.room_for_socket, with nobody signed in), counts
unknown tokens against the client as they do (shared through Redis), and answers a page's
resync itself (``GET /api/live/order/<token>``), so every frame a page patches comes from one
epoch. Blocking work (the stream read, an order rebuilt from history) runs in threads, never on
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import click
import socketio
from aiohttp import web

from config import Settings, push_options, settings_from_params
from factory.history import History, HistoryError, open_history
from factory.history.writer import recorded_offsets, state_at
from factory.layout import LayoutError, Plant, load_plant
from factory.validation import PlantCheck
from streams.memory import MemoryBus
from web import auth
from web.gc_pauses import LongLivedObjects
from web.hardening import forwarded_value, socket_origin_policy
from web.json_socket import JsonPacket, OrjsonForSocketIO
from web.open_files import raise_open_files_limit, viewers_room
from web.push.loop import ORDER_BEAT_S
from web.push.pump import BATCH, LivePlant
from web.push.queries import LiveQueries
from web.push.queue_moves import QueueMoves
from web.push.rooms import Rooms
from web.ratelimit import MissLimiter, storage_uri

log = logging.getLogger(__name__)
RETRY_S = 1.0  # after a failed read of the stream (Redis restarting)
FREEZE_EVERY_S = 1.0  # what thousands of sockets wait on is frozen this often (web.gc_pauses)
MAX_LAG_S = 10.0  # behind the stream for longer than this: /healthz says "behind" (as the workers' /ready)


@dataclass
class GatewayStats:
    admitted: int = 0
    refused: int = 0
    read_failures: int = 0


class TrackerGateway:
    """One process's tracker rooms: sockets in, one frame per changed room per batch out."""

    def __init__(
        self,
        queries: LiveQueries,
        allowed_origins: tuple[str, ...] = (),
        trusted_proxies: int = 0,
        api_keys: tuple[str, ...] = (),
    ) -> None:
        self.queries = queries
        self.api_keys = api_keys
        self.live: LivePlant = queries.live
        self.plant: Plant = queries.plant
        self.trusted_proxies = trusted_proxies
        self.allowed_origins = allowed_origins
        # Pages of the gateway's own origin (behind a proxy that serves both under one name) and
        # of the allowed ones (the workers'): the workers' rule. Trackers carry no cookie, so
        # an origin is not access; the token is.
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins=socket_origin_policy(allowed_origins, trusted_proxies),
            json=OrjsonForSocketIO,
            serializer=JsonPacket,
            ping_interval=20,
            ping_timeout=20,
        )
        self._outbox: list[tuple[str, Any, str]] = []
        self.rooms = Rooms(queries, lambda name, payload, to: self._outbox.append((name, payload, to)))
        self.stats = GatewayStats()
        # Without it a full collection walks every socket's state and the plant's, finds
        # nothing to free, and holds every frame due meanwhile (the whole p99); with thousands
        # of sockets, what they wait on must be frozen as it ages too (web.gc_pauses).
        self.collector = LongLivedObjects(freeze_every_s=FREEZE_EVERY_S)
        # The stream is read on a thread of its own: on the shared pool a burst of handshakes'
        # token lookups would queue ahead of it and hold every frame back.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="stream")
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)

    # --- sockets --------------------------------------------------------------------------------
    def client_of(self, environ: dict[str, Any]) -> str:
        """Return the client a socket's handshake came from (behind trusted proxies, the forwarded one)."""
        if self.trusted_proxies > 0:
            forwarded = forwarded_value(environ, "HTTP_X_FORWARDED_FOR", self.trusted_proxies)
            if forwarded:
                return forwarded
        request = environ.get("aiohttp.request")
        return (request.remote if request is not None else None) or "?"

    async def on_connect(self, sid: str, environ: dict[str, Any], payload: Any = None) -> bool:
        """Admit a tracker socket to its order's room and send it the room's whole view."""
        view = None
        if (
            isinstance(payload, dict)
            and payload.get("view") == "track"
            and auth.is_well_formed_token(payload.get("token"))
        ):
            _status, view = await asyncio.to_thread(self.queries.find_order, payload["token"], self.client_of(environ))
        known = view is not None
        room = auth.room_for_socket(
            payload, None, self.plant.has_line, lambda line: self.plant.line(line).site_id, lambda _token: known
        )
        # The lookup built the order's view: the join frame starts from it, not from a second one.
        frame = self.rooms.snapshot(room, joining=True, view=view) if room is not None else None
        if room is None or frame is None:
            self.stats.refused += 1
            return False
        await self.sio.enter_room(sid, room)
        self.rooms.join(sid, room, None)
        self.stats.admitted += 1
        await self.sio.emit("order", frame, to=sid)
        return True

    async def on_disconnect(self, sid: str, *_reason: Any) -> None:
        self.rooms.leave(sid)

    # --- the pump -------------------------------------------------------------------------------
    async def pump(self, stop: asyncio.Event) -> None:
        """Read the stream (in a thread), then push the order rooms it changed, until ``stop``."""
        queue_moves = QueueMoves(self.live.take_queue_moved)
        while not stop.is_set():
            try:
                read = await asyncio.get_running_loop().run_in_executor(self._reader, self.live.read_once, ORDER_BEAT_S)
            except Exception as exc:  # noqa: BLE001 -- Redis restarting, or a bug: sockets stay, the read is retried
                self.stats.read_failures += 1  # the offsets are kept, so nothing is skipped
                log.warning("could not read the event stream (%r); retrying in %.0f s", exc, RETRY_S)
                await asyncio.sleep(RETRY_S)
                continue
            self.rooms.flush_orders(self.live.take_dirty_units())
            self.rooms.flush_orders(queue_moves.due())  # those whose queue moved: a chunk, once a beat
            await self.send_outbox()
            if read < BATCH:
                await asyncio.sleep(0)  # let handshakes and pings in between beats

    async def collect_garbage(self, stop: asyncio.Event, every_s: float = 1.0) -> None:
        """Freeze what survives (see web.gc_pauses), from now until ``stop``."""
        self.collector.start()
        try:
            while not stop.is_set():
                self.collector.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every_s)
        finally:
            self.collector.stop()

    def close(self) -> None:
        """Let the stream's reading thread go (after the pump has stopped)."""
        self._reader.shutdown()

    async def send_outbox(self) -> None:
        """Emit the frames the rooms built, each once to its room."""
        pending, self._outbox = self._outbox, []
        for name, payload, to in pending:
            await self.sio.emit(name, payload, to=to)

    # --- HTTP -----------------------------------------------------------------------------------
    def application(self) -> web.Application:
        app = web.Application()
        self.sio.attach(app)
        app.router.add_get("/api/live/order/{token}", self.resync)
        app.router.add_get("/healthz", self.health)
        app.on_response_prepare.append(self._headers)
        return app

    async def resync(self, request: web.Request) -> web.Response:
        """A page's whole frame again after a gap (what the workers answer at the same path)."""
        token = request.match_info["token"]
        status, view = await asyncio.to_thread(self.queries.find_order, token, self.client_of(_environ(request)))
        if status == 429:
            return _error(429, "too_many_misses", "too many unknown tracking tokens from this client; wait a minute")
        frame = self.rooms.snapshot(auth.order_room(token), view=view) if view is not None else None
        if frame is None:
            return _error(404, "not_found", "no order has this tracking token")
        return web.json_response(frame, dumps=OrjsonForSocketIO.dumps)

    async def health(self, request: web.Request) -> web.Response:
        """Whether the gateway keeps up, for anyone; its counts (how many customers watch) for an API key."""
        body: dict[str, Any] = {"status": "ok" if self.live.lag_s() < MAX_LAG_S else "behind"}
        if self.api_keys and auth.bearer_key_ok(request.headers.get("Authorization"), self.api_keys):
            body.update(self.counts())
        return web.json_response(body)

    def counts(self) -> dict[str, Any]:
        return {
            "viewers": sum(self.rooms.watchers.values()),
            "rooms": len(self.rooms.watchers),
            "frames_sent": self.rooms.frames_sent.get("order", 0),
            "frames_failed": self.rooms.frames_failed,
            "events_read": self.live.events_read,
            "lag_s": round(self.live.lag_s(), 3),
            "admitted": self.stats.admitted,
            "refused": self.stats.refused,
            "read_failures": self.stats.read_failures,
            "gc": self.collector.report(),
        }

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        origin = request.headers.get("Origin")
        if origin and origin in self.allowed_origins:  # the tracker page's resync, from the workers' origin
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"


def _environ(request: web.Request) -> dict[str, Any]:
    """The headers of a plain request in the shape a socket's handshake has (HTTP_X_FORWARDED_FOR…)."""
    environ: dict[str, Any] = {"aiohttp.request": request}
    for name, value in request.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _error(status: int, reason: str, detail: str) -> web.Response:
    return web.json_response({"error": reason, "detail": detail}, status=status)


# --- building and serving ---------------------------------------------------------------------------
class GatewayError(Exception):
    """The gateway cannot start with these settings (said to the operator in one line)."""


def open_gateway(settings: Settings, plant: Plant) -> tuple[TrackerGateway, History | None]:
    """Build the gateway for ``settings``: the workers' stream, and their history when it is shared."""
    if not settings.redis_url:
        raise GatewayError("the push gateway reads the workers' event stream: give --redis-url (or TF_REDIS_URL)")
    from streams.site_streams import LayoutMismatch, open_redis_events

    try:
        bus = open_redis_events(
            settings.redis_url, [site.id for site in plant.sites], plant.site_of_event, settings.stream_per_site
        )
    except LayoutMismatch as exc:
        raise GatewayError(str(exc)) from None
    # Only a shared history (PostgreSQL) can be read beside the workers: an embedded DuckDB file
    # is held by the worker writing it. Without one the gateway folds what the stream retains.
    try:
        history = open_history(settings.history_url, plant) if settings.history_url else None
    except HistoryError as exc:
        raise GatewayError(str(exc)) from None
    # As a worker's pump: the line clock's window is the ingest's business, not the fold's.
    check = PlantCheck(
        plant, window=timedelta(days=3650), lookup_unit=history.unit_order if history is not None else None
    )
    # Trackers do not depend on people's actions: the control log is not read here.
    live = LivePlant(plant, bus, MemoryBus(), check=check)
    if history is not None:
        live.state = state_at(history)
        live.offsets["events"] = recorded_offsets(history, {"events": bus})["events"]
    else:
        log.warning("no --history-url: the gateway knows the orders the Redis stream still holds")
    while live.read_once() >= BATCH:
        pass  # caught up before the first socket: its view is current
    queries = LiveQueries(live, history)
    queries.misses = MissLimiter(storage_uri(settings.redis_url))
    gateway = TrackerGateway(queries, settings.allowed_origins, settings.trusted_proxies, settings.api_keys)
    return gateway, history


def serve_gateway(settings: Settings, plant: Plant) -> int:
    """Serve tracker sockets on ``settings.host:port`` until SIGTERM or Ctrl-C; return the exit status."""
    open_files = raise_open_files_limit()
    log.info("open files allowed: %d, room for about %d trackers", open_files, viewers_room(open_files, per_viewer=1))
    try:
        gateway, history = open_gateway(settings, plant)
    except GatewayError as exc:
        log.error("%s", exc)
        return 2
    stop = asyncio.Event()

    async def start(app_: web.Application) -> None:
        app_["pump"] = asyncio.create_task(gateway.pump(stop))
        app_["gc"] = asyncio.create_task(gateway.collect_garbage(stop))

    async def close_sockets(_app: web.Application) -> None:
        # SIGTERM or Ctrl-C (aiohttp's handlers): a WebSocket's handler would otherwise keep the
        # server for aiohttp's shutdown timeout. Pages reconnect, with their jittered back-off.
        for sid in list(gateway.rooms.members):
            await gateway.sio.disconnect(sid)

    async def finish(app_: web.Application) -> None:
        stop.set()
        await app_["pump"]
        await app_["gc"]
        gateway.close()
        if history is not None:
            history.close()

    app = gateway.application()
    app.on_startup.append(start)
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(finish)
    print(f"Push gateway:   http://{settings.host}:{settings.port}   (give the workers --push-url)", flush=True)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, shutdown_timeout=5)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc.strerror)
        return 2
    return 0


@click.command("push", context_settings={"help_option_names": ["-h", "--help"]})
@push_options
def push_command(**params: Any) -> None:
    """Serve customers' tracker sockets from the workers' Redis stream (give the workers --push-url)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from_params(params)
    try:
        plant = load_plant(settings.config)
    except LayoutError as exc:
        raise click.ClickException(str(exc)) from None
    raise SystemExit(serve_gateway(settings, plant))
