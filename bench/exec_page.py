"""The executive page over 30 days in Chromium: first load after a start, reloads, first load after a restart.

    python bench/exec_page.py [--days 30] [--repeat 5]

Builds ``--days`` days of the default plant's history into a data directory (as
bench/exec_view.py does), adds an executive account, starts ``python app.py --no-emulator`` on
it and signs in with headless Chromium. Timed, from the navigation to the moment the OEE trend
has drawn its trace (the page's layout carries every chart's first figure):
- first load after the first start (the app sums the month's days in the background at start);
- the median of ``--repeat`` reloads;
- first load after the app was stopped and started again on the same data directory.
Baseline in the same run: the median of ``--repeat`` loads of the home page (the Dash bundle
and layout alone, no figures), so the ratio survives a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from history_queries import build
from wall_soak import launch_chromium

from factory import snapshot
from factory.history import open_history
from factory.layout import load_plant
from factory.projector import apply
from factory.state import empty_state
from support import RunningApp, offline_user

TRACE = ".exec-chart.oee_trend .scatterlayer .trace"


def timed_load(page, url: str, selector: str) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(selector, timeout=120_000)
    return (time.perf_counter() - started) * 1000


def checkpoint(path: Path) -> None:
    """Write the checkpoint the writer would have written: the copied days come without any.

    Built from the last day's events (what is still in the plant); without it, the app's start
    would fold the whole month to find its live state.
    """
    plant = load_plant(ROOT / "factory.yaml")
    history = open_history(path, plant)
    end = history.last_time()
    assert end is not None
    state = empty_state(plant)
    for event in history.iter_replay(start=end - timedelta(days=1)):
        apply(state, event)
    history.put_checkpoint(end, history.last_seq(), snapshot.to_json(state))
    history.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        data = Path(folder)
        count = build(data / "history.duckdb", args.days + 1)
        checkpoint(data / "history.duckdb")
        offline_user(data, "eve", "executive", "eve-password-1")
        browser = launch_chromium(p)
        out: dict[str, float | int] = {"events": count}
        for start in ("first start", "restart"):
            app = RunningApp("--no-emulator", data_dir=data, tracking_links=False)
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1200})
                page.goto(f"{app.base_url}/login?next=/")
                page.fill("input[name=user]", "eve")
                page.fill("input[name=password]", "eve-password-1")
                page.click("button[type=submit]")
                page.wait_for_url(f"{app.base_url}/")
                out[f"exec first load after {start} ms"] = round(timed_load(page, app.base_url + "/exec", TRACE))
                if start == "first start":
                    reloads = [timed_load(page, app.base_url + "/exec", TRACE) for _ in range(args.repeat)]
                    homes = [timed_load(page, app.base_url + "/", "#_pages_content *") for _ in range(args.repeat)]
                    out["exec reload median ms"] = round(statistics.median(reloads))
                    out["home page median ms (baseline)"] = round(statistics.median(homes))
                page.close()
            finally:
                app.stop()
        browser.close()
    out["exec reload / home"] = round(out["exec reload median ms"] / out["home page median ms (baseline)"], 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
