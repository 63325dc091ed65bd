"""Command line: ``python -m line_emulator --seed 7 --duration 8h --fast --out events.jsonl``.

Writes one CloudEvents JSON document per line. With ``--seed`` and ``--start`` the output is
byte-identical on every run: tracking tokens then come from a seeded generator too, so such files
are test data, never links to hand to customers.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import random
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from config import parse_timestamp
from factory.layout import LayoutError, load_plant
from line_emulator.model import PlantModel
from line_emulator.orders import random_token
from line_emulator.runner import run_fast, run_paced
from streams.codec import to_json

ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Parse ``90s``, ``30m``, ``8h``, ``2d`` or plain seconds into seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive duration like 90s, 30m, 8h or 2d: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def seeded_tokens(seed: int):
    """Return a token source that repeats for the same seed (reproducible test data only)."""
    rng = random.Random(f"{seed}:tracking-tokens")
    return lambda: base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m line_emulator", description="Simulate the plant and write its event stream as JSON lines."
    )
    parser.add_argument(
        "--config", type=Path, default=ROOT / "factory.yaml", help="factory file (default factory.yaml)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed; same seed and start give identical output")
    parser.add_argument(
        "--duration",
        type=parse_duration,
        default=parse_duration("8h"),
        help="simulated time to run, e.g. 90s, 30m, 8h, 2d (default 8h)",
    )
    parser.add_argument(
        "--start",
        type=parse_timestamp,
        default=None,
        help="simulation clock at the start, ISO 8601 (default: 2026-01-05T06:00Z with --seed, else now)",
    )
    parser.add_argument("--fast", action="store_true", help="run as fast as possible instead of paced")
    parser.add_argument("--speed", type=float, default=10.0, help="paced mode: simulated seconds per real second")
    parser.add_argument("--out", type=Path, default=None, help="output file (default: standard output)")
    parser.add_argument(
        "--redis-url",
        default=None,
        help="publish to this Redis stream (redis://host:port/db) instead of writing JSON lines; "
        "retries with backoff while Redis is unreachable",
    )
    args = parser.parse_args(argv)
    try:
        plant = load_plant(args.config)
    except LayoutError as exc:
        parser.error(str(exc))
    if args.start is None:
        args.start = datetime(2026, 1, 5, 6, tzinfo=UTC) if args.seed is not None else datetime.now(UTC)
    tokens = seeded_tokens(args.seed) if args.seed is not None else random_token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.redis_url:
        return _to_redis(args, plant, tokens)
    out = open(args.out, "w", encoding="utf-8", newline="\n") if args.out else sys.stdout
    try:
        model = PlantModel(plant, lambda e: out.write(to_json(e) + "\n"), args.start, args.seed, tokens)
        _run(args, model)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's exit-time flush from
        # raising the same error again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _run(args, model: PlantModel, after_step=None) -> None:
    if args.fast:
        show = sys.stderr.isatty() and (args.out is not None or args.redis_url is not None)
        run_fast(model, args.duration, progress=_progress_bar if show else None, after_step=after_step)
        if show:
            sys.stderr.write("\n")
    else:
        run_paced(model, args.speed, threading.Event(), after_tick=after_step, until_s=args.duration)


def _to_redis(args, plant, tokens) -> int:
    import redis

    from line_emulator.publisher import BusPublisher
    from streams.redis_streams import RedisStreamsBus

    bus = RedisStreamsBus(args.redis_url)
    publisher = BusPublisher(bus, retry_on=(redis.RedisError, OSError))
    try:
        _run(args, PlantModel(plant, publisher.emit, args.start, args.seed, tokens), after_step=publisher.flush)
        publisher.flush()
    except KeyboardInterrupt:
        publisher.flush()
        return 130
    finally:
        bus.close()
    return 0


def _progress_bar(fraction: float) -> None:
    width = 40
    done = int(fraction * width)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction:6.1%}")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
