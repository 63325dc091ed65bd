"""How many times faster than real time the emulator runs the default plant, every event encoded.

Baselines in the same process, so ratios survive a noisy machine: the same plant encoded by the
previous orjson codec (a dict comprehension per event and a memoised time format, before
encoding was compiled per event class) and by the first one (Python's json), the same plant with
encoding switched off (what JSON costs), and a bare SimPy 10-station tandem line (what the engine alone
does with one resource request and one timeout per station visit). Reports medians of --repeat
runs, in CPU seconds of this process (one core).

    python bench/emulator_speed.py [--hours 8] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson

from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.processes import Process
from line_emulator.runner import run_fast
from streams.codec import SPEC_VERSION, _data_fields, _encode, format_time, to_json
from streams.events import Event


def previous_to_dict(event: Event) -> dict:
    """The document as the codec built it before encoding was compiled per class."""
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": event.source,
        "type": event.TYPE,
        "time": format_time(event.time),
        "datacontenttype": "application/json",
        "data": {name: _encode(getattr(event, name)) for name in _data_fields(type(event))},
    }


def previous_to_json(event: Event) -> str:
    """The orjson codec before encoding was compiled per class."""
    return orjson.dumps(previous_to_dict(event), option=orjson.OPT_SORT_KEYS).decode()


def stdlib_to_json(event: Event) -> str:
    """The first codec, Python's json module: what the issue's 12,236x was measured with."""
    return json.dumps(previous_to_dict(event), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def plant_run(hours: float, seed: int, encode=to_json) -> tuple[float, int]:
    """Run the default plant as fast as possible, each event through ``encode`` (or none); return (CPU s, events)."""
    plant = load_plant(ROOT / "factory.yaml")
    count = 0
    format_time.cache_clear()  # the same seed gives the same times: no run may reuse another's

    def emit(event: Event) -> None:
        nonlocal count
        if encode is not None:
            encode(event)
        count += 1

    model = PlantModel(plant, emit, datetime(2026, 1, 5, tzinfo=UTC), seed=seed)
    started = time.process_time()
    run_fast(model, hours * 3600)
    return time.process_time() - started, count


def bare_simpy_run(hours: float, seed: int) -> float:
    """A 10-station line in bare SimPy (60 s stations, arrivals at 85 % load); return CPU s."""
    env = simpy.Environment()
    rng = random.Random(seed)
    stations = [simpy.Resource(env, 1) for _ in range(10)]

    def unit() -> Process:
        for st in stations:
            with st.request() as req:
                yield req
                yield env.timeout(rng.expovariate(1 / 60))

    def source() -> Process:
        while True:
            yield env.timeout(rng.expovariate(0.85 / 60))
            env.process(unit())

    env.process(source())
    started = time.process_time()
    env.run(until=hours * 3600)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0, help="simulated hours per run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sim_s = args.hours * 3600
    plant_x, old_x, std_x, raw_x, bare_x, rates = [], [], [], [], [], []
    for i in range(args.repeat):
        cpu, events = plant_run(args.hours, seed=i)
        plant_x.append(sim_s / cpu)
        rates.append(events / cpu)
        old_x.append(sim_s / plant_run(args.hours, seed=i, encode=previous_to_json)[0])
        std_x.append(sim_s / plant_run(args.hours, seed=i, encode=stdlib_to_json)[0])
        raw_x.append(sim_s / plant_run(args.hours, seed=i, encode=None)[0])
        bare_x.append(sim_s / bare_simpy_run(args.hours, seed=i))
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}"
    )
    plant = load_plant(ROOT / "factory.yaml")
    stations = sum(len(line.stations) for line in plant.lines)
    print(
        f"default plant ({len(plant.lines)} lines, {stations} stations, every event JSON-encoded): "
        f"{events:,} events per run"
    )
    print(
        f"  median {statistics.median(plant_x):,.0f}x real time, {statistics.median(rates):,.0f} events/s "
        f"(runs: {', '.join(f'{x:,.0f}' for x in plant_x)})"
    )
    for label, base in (("previous orjson codec", old_x), ("first codec, Python's json", std_x)):
        ratios = [new / old for new, old in zip(plant_x, base, strict=True)]
        print(
            f"same plant, {label}: median {statistics.median(base):,.0f}x real time "
            f"(ours / it, same seed, paired: median {statistics.median(ratios):.2f}, "
            f"runs {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    print(
        f"same plant without encoding: median {statistics.median(raw_x):,.0f}x real time "
        f"(encoding costs {1 - statistics.median(plant_x) / statistics.median(raw_x):.0%} of the run)"
    )
    print(f"bare SimPy 10-station line (60 s stations): median {statistics.median(bare_x):,.0f}x real time")


if __name__ == "__main__":
    main()
