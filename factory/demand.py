"""Demand aggregation: what customers wish for, per product, from a table of wishes (pure, no I/O).

A wish is one configuration a customer asked for: every order placed (from the configurator, the
built-in plant or an outside system) and every configurator visit that ended without an order
(its latest draft). The table has one row per wish: ``product``, ``ordered`` (bool), ``time``
(UTC) and one column per option, ``option:<option id>``, holding the chosen choice id (missing:
empty). :mod:`factory.history.wishes` reads it from the history.

Per product this module gives, vectorised over the wishes (100,000 take well under a second):

- the combinations wished for, most frequent first, with their wishes, orders and shares;
- concentration: the fewest combinations that cover 80 % of the orders, and of all wishes, with
  the cumulative share curve;
- clusters of similar wishes: k-modes (the ``kmodes`` package) on the distinct combinations,
  each weighted by its wishes; their modes are the suggested variants, with the share of demand
  each serves;
- the trend: wishes per day of the most frequent combinations.

The definitions (cover, serve, how many variants) are in docs/kpis.md, "Demand".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from factory.layout import Product

OPTION = "option:"  # prefix of the option columns of a wishes table
COVER_PCT = 80  # concentration: the fewest combinations covering this share of orders (of wishes)
SERVE_PCT = 80  # the suggested set: the fewest variants serving this share of the product's wishes
MAX_VARIANTS = 8  # ...but never more than this many
MAX_CLUSTERED = 2_000  # k-modes sees at most this many distinct combinations (the most wished)
MAX_ITER = 50  # k-modes iterations per fit
SEED = 17  # k-modes' random state (its tie-breaks); the initial modes are the most wished combinations
TOP = 10  # combinations the page lists
TREND_TOP = 5  # combinations the trend follows one by one; the rest are "other"


@dataclass(frozen=True)
class Combination:
    """One configuration of a product and how often it was wished for and ordered."""

    options: dict[str, str]
    wishes: int
    orders: int
    share: float  # of the product's wishes


@dataclass(frozen=True)
class Variant:
    """A suggested variant: the wishes it serves (nearest variant, at most ``tolerance`` options apart)."""

    options: dict[str, str]
    wishes: int  # wishes served
    exact: int  # of which wished for exactly this configuration
    share: float  # wishes served / the product's wishes


@dataclass(frozen=True)
class Trend:
    """Wishes per UTC day, from the first wish's day to the last one's, of the top combinations."""

    days: list[date]
    series: list[tuple[dict[str, str] | None, list[int]]]  # (combination, or None for the rest; per day)


@dataclass(frozen=True)
class ProductDemand:
    """The demand for one product."""

    product: str
    wishes: int
    orders: int
    combinations: list[Combination]  # every distinct combination, most wished first
    cover_wishes: int  # fewest combinations covering COVER_PCT of the wishes
    cover_orders: int | None  # ... of the orders (None: no orders)
    cumulative_wishes: list[float]  # share of wishes covered by the first n combinations (by wishes)
    cumulative_orders: list[float]  # share of orders covered by the first n combinations (by orders)
    tolerance: int  # options a wish may differ in from a variant that serves it
    variants: list[Variant] = field(default_factory=list)  # most serving first
    served: float = 0.0  # share of the product's wishes the variants serve together
    trend: Trend = field(default_factory=lambda: Trend([], []))

    @property
    def abandoned(self) -> int:
        """Return the wishes that were not ordered."""
        return self.wishes - self.orders


def frame(records: Iterable[tuple[str, Mapping[str, str], bool, datetime]]) -> pd.DataFrame:
    """Return a wishes table from (product, options, ordered, time) records (tests, small inputs)."""
    rows = [
        {"product": p, "ordered": bool(o), "time": t, **{OPTION + k: v for k, v in opts.items()}}
        for p, opts, o, t in records
    ]
    table = pd.DataFrame(rows, columns=None if rows else ["product", "ordered", "time"])
    table["time"] = pd.to_datetime(table["time"], utc=True)
    return table


def tolerance(product: Product) -> int:
    """Return how many options a served wish may differ in: one with three options or more, else none."""
    return 1 if len(product.options) >= 3 else 0


def analyse(wishes: pd.DataFrame, products: Mapping[str, Product], seed: int = SEED) -> dict[str, ProductDemand]:
    """Return the demand of every product with at least one wish (products the plant does not know are left out)."""
    if wishes.empty:
        return {}
    out = {}
    for pid, rows in wishes.groupby("product", sort=True):
        product = products.get(str(pid))
        if product is not None:
            out[product.id] = analyse_product(rows, product, seed)
    return out


def analyse_product(rows: pd.DataFrame, product: Product, seed: int = SEED) -> ProductDemand:
    """Return the demand for one product from its wishes (at least one)."""
    option_ids = [o.id for o in product.options]
    n = len(rows)
    codes, uniques = [], []
    for oid in option_ids:
        column = rows[OPTION + oid] if OPTION + oid in rows else pd.Series([""] * n, index=rows.index)
        c, u = pd.factorize(column.fillna("").astype(str).to_numpy(), sort=True)
        codes.append(c)
        uniques.append(np.asarray(u, dtype=object))
    key = np.zeros(n, dtype=np.int64)
    for c, u in zip(codes, uniques):
        key = key * len(u) + c
    keys, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    ordered = rows["ordered"].to_numpy(dtype=bool)
    orders = np.bincount(inverse, weights=ordered, minlength=len(keys)).astype(np.int64)
    rank = np.lexsort((keys, -orders, -counts))  # most wished first; then most ordered; then a fixed order
    position = np.empty_like(rank)
    position[rank] = np.arange(len(rank))
    keys, counts, orders = keys[rank], counts[rank], orders[rank]
    table = _decode(keys, [len(u) for u in uniques])  # distinct combinations x options, as codes

    def options_of(row: np.ndarray) -> dict[str, str]:
        return {oid: str(uniques[j][row[j]]) for j, oid in enumerate(option_ids)}

    total, total_orders = int(counts.sum()), int(orders.sum())
    combinations = [
        Combination(options_of(table[i]), int(counts[i]), int(orders[i]), float(counts[i] / total))
        for i in range(len(keys))
    ]
    by_orders = np.sort(orders[orders > 0])[::-1]
    tol = tolerance(product)
    variants, served = _suggest(table, counts, product, options_of, tol, seed)
    return ProductDemand(
        product=product.id,
        wishes=total,
        orders=total_orders,
        combinations=combinations,
        cover_wishes=cover(counts),
        cover_orders=cover(by_orders) if total_orders else None,
        cumulative_wishes=(np.cumsum(counts) / total).tolist(),
        cumulative_orders=(np.cumsum(by_orders) / total_orders).tolist() if total_orders else [],
        tolerance=tol,
        variants=variants,
        served=served,
        trend=_trend(rows["time"], position[inverse], combinations),
    )


def cover(counts: np.ndarray, pct: int = COVER_PCT) -> int:
    """Return how many of ``counts`` (largest first) it takes to reach ``pct`` % of their sum (0 when empty)."""
    if len(counts) == 0 or counts.sum() == 0:
        return 0
    reached = np.cumsum(counts) * 100 >= counts.sum() * pct  # integers: no rounding at the mark
    return int(np.argmax(reached)) + 1


def _decode(keys: np.ndarray, sizes: list[int]) -> np.ndarray:
    table = np.zeros((len(keys), len(sizes)), dtype=np.int64)
    rest = keys.copy()
    for j in reversed(range(len(sizes))):
        table[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return table


def _suggest(table, counts, product, options_of, tol, seed) -> tuple[list[Variant], float]:
    """Return the fewest variants (up to MAX_VARIANTS) serving SERVE_PCT of the wishes, and the share they serve."""
    total = int(counts.sum())
    if table.shape[1] == 0:  # a product without options: one variant is every wish
        return [Variant({}, total, total, 1.0)], 1.0
    best: tuple[list[Variant], float] = ([], 0.0)
    for k in range(1, min(MAX_VARIANTS, len(table)) + 1):
        modes = _modes(table, counts, k, product, options_of, seed)
        distance = (table[:, None, :] != modes[None, :, :]).sum(axis=2)  # options apart, combination x variant
        nearest = distance.argmin(axis=1)  # ties: the variant of the larger cluster
        gap = distance[np.arange(len(table)), nearest]
        near = gap <= tol
        wishes = np.bincount(nearest[near], weights=counts[near], minlength=len(modes)).astype(np.int64)
        exact = np.bincount(nearest[gap == 0], weights=counts[gap == 0], minlength=len(modes)).astype(np.int64)
        variants = [
            Variant(options_of(modes[i]), int(wishes[i]), int(exact[i]), float(wishes[i] / total))
            for i in range(len(modes))
        ]
        variants.sort(key=lambda v: (-v.wishes, -v.exact))
        best = variants, float(wishes.sum() / total)
        if wishes.sum() * 100 >= total * SERVE_PCT:
            break
    return best


def _modes(table, counts, k, product, options_of, seed) -> np.ndarray:
    """Return up to ``k`` buildable cluster modes, largest cluster first (k-modes on weighted combinations)."""
    clustered = table[:MAX_CLUSTERED]
    weights = counts[:MAX_CLUSTERED].astype(float)
    if k >= len(clustered):  # as many clusters as combinations: each is its own
        centroids, labels = clustered, np.arange(len(clustered))
    else:
        from kmodes.kmodes import KModes  # imported when first needed: it brings scikit-learn (half a second)

        # The factorised codes of every option appear in the combinations, so the library's own
        # encoding of them is the identity and the initial modes can be given as codes.
        model = KModes(n_clusters=k, init=clustered[:k], n_init=1, max_iter=MAX_ITER, random_state=seed)
        model.fit(clustered, sample_weight=weights)
        centroids = np.asarray(model.cluster_centroids_, dtype=np.int64)
        labels = np.asarray(model.labels_, dtype=np.int64)
    size = np.bincount(labels, weights=weights, minlength=len(centroids))
    modes: list[np.ndarray] = []
    for c in np.argsort(-size, kind="stable"):
        if size[c] == 0:
            continue
        candidates = [centroids[c], *clustered[labels == c]]  # the mode, else its most wished member
        mode = next((m for m in candidates if _buildable(product, options_of(m))), None)
        if mode is not None and not any((mode == m).all() for m in modes):
            modes.append(mode)
    return np.array(modes, dtype=np.int64) if modes else clustered[:1]


def _buildable(product: Product, options: Mapping[str, str]) -> bool:
    """Tell whether a configuration names a real choice for every option and breaks no rule."""
    for option in product.options:
        if option.choice(options.get(option.id, "")) is None:
            return False
    return not product.violations(options)


def _trend(times: pd.Series, combo: np.ndarray, combinations: list[Combination]) -> Trend:
    day = pd.to_datetime(times, utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    first = day.min()
    index = (day - first).astype(np.int64)
    n_days = int(index.max()) + 1
    days = [date.fromisoformat(str(first + np.timedelta64(i, "D"))) for i in range(n_days)]
    series: list[tuple[dict[str, str] | None, list[int]]] = [
        (combinations[i].options, np.bincount(index[combo == i], minlength=n_days).tolist())
        for i in range(min(TREND_TOP, len(combinations)))
    ]
    rest = combo >= TREND_TOP
    if rest.any():
        series.append((None, np.bincount(index[rest], minlength=n_days).tolist()))
    return Trend(days, series)
