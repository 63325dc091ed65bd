"""``tf backfill``: rebuild everything the history derives from its events (facts, hourly sums, checkpoints).

The events table is the record; the rest (per-unit facts, station hours, the calendar timeline,
checkpoints) can always be rebuilt from it: after a change to how sums are kept, or to repair
a store. Shows a progress bar on a terminal; safe to interrupt (run it again).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from config import ROOT
from factory import snapshot
from factory.history import History, HistoryError, open_history
from factory.layout import LayoutError, load_plant
from factory.projector import apply, evict
from factory.state import empty_state
from factory.validation import PlantCheck
from streams import codec

DERIVED = ("units", "tokens", "unit_options", "station_facts", "station_hour", "defect_hour", "timeline",
           "checkpoints", "day_sums", "day_sums_state")  # fmt: skip
CHUNK = 20_000


def rebuild(history: History, progress=None, checkpoint_every: timedelta = timedelta(hours=3)) -> int:
    """Rebuild the derived tables from the events; return how many events were read."""
    total = history.count()
    with history._transaction():
        for table in DERIVED:
            history._execute(f"DELETE FROM {table}")
    state = empty_state(history.plant)
    check = PlantCheck(history.plant, window=timedelta(days=3650))
    last_checkpoint = None
    done, after = 0, 0
    while True:
        rows = history.query(f"SELECT doc, seq FROM events WHERE seq > ? ORDER BY seq LIMIT {CHUNK}", [after])
        if not rows:
            break
        events = [codec.from_json(doc) for doc, _ in rows]
        seqs = {id(e): seq for e, (_, seq) in zip(events, rows)}
        with history._transaction():
            history._derive(events, seqs)
        for event in sorted(events, key=lambda e: (e.time, seqs[id(e)])):
            if check.admit(event) is None:
                apply(state, event)
        after = rows[-1][1]
        now = state.last_event_time
        if now is not None and (last_checkpoint is None or now - last_checkpoint >= checkpoint_every):
            evict(state, now)
            history.put_checkpoint(now, after, snapshot.to_json(state))
            last_checkpoint = now
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    if state.last_event_time is not None:
        history.put_checkpoint(state.last_event_time, after, snapshot.to_json(state))
    return done if total else 0


@click.command("backfill", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=ROOT / "data",
    envvar="TF_DATA_DIR",
    show_default=True,
    help="The app's data directory (its history.duckdb).",
)
@click.option(
    "--history-url",
    default=None,
    envvar="TF_HISTORY_URL",
    help="A PostgreSQL history (postgresql://...) instead of the data directory's file.",
)
@click.option("--config", type=click.Path(path_type=Path), default=ROOT / "factory.yaml", show_default=True)
def backfill(data_dir: Path, history_url: str | None, config: Path) -> None:
    """Rebuild the history's KPI sums and checkpoints from its events (stop the app first: every worker of it)."""
    try:
        plant = load_plant(config)
        history = open_history(history_url or data_dir / "history.duckdb", plant)
    except (LayoutError, HistoryError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        total = history.count()
        with click.progressbar(length=total, label="rebuilding", show_pos=True) as bar:
            done = rebuild(history, progress=bar.update)
        click.echo(f"rebuilt from {done:,} events")
    finally:
        history.close()
