"""Settings read once, from command-line flags and the environment, then passed down.

No other module reads ``os.environ``: everything configurable arrives through :class:`Settings`.
Flags win over environment variables (``TF_<NAME>``), which win over the defaults. The flags of
``tf run`` / ``python app.py`` are declared here, once, as click options (:func:`run_options`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    speed: float = 10.0  # simulated seconds per wall-clock second
    seed: int | None = None  # None: a different plant history every start
    config: Path = ROOT / "factory.yaml"
    start: datetime | None = None  # simulation clock at the end of warm-up; None: now (or where history ends)
    reset: bool = False  # wipe the data directory's history before starting
    emulator: bool = True
    warmup_s: float | None = None  # None: the factory file's simulation.warmup_s
    data_dir: Path | None = ROOT / "data"  # the history file lives here; None keeps history in memory
    redis_url: str | None = None  # None: the in-process bus
    stream_per_site: bool | None = None  # None: the layout the Redis already carries (one stream if new)
    mqtt_url: str | None = None  # None: no MQTT bridge
    mqtt_topic: str = "factory/+/events"
    mqtt_client_id: str | None = None  # None: a unique id per process, clean session
    api_keys: tuple[str, ...] = ()  # bearer keys for the REST API; none configured: one is made per run
    frame_interval_s: float = 0.15  # coalescing period of a floor screen's frames: p99 event -> screen under 300 ms
    join_rate: float = 150.0  # sockets given a room's whole view per second beyond a burst; 0: unpaced
    tracking_links: int = 3  # how many tracking URLs to print at start
    kiosk_rotate_s: float = 60.0  # a kiosk wall screen moves on to the next line this often; 0: never
    stale_after_s: float = 15.0  # a wall-screen panel greys out when its data is older than this
    event_window_h: float = 24.0 * 7  # events further than this from the stream's clock are refused
    history_url: str | None = None  # postgresql://… a history workers share; None: DATA_DIR/history.duckdb
    trusted_proxies: int = 0  # reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed
    allowed_origins: tuple[str, ...] = ()  # origins besides the app's own that may open a socket
    push_url: str | None = None  # customers' trackers open their socket on this push gateway (tf push); None: here
    secret_key: str | None = None  # signs session cookies; None: shared through Redis, or kept in DATA_DIR
    async_mode: str = "threading"  # "gevent" when served by `python app.py`; threading for in-process tests

    @property
    def base_url(self) -> str:
        """Return the URL people open, with a wildcard host replaced by loopback."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 time; a time without a zone is taken as UTC. Raises ValueError."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class _Timestamp(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_timestamp(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIMESTAMP = _Timestamp()
POSITIVE = click.FloatRange(min=0, min_open=True)


def _rotation(_ctx, _param, value: float) -> float:
    """A wall screen cannot be read in under 5 s, and a rotation beyond a day is a typo."""
    if value and not 5 <= value <= 24 * 3600:
        raise click.BadParameter("give 0 (stay on one line) or 5 to 86400 seconds")
    return value


def _push_url(value: str | None) -> str | None:
    """A push gateway's URL is a page's origin plus, behind a proxy, a path: http(s)://host[:port][/path]."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise click.BadParameter(f"give the gateway's http:// or https:// URL, not {value!r}")
    return value.rstrip("/")


def _option(*names: str, env: str | None = None, **kwargs: Any) -> Callable:
    """A click option whose default may come from ``TF_<env>`` (read here, in config.py only)."""
    if env is not None:
        kwargs["envvar"] = f"TF_{env}"
        kwargs.setdefault("show_envvar", True)
    return click.option(*names, **kwargs)


_RUN_OPTIONS = [
    _option(
        "--host",
        env="HOST",
        default="127.0.0.1",
        show_default=True,
        help="Interface to listen on (0.0.0.0 for every interface).",
    ),
    _option("--port", env="PORT", type=click.IntRange(1, 65535), default=8050, show_default=True, help="HTTP port."),
    _option(
        "--speed",
        env="SPEED",
        type=POSITIVE,
        default=10.0,
        show_default=True,
        help="Simulated seconds per real second (a unit crosses a line in a few minutes).",
    ),
    _option("--seed", env="SEED", type=int, default=None, help="Random seed of the emulator (default: random)."),
    _option(
        "--config",
        env="CONFIG",
        type=click.Path(path_type=Path),
        default=ROOT / "factory.yaml",
        help="Factory file describing sites, lines, stations and products (default factory.yaml).",
    ),
    _option(
        "--start",
        env="START",
        type=TIMESTAMP,
        default=None,
        help="Simulation clock at start, ISO 8601. Default: now on an empty data directory, else where "
        "the recorded history ends (the plant resumes). A time before that needs --reset.",
    ),
    _option(
        "--reset",
        is_flag=True,
        default=False,
        help="Delete the recorded history (events, KPI sums) before starting; accounts are kept.",
    ),
    _option(
        "--warmup",
        "warmup_s",
        env="WARMUP_S",
        type=click.FloatRange(min=0),
        default=None,
        metavar="SECONDS",
        help="Simulated seconds run before serving on an empty history, so lines start full "
        "(default: the factory file's simulation.warmup_s).",
    ),
    _option(
        "--data-dir",
        env="DATA_DIR",
        type=click.Path(path_type=Path),
        default=ROOT / "data",
        help="Where the history, accounts and keys are kept (default ./data).",
    ),
    _option(
        "--api-key",
        "api_keys",
        env="API_KEYS",
        multiple=True,
        help="Key accepted by the REST API as 'Authorization: Bearer KEY' (repeatable; TF_API_KEYS takes "
        "a space-separated list). Without one, a key is made and printed at start.",
    ),
    _option(
        "--redis-url",
        env="REDIS_URL",
        default=None,
        help="Use this Redis (redis://host:port/db) for the event stream instead of the in-process bus, "
        "so an emulator and several app processes can share it.",
    ),
    _option(
        "--stream-per-site/--single-stream",
        "stream_per_site",
        env="STREAM_PER_SITE",
        default=None,
        help="With --redis-url: carry each site's events on a stream of its own, so a burst from one site "
        "does not delay the others' screens. Chosen once per Redis, by the first process that opens it; "
        "later ones follow (and are refused if they ask for the other layout).",
    ),
    _option(
        "--mqtt-url",
        env="MQTT_URL",
        default=None,
        help="Take events from real lines over MQTT (mqtt://host:port), validated like POST /api/events.",
    ),
    _option(
        "--mqtt-topic",
        env="MQTT_TOPIC",
        default="factory/+/events",
        show_default=True,
        help="Topic filter, one topic per line.",
    ),
    _option(
        "--mqtt-client-id",
        env="MQTT_CLIENT_ID",
        default=None,
        help="Fixed MQTT client id with a persistent session (the broker keeps messages while the bridge "
        "is away). Default: a unique id per process and a clean session.",
    ),
    _option(
        "--kiosk-rotate",
        "kiosk_rotate_s",
        env="KIOSK_ROTATE_S",
        type=click.FloatRange(min=0),
        callback=_rotation,
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="Kiosk wall screens show each line this long (0: stay; else 5 to 86400).",
    ),
    _option(
        "--stale-after",
        "stale_after_s",
        env="STALE_AFTER_S",
        type=POSITIVE,
        default=15.0,
        show_default=True,
        metavar="SECONDS",
        help="Wall-screen panels grey out when their data is older than this.",
    ),
    _option(
        "--frame-interval",
        "frame_interval_s",
        env="FRAME_INTERVAL_S",
        type=POSITIVE,
        default=0.15,
        show_default=True,
        metavar="SECONDS",
        help="A wall screen gets at most one frame per line this often.",
    ),
    _option(
        "--join-rate",
        env="JOIN_RATE",
        type=click.FloatRange(min=0),
        default=150.0,
        show_default=True,
        metavar="PER_SECOND",
        help="Sockets given a room's whole view (join or resync) per second once a burst of 30 is spent, "
        "so the viewers of a restarted worker come back spread out (0: no pace).",
    ),
    _option(
        "--event-window",
        "event_window_h",
        env="EVENT_WINDOW_H",
        type=POSITIVE,
        default=24.0 * 7,
        show_default=True,
        metavar="HOURS",
        help="Events from outside further than this from the stream's clock are refused (dead letter).",
    ),
    _option(
        "--history-url",
        env="HISTORY_URL",
        default=None,
        help="Keep the history in PostgreSQL (postgresql://USER@HOST:PORT/DATABASE), shared by the workers "
        "of one Redis stream; one of them writes it at a time. Default: DATA_DIR/history.duckdb.",
    ),
    _option(
        "--trusted-proxies",
        env="TRUSTED_PROXIES",
        type=click.IntRange(0, 10),
        default=0,
        show_default=True,
        help="How many reverse proxies in front of the app to believe for X-Forwarded-For/-Proto/-Host "
        "(the client address rate limits are counted by).",
    ),
    _option(
        "--allowed-origin",
        "allowed_origins",
        env="ALLOWED_ORIGINS",
        multiple=True,
        help="An origin (https://factory.example.com) besides the app's own that may open a socket "
        "(repeatable; TF_ALLOWED_ORIGINS takes a space-separated list).",
    ),
    _option(
        "--push-url",
        env="PUSH_URL",
        default=None,
        callback=lambda _ctx, _param, value: _push_url(value),
        metavar="URL",
        help="Where customers' tracker pages open their live socket: the public URL of a push gateway "
        "(tf push, e.g. https://push.factory.example.com). Default: this app.",
    ),
    _option("--no-emulator", "emulator", flag_value=False, default=True, help="Do not run the built-in line emulator."),
]


def run_options(command: Callable) -> Callable:
    """Decorate a click command with every flag of ``tf run``."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


# What the push gateway (tf push) reads of the workers' settings; its port is its own.
PUSH_SETTINGS = (
    "host", "config", "redis_url", "stream_per_site", "history_url", "trusted_proxies", "allowed_origins", "api_keys",
)  # fmt: skip


def push_options(command: Callable) -> Callable:
    """Decorate a click command with the flags of ``tf run`` the push gateway reads, and its own port."""
    for option in reversed(_RUN_OPTIONS):
        if option(lambda: None).__click_params__[0].name in PUSH_SETTINGS:
            command = option(command)
    return _option(
        "--port", env="PUSH_PORT", type=click.IntRange(1, 65535), default=8051, show_default=True, help="HTTP port."
    )(command)


def settings_from_params(params: Mapping[str, Any], **overrides: Any) -> Settings:
    """Build Settings from the parsed parameters of a command decorated with run_options."""
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in params.items() if k in known}
    values["api_keys"] = tuple(k for raw in params.get("api_keys") or () for k in str(raw).split() if k)
    values["allowed_origins"] = tuple(o for raw in params.get("allowed_origins") or () for o in str(raw).split() if o)
    values.setdefault("secret_key", os.environ.get("TF_SECRET_KEY") or None)
    values.update(overrides)
    return Settings(**values)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@run_options
def _parse(**params: Any) -> Settings:
    return settings_from_params(params)


def settings_from_args(argv: Sequence[str] | None = None) -> Settings:
    """Parse flags (and TF_* environment variables) into Settings; raises click.UsageError on bad input."""
    return _parse.main(list(argv or []), standalone_mode=False)
