"""``tf kpis`` / ``python -m factory.kpis``: KPIs of an event file, or of the history, as JSON.

tf kpis events.jsonl [--line ac1 | --site pune] [--from T] [--to T]
tf kpis --history data/history.duckdb --from T --to T
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from config import ROOT, TIMESTAMP
from factory.kpis import compute
from factory.layout import LayoutError, load_plant
from streams.codec import DecodeError, from_json


@click.command("kpis", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("events", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=False)
@click.option(
    "--history",
    "history_target",
    default=None,
    help="Compute from a history (its DuckDB file, or a postgresql:// URL) instead of an events file.",
)
@click.option("--from", "start", type=TIMESTAMP, default=None, help="Range start, ISO 8601 (default: first event).")
@click.option("--to", "end", type=TIMESTAMP, default=None, help="Range end, ISO 8601 (default: last event).")
@click.option("--line", default=None, help="Only this line.")
@click.option("--site", default=None, help="Only this site's lines (with the site's own KPIs).")
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=ROOT / "factory.yaml",
    show_default=True,
    help="Factory file the events come from.",
)
def kpis(
    events: Path | None, history_target: str | None, start, end, line: str | None, site: str | None, config: Path
) -> None:
    """Print the KPIs of docs/kpis.md as JSON."""
    try:
        plant = load_plant(config)
    except LayoutError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    if line is not None and not plant.has_line(line):
        raise click.BadParameter(f"no line {line!r} in {config}", param_hint="--line")
    if site is not None and not plant.has_site(site):
        raise click.BadParameter(f"no site {site!r} in {config}", param_hint="--site")
    if (events is None) == (history_target is None):
        raise click.UsageError("give an event file or --history, not both")
    try:
        if history_target is not None:
            document = _from_history(history_target, plant, start, end, line, site)
        else:
            document = compute(_read(events), plant, start, end, line, site)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(document, indent=2, allow_nan=False, default=str))


def _read(path: Path) -> list:
    out = []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.strip():
                try:
                    out.append(from_json(text))
                except DecodeError as exc:
                    raise click.ClickException(f"{path}:{number}: {exc}") from None
    return out


def _from_history(target: str, plant, start, end, line, site):
    from factory.history import HistoryError, open_history
    from factory.history import queries as hq

    try:
        history = open_history(target, plant)
    except HistoryError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        end = end or history.last_time(line_events_only=True)
        if end is None:
            raise click.ClickException("the history holds no events")
        from datetime import timedelta

        start = start or end - timedelta(hours=24)
        return hq.kpis(history, plant, start, end, line, site)
    finally:
        history.close()


def main() -> None:
    """Run ``tf kpis`` as its own program."""
    kpis(prog_name="python -m factory.kpis")


if __name__ == "__main__":
    main()
