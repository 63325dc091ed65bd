"""Statistical process control of the test measurements: I-MR limits, capability, run rules.

Pure functions over a sequence of individual values (one measurement of one product at one
station, in time order). Every test measures one unit once, so the subgroup size is 1 and the
chart is the individuals and moving-range (I-MR) chart; σ is estimated from the average moving
range of two consecutive points. Constants for subgroups of two, from the NIST/SEMATECH
e-Handbook of Statistical Methods, section 6.3.2.2 (Individuals control charts), and
Montgomery, *Introduction to Statistical Quality Control*, Appendix VI:

- d2 = 1.128, so σ̂ = MR̄ / d2 and the I chart's limits X̄ ± 3·MR̄/d2 = X̄ ± 2.66·MR̄;
- D4 = 3.267 and D3 = 0, so the MR chart runs from 0 to 3.267·MR̄.

Nothing here returns NaN or infinity: a figure that cannot be computed (too few points, no
spread, no specification on that side) is None, with the reason given beside it, so every
answer can be JSON.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

D2 = 1.128  # E[range] / σ for subgroups of two
E2 = 2.66  # 3 / d2, rounded as the handbooks print it
D4 = 3.267  # upper limit factor of the moving-range chart (D3 = 0 for n = 2)
MIN_POINTS = 2  # one moving range is the least σ can be estimated from


@dataclass(frozen=True)
class Limits:
    """I-MR control limits computed from a baseline of ``n`` points."""

    center: float  # X̄ of the baseline
    ucl: float  # X̄ + 2.66·MR̄
    lcl: float  # X̄ − 2.66·MR̄
    mr_bar: float  # mean moving range of the baseline
    mr_ucl: float  # 3.267·MR̄ (the MR chart's lower limit is 0)
    sigma: float  # within σ̂ = MR̄ / d2
    n: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def moving_ranges(values: Sequence[float]) -> list[float]:
    """Return |x[i] − x[i−1]| for i ≥ 1 (one fewer than the values)."""
    return [abs(b - a) for a, b in itertools.pairwise(values)]


def imr_limits(values: Sequence[float]) -> Limits | None:
    """Return the I-MR limits of ``values``, or None with fewer than two points (no moving range)."""
    if len(values) < MIN_POINTS:
        return None
    ranges = moving_ranges(values)
    mr_bar = math.fsum(ranges) / len(ranges)
    center = math.fsum(values) / len(values)
    return Limits(
        center=center,
        ucl=center + E2 * mr_bar,
        lcl=center - E2 * mr_bar,
        mr_bar=mr_bar,
        mr_ucl=D4 * mr_bar,
        sigma=mr_bar / D2,
        n=len(values),
    )


def capability(values: Sequence[float], lower: float | None, upper: float | None) -> dict[str, Any]:
    """Return Cp, Cpk (within σ̂ = MR̄/d2 of these points) and Pp, Ppk (overall sample σ) against the spec.

    Cp and Pp need both limits; with one limit only, Cpk and Ppk come from that side alone.
    ``note`` says why a figure is None: too_few_points, no_spec, no_spread; "one_sided" when Cp is
    None only because the specification has one side.
    """
    n = len(values)
    out: dict[str, Any] = {"n": n, "mean": None, "sigma_within": None, "sigma_overall": None,
                           "cp": None, "cpk": None, "pp": None, "ppk": None, "note": None}  # fmt: skip
    if n < MIN_POINTS:
        out["note"] = "too_few_points"
        if n == 1:
            out["mean"] = float(values[0])
        return out
    mean = math.fsum(values) / n
    within = math.fsum(moving_ranges(values)) / (n - 1) / D2
    overall = statistics.stdev(values)
    out.update(mean=mean, sigma_within=within, sigma_overall=overall)
    if lower is None and upper is None:
        out["note"] = "no_spec"
        return out
    for sigma, whole, side in ((within, "cp", "cpk"), (overall, "pp", "ppk")):
        if sigma <= 0:
            continue
        if lower is not None and upper is not None:
            out[whole] = (upper - lower) / (6 * sigma)
        sides = [(upper - mean) / (3 * sigma)] if upper is not None else []
        sides += [(mean - lower) / (3 * sigma)] if lower is not None else []
        out[side] = min(sides)
    if within <= 0 or overall <= 0:
        out["note"] = "no_spread"
    elif lower is None or upper is None:
        out["note"] = "one_sided"
    return out


# --- run rules ------------------------------------------------------------------------------------
# Numbered as in Nelson, "The Shewhart Control Chart: Tests for Special Causes", Journal of Quality
# Technology 16(4), 1984, which the NIST/SEMATECH e-Handbook (6.3.2) and Minitab follow. Nelson's
# rule 5 is Western Electric's rule 2 ("two of three beyond 2σ"). Each returns the indices of the
# points that complete a pattern (a long run flags each point from the one that completes it on).
# Zone edges are strict: a point exactly on a limit is not beyond it, a point on the centre line
# is on neither side and breaks a run.
RULES = {
    "1": "one point beyond 3σ from the centre line",
    "2": "nine points in a row on one side of the centre line",
    "3": "six points in a row steadily increasing or decreasing",
    "5": "two of three points in a row beyond 2σ on the same side",
}


def _side(x: float, center: float) -> int:
    return (x > center) - (x < center)


def rule_1(values: Sequence[float], limits: Limits) -> list[int]:
    """Points above the UCL or below the LCL."""
    return [i for i, x in enumerate(values) if x > limits.ucl or x < limits.lcl]


def rule_2(values: Sequence[float], limits: Limits, run: int = 9) -> list[int]:
    """The ninth and each later point of a run on one side of the centre line."""
    found, length, side = [], 0, 0
    for i, x in enumerate(values):
        s = _side(x, limits.center)
        length = length + 1 if s != 0 and s == side else (1 if s != 0 else 0)
        side = s
        if length >= run:
            found.append(i)
    return found


def rule_3(values: Sequence[float], run: int = 6) -> list[int]:
    """The sixth and each later point of a strictly increasing (or decreasing) run; a tie ends it."""
    found, length, direction = [], 1, 0
    for i in range(1, len(values)):
        d = _side(values[i], values[i - 1])
        length = length + 1 if d != 0 and d == direction else (2 if d != 0 else 1)
        direction = d
        if length >= run:
            found.append(i)
    return found


def rule_5(values: Sequence[float], limits: Limits) -> list[int]:
    """A point beyond 2σ that makes two of the last three beyond 2σ on its side."""
    upper, lower = limits.center + 2 * limits.sigma, limits.center - 2 * limits.sigma
    beyond = [1 if x > upper else -1 if x < lower else 0 for x in values]
    found = []
    for i, b in enumerate(beyond):
        if b != 0 and sum(1 for c in beyond[max(0, i - 2) : i + 1] if c == b) >= 2:
            found.append(i)
    return found


def violations(values: Sequence[float], limits: Limits) -> dict[str, list[int]]:
    """Return, per rule, the indices of ``values`` that violate it against ``limits``."""
    return {
        "1": rule_1(values, limits),
        "2": rule_2(values, limits),
        "3": rule_3(values),
        "5": rule_5(values, limits),
    }


def finite(x: float | None, digits: int = 6) -> float | None:
    """Return ``x`` rounded for an answer, or None for anything not a finite number."""
    return round(x, digits) if x is not None and math.isfinite(x) else None
