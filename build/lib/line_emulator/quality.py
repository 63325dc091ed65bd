"""Quality gates: draw a unit's measurements and judge them against their specification limits.

Pure given the random stream: the same options and draws give the same report.
"""

from __future__ import annotations

import random

from line_emulator.params import CheckSpec
from streams.events import Measurement


def nominal_of(spec: CheckSpec, options: dict[str, str]) -> float:
    """Return the nominal value of a check for a unit with these options."""
    if isinstance(spec.nominal, dict):
        assert spec.by is not None  # the schema pairs a per-option nominal with its option
        return spec.nominal[options[spec.by]]
    return spec.nominal


def limits_of(spec: CheckSpec, nominal: float) -> tuple[float | None, float | None]:
    """Return the (lower, upper) limits, resolving percentages of the nominal."""
    lower = (
        spec.lower
        if spec.lower is not None
        else (nominal * spec.lower_pct / 100 if spec.lower_pct is not None else None)
    )
    upper = (
        spec.upper
        if spec.upper is not None
        else (nominal * spec.upper_pct / 100 if spec.upper_pct is not None else None)
    )
    return lower, upper


def measure(
    specs: dict[str, CheckSpec], names: tuple[str, ...], options: dict[str, str], rng: random.Random
) -> tuple[tuple[Measurement, ...], str | None]:
    """Return the gate's measurements and the first defect code (None when every check passed)."""
    raw: dict[str, float] = {}
    out = []
    defect = None
    for name in names:
        spec = specs[name]
        if spec.ratio is not None:
            value = nominal = _ratio(specs, spec, options, rng, raw)
        else:
            nominal = nominal_of(spec, options)
            value = rng.gauss(nominal * spec.mean_pct / 100, abs(nominal) * spec.sd_pct / 100)
            if spec.min_value is not None:
                value = max(value, spec.min_value)
            raw[name] = value
        value = round(value, spec.decimals)
        lower, upper = limits_of(spec, nominal)
        lower = round(lower, spec.decimals) if lower is not None else None
        upper = round(upper, spec.decimals) if upper is not None else None
        passed = (lower is None or value >= lower) and (upper is None or value <= upper)
        if not passed and defect is None:
            defect = f"{name}_{'low' if lower is not None and value < lower else 'high'}"
        out.append(
            Measurement(
                name=name, label=spec.label, unit=spec.unit, value=value, lower=lower, upper=upper, passed=passed
            )
        )
    return tuple(out), defect


def _ratio(specs, spec, options, rng, raw) -> float:
    """Return a ratio check's value, drawing any operand this gate has not measured yet."""
    for operand in spec.ratio:
        if operand not in raw:
            op = specs[operand]
            nominal = nominal_of(op, options)
            raw[operand] = rng.gauss(nominal * op.mean_pct / 100, abs(nominal) * op.sd_pct / 100)
    return raw[spec.ratio[0]] / raw[spec.ratio[1]]
