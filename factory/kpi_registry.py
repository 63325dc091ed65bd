"""Every KPI declared once: its name, unit, formula over the sums of factory.kpi_sums, and meaning.

The live path (factory.kpis), the history path (factory.history.queries), the CLI, the REST API,
the pages and the formula table of docs/kpis.md (``python -m factory.kpi_registry``) all read
this list, so adding a KPI is one entry here plus its hand-worked test. A KPI whose denominator
is zero has no value (``None``), never 0.

Aggregation over time, stations, lines and sites is by the sums (factory.kpi_sums.add), then
the same formula: a plant's OEE is the plant's fully productive time x quality over its planned
busy time, and equals A x P x Q of the plant's own sums.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from factory.kpi_sums import LineSums, StationSums, machine_apt_s


def ratio(numerator: float, denominator: float) -> float | None:
    """Return numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str  # ratio (0-1), s, units, units/h, count
    formula: str  # in the names of factory.kpi_sums
    meaning: str
    value: Callable[[Any], Any]


def _quality_line(s: LineSums) -> float | None:
    return ratio(s.first_pass_good, s.produced)


def _station_quality(st: StationSums) -> float | None:
    if st.checks:
        return st.passed / st.checks
    return 1.0 if st.processed else None  # a station that is no gate makes no bad units


LINE_KPIS: tuple[Kpi, ...] = (
    Kpi("oee", "ratio", "fully_productive_s x first_pass_good / produced / pbt_s",
        "overall equipment effectiveness = availability x performance x quality",
        lambda s: ratio(s.fully_productive_s * (s.first_pass_good / s.produced), s.pbt_s) if s.produced else
        (0.0 if s.pbt_s else None)),
    Kpi("availability", "ratio", "apt_s / pbt_s",
        "share of the planned busy time the line's machines were not down (machine-time weighted within a "
        "line, time weighted across lines)", lambda s: ratio(s.apt_s, s.pbt_s)),
    Kpi("performance", "ratio", "fully_productive_s / apt_s",
        "ideal time of what was produced over the time the line could produce", lambda s: ratio(s.fully_productive_s,
                                                                                                  s.apt_s)),
    Kpi("quality", "ratio", "first_pass_good / produced", "units good the first time over units produced",
        _quality_line),
    Kpi("planned_busy_time_s", "s", "pbt_s", "scheduled time minus planned stops", lambda s: s.pbt_s),
    Kpi("unplanned_downtime_s", "s", "Σ station down_s", "machine-seconds down while the line was open",
        lambda s: sum(st.down_s for st in s.stations.values())),
    Kpi("units_completed", "units", "completed", "units that left the last station", lambda s: s.completed),
    Kpi("units_scrapped", "units", "produced − completed", "units scrapped at a gate",
        lambda s: s.produced - s.completed),
    Kpi("throughput_per_hour", "units/h", "completed x 3600 / pbt_s", "units completed per open hour",
        lambda s: ratio(s.completed * 3600, s.pbt_s)),
    Kpi("first_pass_yield", "ratio", "first_pass_good / produced", "the line's quality factor", _quality_line),
    Kpi("rework_ratio", "ratio", "reworked / produced", "produced units that went to the repair bay at least once",
        lambda s: ratio(s.reworked, s.produced)),
    Kpi("scrap_ratio", "ratio", "(produced − completed) / produced", "units scrapped over units produced",
        lambda s: ratio(s.produced - s.completed, s.produced)),
    Kpi("wip_avg", "units", "wip_s / range_s", "∫ units on the line dt over the range", lambda s: ratio(s.wip_s,
                                                                                                      s.range_s)),
    Kpi("lead_time_avg_s", "s", "lead_s / lead_n", "order placed → unit completed, mean over units completed",
        lambda s: ratio(s.lead_s, s.lead_n)),
    Kpi("flow_time_avg_s", "s", "flow_s / flow_n", "first station entry → completed or scrapped, mean over produced",
        lambda s: ratio(s.flow_s, s.flow_n)),
    Kpi("lead_time_to_ship_avg_s", "s", "ship_lead_s / ship_lead_n", "order placed → shipped, mean over units shipped",
        lambda s: ratio(s.ship_lead_s, s.ship_lead_n)),
    Kpi("on_time_delivery", "ratio", "shipped_on_time / shipped_promised",
        "units shipped on or before their promised (site-local) date", lambda s: ratio(s.shipped_on_time,
                                                                                        s.shipped_promised)),
    Kpi("planned_units", "units", "Σ open_s / planned_cycle_s", "what the plan asked for in the open time",
        lambda s: s.planned_units),
    Kpi("plan_attainment", "ratio", "completed / planned_units", "units completed over units planned",
        lambda s: ratio(s.completed, s.planned_units)),
    Kpi("planned_cycle_s", "s", "pbt_s / planned_units", "the plan's ideal time per unit",
        lambda s: ratio(s.pbt_s, s.planned_units)),
    Kpi("orders_placed", "units", "orders_placed", "orders placed in the range", lambda s: s.orders_placed),
    Kpi("takt_time_s", "s", "pbt_s / orders_placed", "the pace demand asks for (none without open time or orders)",
        lambda s: ratio(s.pbt_s, s.orders_placed) if s.pbt_s else None),
    Kpi("actual_cycle_time_s", "s", "pbt_s / completed", "the pace the line kept",
        lambda s: ratio(s.pbt_s, s.completed) if s.pbt_s else None),
    Kpi("failures", "count", "Σ station failures", "breakdowns that began in the range",
        lambda s: sum(st.failures for st in s.stations.values())),
    Kpi("mtbf_s", "s", "Σ station (pbt_s − down_s) / failures", "machine-time running per breakdown",
        lambda s: ratio(machine_apt_s(s), sum(st.failures for st in s.stations.values()))),
    Kpi("mttr_s", "s", "Σ repair_s / Σ repaired", "mean repair time of breakdowns begun in the range and repaired",
        lambda s: ratio(sum(st.repair_s for st in s.stations.values()),
                        sum(st.repaired for st in s.stations.values()))),
)  # fmt: skip

STATION_KPIS: tuple[Kpi, ...] = (
    Kpi("oee", "ratio", "ideal_s x quality / pbt_s", "= availability x performance x quality",
        lambda st: ratio(st.ideal_s * (_station_quality(st) or 0.0), st.pbt_s)),
    Kpi("availability", "ratio", "(pbt_s − down_s) / pbt_s", "machine-time not lost to breakdowns",
        lambda st: ratio(st.pbt_s - st.down_s, st.pbt_s)),
    Kpi("performance", "ratio", "ideal_s / (pbt_s − down_s)", "ideal time of the work done over the time running",
        lambda st: ratio(st.ideal_s, st.pbt_s - st.down_s)),
    Kpi("quality", "ratio", "passed / checks (1 at a station that is no gate)", "checks passed", _station_quality),
    Kpi("planned_busy_time_s", "s", "pbt_s", "machines x the line's planned busy time", lambda st: st.pbt_s),
    Kpi("unplanned_downtime_s", "s", "down_s", "machine-seconds down while open", lambda st: st.down_s),
    Kpi("units_processed", "units", "processed", "visits whose work finished", lambda st: st.processed),
    Kpi("utilisation", "ratio", "(work_s + setup_s) / (pbt_s − down_s)", "busy time over running time",
        lambda st: ratio(st.work_s + st.setup_s, st.pbt_s - st.down_s)),
    Kpi("failures", "count", "failures", "breakdowns that began in the range", lambda st: st.failures),
    Kpi("mtbf_s", "s", "(pbt_s − down_s) / failures", "running time per breakdown",
        lambda st: ratio(st.pbt_s - st.down_s, st.failures)),
    Kpi("mttr_s", "s", "repair_s / repaired", "mean repair time", lambda st: ratio(st.repair_s, st.repaired)),
)  # fmt: skip


def pareto(counts: Mapping[str, float]) -> list[dict[str, Any]]:
    """Return counts as a Pareto: largest first (ties by key)."""
    return [{"key": k, "value": v} for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if v]


def evaluate(sums: LineSums, hourly: bool = True) -> dict[str, Any]:
    """Return the KPI document of a line's (or several lines') sums: every KPI of the registry.

    ``hourly=False`` leaves out the hour-by-hour plan and actual (the executive view's many
    documents of days, lines and sites never show them).
    """
    stations = {sid: {k.name: k.value(st) for k in STATION_KPIS} for sid, st in sums.stations.items()}
    doc: dict[str, Any] = {k.name: k.value(sums) for k in LINE_KPIS}
    doc.update(
        bottleneck=max(stations, key=lambda s: stations[s]["utilisation"] or 0) if stations else None,
        defect_pareto=pareto(sums.defects),
        downtime_pareto_s=pareto(sums.downtime_by_reason),
        downtime_classified_share=ratio(sums.downtime_classified_s, sum(sums.downtime_by_reason.values())),
        option_mix={opt: dict(sorted(mix.items())) for opt, mix in sorted(sums.option_mix.items())},
        hourly=[{"hour": hour.isoformat(), "open_s": open_s, "plan": sums.plan_by_hour.get(hour, 0.0),
                 "actual": sums.completed_by_hour.get(hour, 0)}
                for hour, open_s in sorted(sums.open_s_by_hour.items())] if hourly else [],
        stations=stations,
    )  # fmt: skip
    return doc


def markdown_table() -> str:
    """Return the formula tables of docs/kpis.md, generated from the registry."""
    lines = ["<!-- generated by python -m factory.kpi_registry: do not edit by hand -->", "",
             "### Line (and plant, site, enterprise: the same formula over their summed quantities)", "",
             "| KPI | unit | formula | meaning |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| `{k.name}` | {k.unit} | `{k.formula}` | {k.meaning} |" for k in LINE_KPIS]
    lines += ["", "### Station", "", "| KPI | unit | formula | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k.name}` | {k.unit} | `{k.formula}` | {k.meaning} |" for k in STATION_KPIS]
    lines += ["", "<!-- end of generated tables -->"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")
