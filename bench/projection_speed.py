"""Events per second through the projection, and the cost of building the views pushed to screens.

    python bench/projection_speed.py [--hours 24] [--repeat 5]

Events come from the emulator (default plant, seeded), decoded once beforehand. Reported per
run, medians of --repeat: apply() alone; decode + apply (what a consumer of JSON pays); and the
time to build one floor view and one order view from the resulting state. CPU time, one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factory.layout import load_plant
from factory.projector import apply
from factory.state import empty_state
from factory.views import floor_view, order_view
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams.codec import from_json, to_json
from streams.events import Event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    events: list[Event] = []
    run_fast(PlantModel(plant, events.append, datetime(2026, 1, 5, tzinfo=UTC), seed=1), args.hours * 3600)
    lines = [to_json(e) for e in events]

    apply_rates, decode_rates, floor_us, order_us = [], [], [], []
    for _ in range(args.repeat):
        state = empty_state(plant)
        started = time.process_time()
        for event in events:
            apply(state, event)
        apply_rates.append(len(events) / (time.process_time() - started))

        state2 = empty_state(plant)
        started = time.process_time()
        for text in lines:
            apply(state2, from_json(text))
        decode_rates.append(len(events) / (time.process_time() - started))

        started = time.process_time()
        for _ in range(100):
            floor_view(state, plant, "ac1")
        floor_us.append((time.process_time() - started) / 100 * 1e6)
        tokens = list(state.unit_by_token)[-100:]
        started = time.process_time()
        for token in tokens:
            order_view(state, plant, token)
        order_us.append((time.process_time() - started) / len(tokens) * 1e6)

    med = statistics.median
    print(f"{len(events):,} events ({args.hours:g} simulated hours of the default plant)")
    runs = ", ".join(f"{r:,.0f}" for r in apply_rates)
    print(f"apply():          median {med(apply_rates):,.0f} events/s (runs: {runs})")
    print(
        f"decode + apply(): median {med(decode_rates):,.0f} events/s "
        f"(apply alone is {med(apply_rates) / med(decode_rates):.1f}x faster)"
    )
    print(f"floor view of one line: median {med(floor_us):,.0f} us; order view: median {med(order_us):,.0f} us")


if __name__ == "__main__":
    main()
