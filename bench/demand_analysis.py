"""The demand page's analysis over 100,000 wishes: history query and analysis, timed apart.

    python bench/demand_analysis.py [--wishes 100000] [--seed 7] [--days 30] [--ordered 0.65] [--repeat 5]

Generates ``--wishes`` seeded synthetic wishes over every product of factory.yaml: a product is
picked in proportion to the lines that build it, its configuration by the choices' weights with
the rules applied (``Product.configurations()``), spread evenly over ``--days`` days. About
``--ordered`` of the visits order: each such visit is an ``OrderPlaced`` on one of the product's
lines plus its configurator draft with ``ordered`` set; the others are drafts only. Half of the
visits draft twice, the first time another configuration, so the query must take each visit's
latest draft. Everything is recorded in a temporary DuckDB history through ``History.record``
(the writer's own path), then the page's analysis (factory.history.wishes.latest_demand over
everything recorded) runs ``--repeat`` times: the query (wish span and the wishes table) and the
analysis (factory.demand.analyse) are timed apart. Reported: the median and every run, the
first run apart (it imports kmodes and scikit-learn), and per product the suggested variants and
the share of demand they serve.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factory import demand
from factory.history import open_history
from factory.history.store import History
from factory.history.wishes import wish_span, wishes
from factory.layout import Plant, load_plant
from streams import events as ev

END = datetime(2026, 12, 3, tzinfo=UTC)  # the wishes end here and go back --days days
BATCH = 2000  # events per History.record call, as the writer batches


def generate(plant: Plant, n: int, seed: int, days: int, ordered: float) -> list[ev.Event]:
    """Return the events of ``n`` seeded configurator visits and orders, in time order."""
    rng = random.Random(seed)
    products = list(plant.products.values())
    lines = {p.id: [ln.id for ln in plant.lines if ln.product == p.id] for p in products}
    products = [p for p in products if lines[p.id]]
    configurations = {p.id: p.configurations() for p in products}
    start = END - timedelta(days=days)
    out: list[ev.Event] = []
    for i in range(n):
        product = rng.choices(products, weights=[len(lines[p.id]) for p in products])[0]
        choices = configurations[product.id]
        picked = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
        at = start + timedelta(seconds=(i + rng.random()) * days * 86400 / n)
        session = f"visit-{i:06d}"
        if rng.random() < 0.5:  # an earlier draft of the same visit, another configuration
            earlier = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
            out.append(_draft(f"d0-{i}", at - timedelta(seconds=40), session, product.id, earlier, False))
        placed = rng.random() < ordered
        out.append(_draft(f"d1-{i}", at, session, product.id, picked, placed))
        if placed:
            line = rng.choice(lines[product.id])
            out.append(
                ev.OrderPlaced(
                    id=f"o-{i}",
                    source=f"/bench/{line}",
                    time=at + timedelta(seconds=1),
                    order_id=f"SO-B{i:06d}",
                    unit_code=f"{product.unit_prefix}B{i:07d}",
                    tracking_token=f"bench-{i:06d}-{rng.getrandbits(64):016x}",
                    line_id=line,
                    product=product.id,
                    options=dict(picked),
                )
            )
    out.sort(key=lambda e: e.time)
    return out


def _draft(id_, at, session, product, options, placed) -> ev.ConfigurationDrafted:
    return ev.ConfigurationDrafted(
        id=id_, source="/configure", time=at, session_id=session, product=product, options=dict(options), ordered=placed
    )


def record(history: History, events: list[ev.Event]) -> float:
    """Record the events in writer-sized batches; return the seconds it took."""
    began = time.perf_counter()
    for i in range(0, len(events), BATCH):
        history.record(events[i : i + BATCH])
    return time.perf_counter() - began


def one_run(history: History, plant: Plant) -> tuple[float, float, dict[str, demand.ProductDemand], int]:
    """Run what /demand runs over everything recorded, the query and the analysis timed apart."""
    began = time.perf_counter()
    span = wish_span(history)
    assert span is not None
    table = wishes(history, plant)
    queried = time.perf_counter()
    result = demand.analyse(table, plant.products)
    return queried - began, time.perf_counter() - queried, result, len(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wishes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--ordered", type=float, default=0.65)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    plant = load_plant(ROOT / "factory.yaml")
    events = generate(plant, args.wishes, args.seed, args.days, args.ordered)
    with tempfile.TemporaryDirectory() as folder:
        history = open_history(Path(folder) / "history.duckdb", plant)
        recorded_s = record(history, events)
        runs = [one_run(history, plant) for _ in range(args.repeat)]
        history.close()
    query_s, analysis_s = [r[0] for r in runs], [r[1] for r in runs]
    total_s = [q + a for q, a in zip(query_s, analysis_s)]
    result, rows = runs[-1][2], runs[-1][3]
    wished = sum(d.wishes for d in result.values())
    served = sum(v.wishes for d in result.values() for v in d.variants)
    exact = sum(v.exact for d in result.values() for v in d.variants)
    report = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "events_recorded": len(events),
        "record_s": round(recorded_s, 1),
        "wishes": rows,
        "orders": sum(d.orders for d in result.values()),
        "query_s": [round(s, 3) for s in query_s],
        "analysis_s": [round(s, 3) for s in analysis_s],
        "total_s": [round(s, 3) for s in total_s],
        "median_query_s": round(statistics.median(query_s), 3),
        "median_analysis_s": round(statistics.median(analysis_s), 3),
        "median_total_s": round(statistics.median(total_s), 3),
        "variants": sum(len(d.variants) for d in result.values()),
        "served": round(served / wished, 4),
        "served_exactly": round(exact / wished, 4),
        "products": {
            pid: {
                "wishes": d.wishes,
                "orders": d.orders,
                "combinations": len(d.combinations),
                "cover_80_orders": d.cover_orders,
                "cover_80_wishes": d.cover_wishes,
                "variants": [
                    {"options": v.options, "share": round(v.share, 4), "exact": round(v.exact / d.wishes, 4)}
                    for v in d.variants
                ],
                "served": round(d.served, 4),
            }
            for pid, d in result.items()
        },
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
