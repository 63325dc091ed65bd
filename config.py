"""Settings read once, from command-line flags and the environment, then passed down.

No other module reads ``os.environ``: everything configurable arrives through :class:`Settings`.
Flags win over environment variables (``TF_<NAME>``), which win over the defaults.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    speed: float = 10.0  # simulated seconds per wall-clock second
    seed: int | None = None  # None: a different plant history every start
    config: Path = ROOT / "factory.yaml"
    start: datetime | None = None  # simulation clock at the end of warm-up; None: now
    emulator: bool = True
    warmup_s: float | None = None  # None: the factory file's simulation.warmup_s
    data_dir: Path | None = ROOT / "data"  # the history file lives here; None keeps history in memory
    replay_h: float = 24.0  # hours of history a process without its own emulator replays at start
    redis_url: str | None = None  # None: the in-process bus
    mqtt_url: str | None = None  # None: no MQTT bridge
    mqtt_topic: str = "factory/+/events"
    api_keys: tuple[str, ...] = ()  # bearer keys for /api/kpis; none configured: one is made per run
    frame_interval_s: float = 0.15  # coalescing period of a floor screen's frames: p99 event -> screen under 300 ms
    tracking_links: int = 3  # how many tracking URLs to print at start
    kiosk_rotate_s: float = 60.0  # a kiosk wall screen moves on to the next line this often; 0: never
    stale_after_s: float = 15.0  # a wall-screen panel greys out when its data is older than this

    @property
    def base_url(self) -> str:
        """Return the URL people open, with a wildcard host replaced by loopback."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be a TCP port (1-65535), got {text}")
    return value


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 time for a flag; a time without a zone is taken as UTC."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python app.py``'s flags."""
    parser = argparse.ArgumentParser(
        prog="app.py",
        description="Transparent Factory: a live view of mass-customisation lines for customers, "
        "floor managers and executives. Runs the line emulator, the event bus and the web app "
        "in one process with no external service.",
    )
    env = _EnvDefaults(os.environ)
    parser.add_argument(
        "--host",
        default=env.get("HOST", "127.0.0.1"),
        help="interface to listen on (default %(default)s; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=_port, default=env.get("PORT", 8050, _port), help="HTTP port (default %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=env.get("SPEED", 10.0, _positive_float),
        help="simulated seconds per real second (default %(default)s: a unit crosses a line in a few minutes)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=env.get("SEED", None, int),
        help="random seed of the emulator, for a reproducible plant (default: random)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=env.get("CONFIG", ROOT / "factory.yaml", Path),
        help="factory file describing sites, lines, stations and products (default factory.yaml)",
    )
    parser.add_argument(
        "--start",
        type=parse_timestamp,
        default=env.get("START", None, parse_timestamp),
        help="simulation clock when the app starts, ISO 8601 (default: now)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=env.get("WARMUP_S", None, float),
        dest="warmup_s",
        metavar="SECONDS",
        help="simulated seconds run before serving, so lines start full "
        "(default: the factory file's simulation.warmup_s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=env.get("DATA_DIR", ROOT / "data", Path),
        help="where the event history (history.duckdb) is kept (default ./data)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        default=[k for k in env.get("API_KEYS", "").split(",") if k],
        help="key accepted by /api/kpis as 'Authorization: Bearer KEY' (repeatable; "
        "TF_API_KEYS takes a comma-separated list). Without one, a key is made and printed at start",
    )
    parser.add_argument(
        "--redis-url",
        default=env.get("REDIS_URL", None),
        help="use this Redis (redis://host:port/db) for the event stream instead of the in-process "
        "bus, so an emulator and several app processes can share it",
    )
    parser.add_argument(
        "--mqtt-url",
        default=env.get("MQTT_URL", None),
        help="take events from real lines over MQTT (mqtt://host:port), validated like POST /api/events",
    )
    parser.add_argument(
        "--mqtt-topic",
        default=env.get("MQTT_TOPIC", "factory/+/events"),
        help="topic filter, one topic per line (default %(default)s)",
    )
    parser.add_argument(
        "--kiosk-rotate",
        type=float,
        default=env.get("KIOSK_ROTATE_S", 60.0, float),
        dest="kiosk_rotate_s",
        metavar="SECONDS",
        help="kiosk wall screens show each line this long, then the next (0: stay; default %(default)s)",
    )
    parser.add_argument(
        "--stale-after",
        type=_positive_float,
        default=env.get("STALE_AFTER_S", 15.0, _positive_float),
        dest="stale_after_s",
        metavar="SECONDS",
        help="wall-screen panels grey out when their data is older than this (default %(default)s)",
    )
    parser.add_argument(
        "--frame-interval",
        type=_positive_float,
        default=env.get("FRAME_INTERVAL_S", 0.15, _positive_float),
        dest="frame_interval_s",
        metavar="SECONDS",
        help="a wall screen gets at most one frame per line this often (default %(default)s)",
    )
    parser.add_argument(
        "--no-emulator", action="store_false", dest="emulator", help="do not run the built-in line emulator"
    )
    return parser


def settings_from_args(argv: Sequence[str] | None = None) -> Settings:
    """Parse flags (and TF_* environment variables) into Settings."""
    args = build_parser().parse_args(argv)
    return Settings(
        host=args.host,
        port=args.port,
        speed=args.speed,
        seed=args.seed,
        config=args.config,
        start=args.start,
        emulator=args.emulator,
        warmup_s=args.warmup_s,
        data_dir=args.data_dir,
        api_keys=tuple(args.api_keys),
        redis_url=args.redis_url,
        mqtt_url=args.mqtt_url,
        mqtt_topic=args.mqtt_topic,
        kiosk_rotate_s=max(0.0, args.kiosk_rotate_s),
        stale_after_s=args.stale_after_s,
        frame_interval_s=args.frame_interval_s,
    )


class _EnvDefaults:
    """Reads ``TF_<NAME>`` variables as defaults, converting and naming the culprit on error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str, default, convert=str):
        raw = self._environ.get(f"TF_{name}")
        if raw is None or raw == "":
            return default
        try:
            return convert(raw)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise SystemExit(f"environment variable TF_{name}={raw!r} is invalid: {exc}") from None
