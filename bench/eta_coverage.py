"""ETA calibration over simulated days: how often does the stated range contain the real finish?

    python bench/eta_coverage.py [--days 30] [--seed 7] [--every 60m]

Runs the default plant for ``--days`` (in process, as fast as it can), folds every event into
the live projection as the app does, and every ``--every`` of plant time asks
factory.eta.estimate, for every unit not finished yet, for its P10-P90 finish range (the one
the tracker shows). When a unit completes, each of its earlier ranges is scored: did the real
finish fall inside? Reported: coverage overall (goal 80 % +/- 5 %), per line, per stage of the
order (waiting in the order backlog, on the line), and how far outside the misses fell.
Estimates on standard times (too few finished units yet to measure a range) are counted apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from factory.eta import estimate
from factory.layout import load_plant
from factory.projector import apply, evict
from factory.state import empty_state
from factory.views import _where, units_ahead
from line_emulator.cli import parse_duration
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", default="60m", help="how often (plant time) every open unit is asked")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    every = timedelta(seconds=parse_duration(args.every))
    plant = load_plant(ROOT / "factory.yaml")
    state = empty_state(plant)
    pending: dict[str, list[tuple[datetime, datetime, datetime, str, str]]] = defaultdict(list)
    scored: list[dict] = []
    next_ask = T0 + timedelta(days=1)  # the first day warms the line up (no finished units to measure from)

    def ask(now: datetime) -> None:
        for unit in list(state.units.values()):
            if unit.completed_at is not None or unit.scrapped_at is not None:
                continue
            line = plant.line(unit.line_id)
            where = _where(unit, line)
            eta = estimate(state, line, unit, units_ahead(state, unit, where), plant.open_clock(line.id))
            if eta is None:
                continue
            stage = "backlog" if not unit.visits else "on the line"
            basis = "measured" if eta["basis"].startswith("last") else "standard times"
            low, _, high = eta["finish"]
            pending[unit.unit_code].append((now, low, high, stage if basis == "measured" else basis, unit.line_id))

    def sink(event: ev.Event) -> None:
        nonlocal next_ask
        while event.time >= next_ask:
            ask(next_ask)
            evict(state, next_ask)
            next_ask += every
        apply(state, event)
        if isinstance(event, ev.UnitCompleted):
            for _asked, low, high, stage, line_id in pending.pop(event.unit_code, []):
                miss_s = (
                    0.0
                    if low <= event.time <= high
                    else min(abs((event.time - low).total_seconds()), abs((event.time - high).total_seconds()))
                )
                scored.append(
                    {
                        "stage": stage,
                        "line": line_id,
                        "inside": miss_s == 0.0,
                        "late": event.time > high,
                        "miss_s": miss_s,
                        "width_s": (high - low).total_seconds(),
                    }
                )
        elif isinstance(event, ev.UnitScrapped):
            pending.pop(event.unit_code, None)

    run_fast(PlantModel(plant, sink, T0, seed=args.seed), args.days * 86400)

    def share(rows: list[dict]) -> dict:
        misses = [r["miss_s"] / 60 for r in rows if not r["inside"]]
        return {
            "ranges": len(rows),
            "coverage": round(sum(r["inside"] for r in rows) / len(rows), 4) if rows else None,
            "median_width_min": round(statistics.median(r["width_s"] for r in rows) / 60, 1) if rows else None,
            "median_miss_min": round(statistics.median(misses), 1) if misses else None,
            "late_share_of_misses": round(sum(r["late"] for r in rows if not r["inside"]) / len(misses), 3)
            if misses
            else None,
        }

    measured = [r for r in scored if r["stage"] != "standard times"]
    report = {
        "days": args.days,
        "every": args.every,
        "measured": share(measured),
        "by_stage": {s: share([r for r in measured if r["stage"] == s]) for s in ("backlog", "on the line")},
        "by_line": {ln.id: share([r for r in measured if r["line"] == ln.id]) for ln in plant.lines},
        "standard_times": share([r for r in scored if r["stage"] == "standard times"]),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
