"""``tf emulate`` / ``python -m line_emulator --seed 7 --duration 8h --fast --out events.jsonl``.

Writes one CloudEvents JSON document per line. With ``--seed`` and ``--start`` the output is
byte-identical on every run: tracking tokens then come from a seeded generator too, so such files
are test data, never links to hand to customers.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import click

from config import TIMESTAMP
from factory.layout import LayoutError, load_plant
from line_emulator.model import PlantModel, new_run_id
from line_emulator.orders import random_token
from line_emulator.params import load_params
from line_emulator.resume import read_stream, resume_plan
from line_emulator.runner import run_fast, run_paced
from streams.codec import to_bytes

ROOT = Path(__file__).resolve().parent.parent
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Parse ``90s``, ``30m``, ``8h``, ``2d`` or plain seconds into seconds (ValueError otherwise)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"not a positive duration like 90s, 30m, 8h or 2d: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value, param, ctx) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def seeded_tokens(seed: int):
    """Return a token source that repeats for the same seed (reproducible test data only)."""
    rng = random.Random(f"{seed}:tracking-tokens")
    return lambda: base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()


@click.command("emulate", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=ROOT / "factory.yaml",
    show_default=True,
    envvar="TF_CONFIG",
    show_envvar=True,
    help="Factory file.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    envvar="TF_SEED",
    show_envvar=True,
    help="Random seed; the same seed and start give identical output.",
)
@click.option(
    "--duration",
    type=_Duration(),
    default="8h",
    show_default=True,
    help="Simulated time to run, e.g. 90s, 30m, 8h, 2d.",
)
@click.option(
    "--start",
    type=TIMESTAMP,
    default=None,
    help="Simulation clock at the start, ISO 8601 (default: 2026-01-05T06:00Z with --seed, else now; "
    "on a Redis stream that holds the plant already, where it ends).",
)
@click.option("--fast", is_flag=True, help="Run as fast as possible instead of paced (a progress bar on a terminal).")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    envvar="TF_SPEED",
    show_envvar=True,
    help="Paced mode: simulated seconds per real second.",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output file (default: standard output).")
@click.option(
    "--redis-url",
    default=None,
    envvar="TF_REDIS_URL",
    show_envvar=True,
    help="Publish to this Redis stream (redis://host:port/db) instead of writing JSON lines; retries with "
    "backoff while Redis is unreachable, and resumes the plant the stream already holds.",
)
@click.option(
    "--stream-per-site/--single-stream",
    "stream_per_site",
    default=None,
    envvar="TF_STREAM_PER_SITE",
    show_envvar=True,
    help="With --redis-url: a stream per site (default: the layout the Redis already carries, one stream "
    "if it carries none yet; see the app's option of the same name).",
)
def emulate(
    config: Path,
    seed: int | None,
    duration: float,
    start,
    fast: bool,
    speed: float,
    out: Path | None,
    redis_url: str | None,
    stream_per_site: bool | None,
) -> None:
    """Simulate the enterprise's plants and write their event stream as JSON lines (or to Redis)."""
    sys.exit(
        _main(
            SimpleNamespace(
                config=config,
                seed=seed,
                duration=duration,
                start=start,
                fast=fast,
                speed=speed,
                out=out,
                redis_url=redis_url,
                stream_per_site=stream_per_site,
            )
        )
    )


def _main(args: SimpleNamespace) -> int:
    try:
        plant = load_plant(args.config)
    except LayoutError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    tokens = seeded_tokens(args.seed) if args.seed is not None else random_token
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.redis_url:
        return _to_redis(args, plant, tokens)
    if args.start is None:
        args.start = datetime(2026, 1, 5, 6, tzinfo=UTC) if args.seed is not None else datetime.now(UTC)
    # Bytes straight from the codec: a text sink would decode each line only to encode it again.
    sink = open(args.out, "wb") if args.out else sys.stdout.buffer  # noqa: SIM115
    try:
        model = PlantModel(plant, lambda e: sink.write(to_bytes(e) + b"\n"), args.start, args.seed, tokens)
        _run(args, model)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's exit-time flush from
        # raising the same error again on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
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

    from line_emulator.external_orders import OrderInbox, StreamFollower, own_sources
    from line_emulator.publisher import BusPublisher
    from streams.site_streams import LayoutMismatch, open_redis_events

    try:
        sites = [site.id for site in plant.sites]
        bus = open_redis_events(args.redis_url, sites, plant.site_of_event, args.stream_per_site)
    except LayoutMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    publisher = BusPublisher(bus, retry_on=(redis.RedisError, OSError))
    try:
        model = _model_on_stream(args, plant, tokens, bus, publisher.emit)
        if model is None:
            return 2
        # Orders placed elsewhere (the app's configurator, an ERP) arrive on the same stream.
        inbox = OrderInbox(own_sources(model))
        follower = StreamFollower(bus, inbox, after=bus.tail(), retry_on=(redis.RedisError, OSError))

        def step() -> None:
            follower.poll()
            inbox.deliver(model)
            publisher.flush()

        _run(args, model, after_step=step)
        publisher.flush()
    except KeyboardInterrupt:
        publisher.flush()
        return 130
    finally:
        bus.close()
    return 0


def _model_on_stream(args, plant, tokens, bus, emit) -> PlantModel | None:
    """The plant on a shared stream: it continues what the stream holds (a restart is a non-event).

    The stream is the standalone emulator's only memory: folding it gives the units in progress,
    the order numbers and the clock, so nothing is emitted twice and no unit code repeats.
    """
    record = read_stream(bus, plant)
    if record.until is None:
        start = args.start or (datetime(2026, 1, 5, 6, tzinfo=UTC) if args.seed is not None else datetime.now(UTC))
        return PlantModel(plant, emit, start, args.seed, tokens, run_id=new_run_id())
    if args.start is not None and args.start < record.until:
        print(
            f"error: the stream already holds this plant's events up to {record.until.isoformat()}: --start "
            f"{args.start.isoformat()} would simulate that time again. Start without --start to resume, "
            "or delete the stream to begin anew.",
            file=sys.stderr,
        )
        return None
    clock = args.start or record.until
    seed = args.seed
    if seed is not None:  # a resumed seeded run draws afresh: its tokens must not repeat the first run's
        seed = random.Random(f"{seed}:{clock.isoformat()}").getrandbits(32)
        tokens = seeded_tokens(seed)
    params = load_params(plant)
    plan = resume_plan(record.state, plant, params, clock)
    units = sum(len(p["progress"]) for p in plan.values())
    logging.getLogger(__name__).info(
        "resuming the plant at %s from %d events on the stream, %d units in progress",
        clock.isoformat(),
        record.events,
        units,
    )
    return PlantModel(
        plant,
        emit,
        clock,
        args.seed,
        tokens,
        params=params,
        first_orders=record.first_orders,
        run_id=new_run_id(),
        resume=plan,
    )


def _progress_bar(fraction: float) -> None:
    width = 40
    done = int(fraction * width)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction:6.1%}")
    sys.stderr.flush()


if __name__ == "__main__":
    emulate(prog_name="python -m line_emulator.cli")
