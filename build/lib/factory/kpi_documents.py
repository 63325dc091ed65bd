"""The KPI document of a range: per line, per site and for the enterprise, from one source of sums.

Both paths build it here (factory.kpis from events, factory.history.queries from the tables):
they only differ in how a line's sums are obtained. Sites and the enterprise are their lines'
sums added (stations kept apart per line), evaluated by the same registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from factory.kpi_registry import evaluate
from factory.kpi_sums import LineSums, add
from factory.layout import Line, Plant


def scope_lines(plant: Plant, line_id: str | None = None, site_id: str | None = None) -> list[Line]:
    """Return the lines a scope covers (one line, one site's, or all); raise KeyError for an unknown one."""
    if line_id is not None:
        line = plant.line(line_id)
        if site_id is not None and line.site_id != site_id:
            raise KeyError(f"line {line_id} is not at site {site_id}")
        return [line]
    if site_id is not None:
        return list(plant.site(site_id).lines)
    return list(plant.lines)


def combined(plant: Plant, sums: dict[str, LineSums], lines: list[Line]) -> LineSums:
    """Return the sums of several lines together (their stations kept apart as ``line/station``)."""
    return add([sums[line.id] for line in lines], prefixes=[line.id for line in lines])


def document(
    plant: Plant,
    start: datetime,
    end: datetime,
    sums_of: Callable[[Line], LineSums],
    line_id: str | None = None,
    site_id: str | None = None,
) -> dict[str, Any]:
    """Return {from, to, lines, sites?, enterprise?} for a scope."""
    lines = scope_lines(plant, line_id, site_id)
    sums = {line.id: sums_of(line) for line in lines}
    doc: dict[str, Any] = {
        "from": start.astimezone(UTC).isoformat(),
        "to": end.astimezone(UTC).isoformat(),
        "lines": {line.id: evaluate(sums[line.id]) for line in lines},
    }
    if line_id is None:
        sites = [site for site in plant.sites if site_id in (None, site.id)]
        doc["sites"] = {site.id: evaluate(combined(plant, sums, list(site.lines))) for site in sites}
        if site_id is None:
            doc["enterprise"] = evaluate(combined(plant, sums, lines))
    return doc
