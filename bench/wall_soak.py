"""Wall-screen soak: does a kiosk tab's memory stay flat while the plant runs fast for hours?

    python bench/wall_soak.py [--minutes 60] [--speed 100] [--sample-s 60] [--out soak.json]

Runs ``python app.py`` with the built-in plant at ``--speed`` (100 = ten times the default demo
rate of 10, about 240 events/s across the default plant's six lines, a day's average) and opens
the printed kiosk link in headless Chromium at 1920x1080: the default wall screen, rotating
between lines every 60 s. Every ``--sample-s`` (a minute) it forces a garbage collection through
the DevTools protocol and records the tab's used JS heap and DOM node count. Reported: the first
sample's heap, last, maximum, and growth (last - first).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from support import RunningApp

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright: Playwright) -> Browser:
    """Start headless Chromium: the system's (as the browser tests use) if on PATH, else Playwright's own."""
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)


UNDO_ENTRIES = (
    "() => (window.dash_stores || []).reduce((n, s) => n + ((s.getState().history || {}).past || []).length, 0)"
)


def heap_after_gc(cdp) -> dict[str, float]:
    """Collect garbage in the page, then return its used heap (MB) and DOM node count."""
    cdp.send("HeapProfiler.collectGarbage")
    usage = cdp.send("Runtime.getHeapUsage")
    counters = cdp.send("Memory.getDOMCounters")
    return {"heap_mb": usage["usedSize"] / 2**20, "nodes": counters["nodes"]}


def _live_within(page, seconds: float) -> bool:
    """Tell whether the screen shows live data now or within ``seconds``: a kiosk rotating to its next line
    reconnects, and a sample taken at that moment would otherwise catch it between two sockets."""
    try:
        # A locator, not wait_for_selector: that returns a handle which keeps its element alive in
        # the page, and a kept element of a page the kiosk has left keeps that whole page (the
        # node count then grew by a page a minute, the app's fault as it seemed).
        page.locator(".freshness.live").wait_for(timeout=seconds * 1000)
        return True
    except PlaywrightTimeout:
        return False


def soak(browser, minutes: float, speed: float, data_dir: Path, sample_s: float = 60.0, log=print) -> dict:
    """Run the soak against a fresh app in ``data_dir``; return the samples and their summary."""
    app = RunningApp("--speed", str(speed), "--seed", "11", data_dir=data_dir)
    try:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(app.kiosk_url)
        page.wait_for_selector(".freshness.live", timeout=120_000)
        cdp = page.context.new_cdp_session(page)
        samples, started = [], time.monotonic()
        while True:
            elapsed = time.monotonic() - started
            if elapsed >= minutes * 60:
                break
            time.sleep(min(sample_s, minutes * 60 - elapsed))
            sample = {
                "minute": round((time.monotonic() - started) / 60, 2),
                **heap_after_gc(cdp),
                "live": _live_within(page, 5.0),
                "undo_entries": page.evaluate(UNDO_ENTRIES),
            }
            samples.append(sample)
            log(
                f"{sample['minute']:6.1f} min  heap {sample['heap_mb']:6.2f} MB  nodes {sample['nodes']:6d}  "
                f"undo entries {sample['undo_entries']:4d}  live={sample['live']}"
            )
        page.close()
    finally:
        app.stop()
    heaps = [s["heap_mb"] for s in samples]
    return {
        "minutes": minutes,
        "speed": speed,
        "samples": samples,
        "first_mb": heaps[0],
        "last_mb": heaps[-1],
        "max_mb": max(heaps),
        "median_mb": statistics.median(heaps),
        "growth_mb": heaps[-1] - heaps[0],
        "max_growth_mb": max(heaps) - heaps[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--speed", type=float, default=100)
    parser.add_argument("--sample-s", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as folder:
        browser = launch_chromium(p)
        result = soak(browser, args.minutes, args.speed, Path(folder), sample_s=args.sample_s)
        browser.close()
    print(
        f"heap: first sample {result['first_mb']:.2f} MB, last {result['last_mb']:.2f} MB, "
        f"max {result['max_mb']:.2f} MB, growth {result['growth_mb']:+.2f} MB (max {result['max_growth_mb']:+.2f})"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
