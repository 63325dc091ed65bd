"""What if: one line's configuration changed, run side by side with the baseline on the same seeds and demand.

    tf whatif --line ac1 --set vacuum_charge.cycle_s=*0.8 [--set run_test.machines=4]
              [--demand 1.3] [--days 2] [--warmup-days 0.5] [--replications 5] [--jobs 2] [--out FILE]

A change is ``STATION.FIELD=VALUE`` (``*F`` multiplies the present value by F). Fields:
``cycle_s``, ``machines``, ``buffer``, ``mtbf_h``, ``mttr_min``. The changed factory file is
validated like the real one, so an impossible value is refused with the same message.

Both scenarios simulate only that line (its site's calendar), with the same seed in each
replication (common random numbers) and the same order arrivals: the baseline's arrival rate
times ``--demand`` (1: the plant's own load; above the bottleneck's capacity the line is
saturated and throughput shows capacity). After ``--warmup-days`` each replication measures
``--days``: throughput (units completed a day), lead time (first station entered to completed),
WIP (units between first station and done, time-averaged), each station's utilisation (its
units' processing time, changeovers left out, over its machines' time while the line was open:
not in a break, in a shift) and the bottleneck (the most utilised station). Figures are means
over replications with 95 % confidence intervals (Student's t); the throughput gain is paired,
replication by replication, since both scenarios draw the same random numbers.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import multiprocessing
import statistics
import sys
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import yaml
from scipy import stats

from factory.layout import LayoutError, parse_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from streams import events as ev

ROOT = Path(__file__).resolve().parent.parent
FIELDS = {"cycle_s": float, "machines": int, "buffer": int, "mtbf_h": float, "mttr_min": float}
ORIGIN = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the first days have shifts at every site


class WhatIfError(ValueError):
    """A change that cannot be made (unknown station or field, a value the factory file refuses)."""


@dataclass(frozen=True)
class Change:
    station: str
    field: str
    value: float
    relative: bool = False  # value multiplies the present one

    @classmethod
    def parse(cls, text: str) -> Change:
        """``brazing.cycle_s=*0.9`` or ``run_test.machines=4``."""
        target, sep, raw = text.partition("=")
        station, dot, field = target.strip().partition(".")
        if not sep or not dot or not station or field not in FIELDS:
            raise WhatIfError(f"{text!r}: write STATION.FIELD=VALUE, FIELD one of {', '.join(FIELDS)}")
        relative = raw.strip().startswith("*")
        try:
            value = float(raw.strip().lstrip("*"))
        except ValueError:
            raise WhatIfError(f"{text!r}: {raw.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise WhatIfError(f"{text!r}: the value must be a finite number")
        return cls(station, field, value, relative)

    def apply(self, station: dict[str, Any], default_breakdown: dict[str, Any] | None) -> None:
        if self.field in ("mtbf_h", "mttr_min"):
            breakdown = station.get("breakdown")
            if breakdown is False or (breakdown is None and default_breakdown is None):
                raise WhatIfError(f"station {self.station} never breaks down: it has no {self.field}")
            breakdown = station["breakdown"] = dict(breakdown or default_breakdown or {})
            breakdown[self.field] = self._new(breakdown[self.field])
        else:
            station[self.field] = self._new(station[self.field])

    def _new(self, present: float) -> float | int:
        value = present * self.value if self.relative else self.value
        if FIELDS[self.field] is int:
            if value != round(value):
                raise WhatIfError(f"{self.station}.{self.field} counts whole machines or places, not {value:g}")
            return round(value)
        return value


def line_doc(doc: dict[str, Any], line_id: str, changes: tuple[Change, ...] = ()) -> dict[str, Any]:
    """Return the factory document reduced to one line (and its site), with ``changes`` made."""
    out = copy.deepcopy(doc)
    sites = [s for s in out["sites"] if any(line["id"] == line_id for line in s["lines"])]
    if not sites:
        raise WhatIfError(f"no line {line_id!r} in the factory file")
    site = sites[0]
    site["lines"] = [line for line in site["lines"] if line["id"] == line_id]
    out["sites"] = [site]
    stations = {s["id"]: s for s in site["lines"][0]["stations"]}
    default = out.get("simulation", {}).get("default_breakdown")
    for change in changes:
        if change.station not in stations:
            raise WhatIfError(f"line {line_id} has no station {change.station!r} (it has {', '.join(stations)})")
        change.apply(stations[change.station], default)
    return out


def replicate(task: tuple[dict[str, Any], str, int, float, float, float]) -> dict[str, Any]:
    """Run one replication of one scenario and measure it (a process pool's task)."""
    doc, line_id, seed, warmup_days, days, arrivals_per_s = task
    plant = parse_plant(doc)
    events: list[ev.Event] = []
    model = PlantModel(plant, events.append, ORIGIN, seed=seed)
    model.lines[line_id].arrival_rate_per_s = arrivals_per_s  # the same demand in every scenario
    start = ORIGIN + timedelta(days=warmup_days)
    end = start + timedelta(days=days)
    run_fast(model, (end - ORIGIN).total_seconds())
    return measure(events, plant.line(line_id), start, end)


def arrival_rate(doc: dict[str, Any], line_id: str, demand: float) -> float:
    """The baseline line's order rate (its plant's load on its bottleneck) times ``demand``."""
    model = PlantModel(parse_plant(doc), lambda _event: None, ORIGIN, seed=0)
    return model.lines[line_id].arrival_rate_per_s * demand


def measure(events: list[ev.Event], line, start: datetime, end: datetime) -> dict[str, Any]:
    """Throughput, lead time, WIP, utilisation per station and the bottleneck over [start, end)."""
    span = (end - start).total_seconds()
    clip = lambda a, b: max(0.0, (min(b, end) - max(a, start)).total_seconds())  # noqa: E731
    first_in: dict[str, datetime] = {}
    done: dict[str, datetime] = {}
    busy: dict[str, float] = defaultdict(float)
    closed: list[tuple[datetime, datetime]] = []  # the line's closed stretches (no shift, planned stops)
    shut_since: dict[str, datetime | None] = {"shift": None, "stop": None}  # no calendar at all: always open
    shifts_seen = False
    lead_times: list[float] = []
    completed = 0
    for e in events:
        if isinstance(e, ev.StationEntered):
            first_in.setdefault(e.unit_code, e.time)
        elif isinstance(e, ev.StationWorkDone):
            # Processing only: a unit that entered before a break waits on its station, idle.
            if start <= e.time < end:
                busy[e.station_id] += e.work_s
        elif isinstance(e, (ev.UnitCompleted, ev.UnitScrapped)):
            done[e.unit_code] = e.time
            if isinstance(e, ev.UnitCompleted) and start <= e.time < end and e.unit_code in first_in:
                completed += 1
                lead_times.append((e.time - first_in[e.unit_code]).total_seconds() / 3600)
        elif isinstance(e, (ev.ShiftStarted, ev.PlannedStopEnded)):
            key = "shift" if isinstance(e, ev.ShiftStarted) else "stop"
            if key == "shift" and not shifts_seen:  # a line whose first word is a start was closed before it
                shut_since[key], shifts_seen = start, True
            since = shut_since[key]
            if since is not None:
                closed.append((since, e.time))
            shut_since[key] = None
        elif isinstance(e, (ev.ShiftEnded, ev.PlannedStopStarted)):
            shifts_seen = shifts_seen or isinstance(e, ev.ShiftEnded)
            shut_since["shift" if isinstance(e, ev.ShiftEnded) else "stop"] = e.time
    closed += [(since, end) for since in shut_since.values() if since is not None]
    open_s = span - _union_s([(max(a, start), min(b, end)) for a, b in closed if b > start and a < end])
    wip_s = sum(clip(t, done.get(code, end)) for code, t in first_in.items())
    machines = {s.id: s.machines for s in line.stations}
    utilisation = {sid: busy[sid] / (machines[sid] * open_s) if open_s > 0 else 0.0 for sid in machines}
    return {
        "throughput_per_day": completed / (span / 86400),
        "lead_time_h": statistics.fmean(lead_times) if lead_times else math.nan,
        "wip": wip_s / span,
        "utilisation": utilisation,
        "bottleneck": max(utilisation, key=lambda sid: utilisation[sid]),
        "open_share": open_s / span,
    }


def _union_s(spans: list[tuple[datetime, datetime]]) -> float:
    total, reach = 0.0, None
    for a, b in sorted(spans):
        if reach is None or a > reach:
            total += (b - a).total_seconds()
            reach = b
        elif b > reach:
            total += (b - reach).total_seconds()
            reach = b
    return total


def interval(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student's t interval of the mean over replications."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means and intervals of one scenario's replications."""
    out: dict[str, Any] = {}
    for key in ("throughput_per_day", "lead_time_h", "wip"):
        mean, low, high = interval([r[key] for r in runs])
        out[key] = {"mean": mean, "low": low, "high": high}
    stations = runs[0]["utilisation"]
    out["utilisation"] = {sid: statistics.fmean(r["utilisation"][sid] for r in runs) for sid in stations}
    votes = Counter(r["bottleneck"] for r in runs)
    out["bottleneck"], count = votes.most_common(1)[0]
    out["bottleneck_share"] = count / len(runs)
    return out


def compare(
    doc: dict[str, Any],
    line_id: str,
    changes: tuple[Change, ...],
    days: float = 2.0,
    warmup_days: float = 0.5,
    replications: int = 5,
    demand: float = 1.0,
    seed: int = 1,
    jobs: int = 1,
    progress=None,
) -> dict[str, Any]:
    """Run the baseline and the changed line side by side; return both summaries and the paired difference."""
    found = compare_many(doc, line_id, [changes], days, warmup_days, replications, demand, seed, jobs, progress)
    variant = found.pop("variants")[0]
    return {
        **found,
        "changes": variant["changes"],
        "changed": variant["summary"],
        "throughput_gain_per_day": variant["gain"],
    }


def compare_many(
    doc: dict[str, Any],
    line_id: str,
    variants: list[tuple[Change, ...]],
    days: float = 2.0,
    warmup_days: float = 0.5,
    replications: int = 5,
    demand: float = 1.0,
    seed: int = 1,
    jobs: int = 1,
    progress=None,
) -> dict[str, Any]:
    """Run the baseline and each variant on the same seeds and demand; one baseline serves them all."""
    if replications < 2:
        raise WhatIfError("at least 2 replications are needed for an interval")
    if not (days > 0 and warmup_days >= 0 and demand > 0):
        raise WhatIfError("days and demand must be above 0, the warm-up at least 0")
    docs = [line_doc(doc, line_id)] + [line_doc(doc, line_id, changes) for changes in variants]
    for changed in docs[1:]:
        try:
            parse_plant(changed)
        except LayoutError as exc:
            raise WhatIfError(f"the changed factory file is refused: {exc}") from None
    rate = arrival_rate(docs[0], line_id, demand)
    tasks = [(d, line_id, seed + r, warmup_days, days, rate) for r in range(replications) for d in docs]
    results: list[dict[str, Any]] = []
    # Spawned, not forked: a process with threads (a server, a test runner, DuckDB's pool) may
    # not be forked safely, and a forked replication died that way under the test suite.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) if jobs > 1 else contextlib.nullcontext() as pool:
        for result in pool.map(replicate, tasks) if pool is not None else map(replicate, tasks):
            results.append(result)
            if progress:
                progress(len(results), len(tasks))
    per_doc = [results[k :: len(docs)] for k in range(len(docs))]
    baseline = per_doc[0]
    out_variants = []
    for changes, runs_of in zip(variants, per_doc[1:]):
        mean, low, high = interval(
            [v["throughput_per_day"] - b["throughput_per_day"] for b, v in zip(baseline, runs_of)]
        )
        out_variants.append({
            "changes": [f"{c.station}.{c.field}={'*' if c.relative else ''}{c.value:g}" for c in changes],
            "summary": summarise(runs_of),
            "gain": {"mean": mean, "low": low, "high": high},  # paired: the same seeds
        })  # fmt: skip
    return {
        "line": line_id,
        "days": days,
        "warmup_days": warmup_days,
        "replications": replications,
        "demand": demand,
        "orders_per_day": rate * 86400,
        "baseline": summarise(baseline),
        "variants": out_variants,
    }


def report(result: dict[str, Any]) -> str:
    """The comparison as a few lines of text."""
    b, c = result["baseline"], result["changed"]

    def ci(x: dict[str, float], digits: int = 1) -> str:
        return f"{x['mean']:.{digits}f} [{x['low']:.{digits}f}, {x['high']:.{digits}f}]"

    def neck(x: dict[str, Any]) -> str:
        return f"{x['bottleneck']} ({x['bottleneck_share']:.0%} of runs)"

    lines = [
        f"line {result['line']}: {', '.join(result['changes']) or 'no change'}; {result['replications']} "
        f"replications of {result['days']:g} days after {result['warmup_days']:g} days of warm-up; "
        f"{result['orders_per_day']:.0f} orders a day (demand x{result['demand']:g})",
        f"{'':24}{'baseline':>28}{'changed':>28}",
        f"{'throughput (units/day)':24}{ci(b['throughput_per_day']):>28}{ci(c['throughput_per_day']):>28}",
        f"{'lead time (h)':24}{ci(b['lead_time_h'], 2):>28}{ci(c['lead_time_h'], 2):>28}",
        f"{'WIP (units)':24}{ci(b['wip']):>28}{ci(c['wip']):>28}",
        f"{'bottleneck':24}{neck(b):>28}{neck(c):>28}",
    ]
    lines += [
        f"{'  ' + sid:24}{b['utilisation'][sid]:>28.1%}{c['utilisation'][sid]:>28.1%}" for sid in b["utilisation"]
    ]
    lines.append(f"throughput gain (paired, same seeds): {ci(result['throughput_gain_per_day'])} units/day")
    return "\n".join(lines)


@click.command(name="whatif", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=ROOT / "factory.yaml")
@click.option("--line", "line_id", required=True, help="the line to change (e.g. ac1)")
@click.option("--set", "changes", multiple=True, metavar="STATION.FIELD=VALUE", help="a change (repeatable; *F scales)")
@click.option("--days", type=float, default=2.0, show_default=True, help="simulated days measured per replication")
@click.option("--warmup-days", type=float, default=0.5, show_default=True, help="simulated days run before measuring")
@click.option("--replications", type=int, default=5, show_default=True)
@click.option("--demand", type=float, default=1.0, show_default=True, help="order rate as a multiple of the plant's")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--jobs", type=int, default=2, show_default=True, help="replications run in this many processes")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="also write the result as JSON here")
def whatif(config, line_id, changes, days, warmup_days, replications, demand, seed, jobs, out) -> None:
    """Compare a changed line with the baseline over replications (see line_emulator/whatif.py)."""
    try:
        doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        parsed = tuple(Change.parse(text) for text in changes)

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty():
                sys.stderr.write(f"\r{done}/{total} runs")
                sys.stderr.flush()

        result = compare(doc, line_id, parsed, days, warmup_days, replications, demand, seed, max(1, jobs), progress)
    except (WhatIfError, LayoutError) as exc:
        raise click.ClickException(str(exc)) from None
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    click.echo(report(result))
    if out is not None:
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    whatif()
