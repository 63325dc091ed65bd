"""The executive view and the orders grid in real Chromium, over three days of emulated history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from factory.history import open_history
from factory.layout import load_plant
from line_emulator.model import PlantModel
from line_emulator.runner import run_fast
from support import ROOT, RunningApp, offline_user

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def office_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    plant = load_plant(ROOT / "factory.yaml")
    events = []
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    run_fast(PlantModel(plant, events.append, start, seed=4), 3 * 86400 - 600)
    history = open_history(folder / "history.duckdb", plant)
    for i in range(0, len(events), 5000):
        history.record(events[i : i + 5000])
    history.close()
    offline_user(folder, "eve", "executive", "eve-password-1")
    offline_user(folder, "max", "manager", "max-password-1")
    app = RunningApp(
        "--no-emulator",
        "--api-key",
        "office-test-key-0123456789",
        data_dir=folder,
        tracking_links=False,
    )
    yield app
    app.stop()


def _sign_in(page, app, user, password, target):
    page.goto(f"{app.base_url}/login?next={target}")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_anonymous_visitors_are_refused(office_app):
    for path in ("/exec", "/orders"):
        r = requests.get(office_app.base_url + path, allow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    assert requests.get(office_app.base_url + "/api/kpis", timeout=30).status_code == 401


def test_an_executive_drills_down_and_exports_what_is_shown(browser, office_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 1200}, accept_downloads=True)
    plotly = []
    page.on("request", lambda r: plotly.append(r.url) if "plotly.min.js" in r.url else None)
    _sign_in(page, office_app, "eve", "eve-password-1", "/exec")
    page.wait_for_selector(".exec-headline .kpi")
    page.wait_for_selector(".exec-chart.oee_trend .scatterlayer .trace")
    assert page.locator(".exec-chart .main-svg").count() >= 10
    # Started early by assets/tf-charts-early.js, and fetched once: the graphs found it there.
    assert len(plotly) == 1
    page.screenshot(path=str(screenshots / "exec.png"), full_page=True)
    page.locator(".exec-chart.lines .bars path").first.click(force=True)  # the first line
    page.wait_for_function("() => document.querySelector('.exec-crumbs').innerText.includes('Air conditioner')")
    page.wait_for_selector(".exec-chart.stations .bars path")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename.startswith("kpis-zhengzhou-ac1-")
    with open(download.value.path(), encoding="utf-8") as f:
        text = f.read()
    assert "oee_trend,OEE," in text and "stations,OEE,Kitting," in text
    page.goto(office_app.base_url + "/orders")  # an executive is not a manager
    assert "/login" in page.url
    page.close()


def test_a_manager_searches_orders_and_opens_a_tracker(browser, office_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    plotly = []
    page.on("request", lambda r: plotly.append(r.url) if "plotly.min.js" in r.url else None)
    _sign_in(page, office_app, "max", "max-password-1", "/orders")
    page.wait_for_selector(".ag-row")
    page.fill("#orders-search", "in_production")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.ag-row [col-id=status]'))
                                   .every(c => c.innerText === 'in_production')""",
    )
    page.screenshot(path=str(screenshots / "orders.png"))
    with page.expect_navigation():
        page.locator(".ag-row [col-id=tracker] a").first.click()
    assert "/track/" in page.url
    page.wait_for_selector(".stepper")
    assert plotly == []  # the orders grid and a customer's tracker draw no Plotly chart
    page.goto(office_app.base_url + "/exec")
    assert "/login" in page.url  # a manager is not an executive
    page.close()


def test_an_executive_sees_what_customers_wish_for(browser, office_app, screenshots):
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    _sign_in(page, office_app, "eve", "eve-password-1", "/demand")
    page.wait_for_selector("#demand-content .demand-table tbody tr")
    assert page.locator(".demand-table").count() == 2  # the most frequent combinations, the suggested variants
    # Plotly draws its charts a moment after Dash has put the tables in the page.
    page.wait_for_function("() => document.querySelectorAll('#demand-content .exec-chart .main-svg').length >= 3")
    page.screenshot(path=str(screenshots / "demand.png"), full_page=True)
    page.close()


def test_an_executive_runs_a_what_if_study_and_finds_it_kept(browser, office_app, screenshots):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    _sign_in(page, office_app, "eve", "eve-password-1", "/whatif")
    page.wait_for_selector("#whatif-changes")
    page.fill("#whatif-changes", "vacuum_charge.cycle_s=*0.8")
    page.fill("#whatif-days", "0.25")
    page.fill("#whatif-replications", "2")
    page.fill("#whatif-demand", "1.3")
    page.click("#whatif-run")
    page.wait_for_selector(".whatif-message:has-text('started')", timeout=60_000)
    # The study runs in the background: the page shows it running (with its progress bar) or,
    # on a fast machine, already done; then its result.
    page.wait_for_selector(".whatif-study[data-status=running] progress, .whatif-study[data-status=done]")
    page.wait_for_selector(".whatif-study[data-status=done] .whatif-table", timeout=240_000)
    text = page.inner_text(".whatif-study")
    assert "Throughput gain" in text and "Bottleneck" in text and "vacuum_charge" in text
    page.screenshot(path=str(screenshots / "whatif.png"), full_page=True)
    # Kept: a fresh visit lists it and opens it from its link.
    page.goto(f"{office_app.base_url}/whatif")
    page.click(".whatif-list a")
    page.wait_for_selector(".whatif-study[data-status=done] .whatif-table")
    page.close()


def test_the_api_reference_page_reads_in_a_browser(browser, office_app):
    # /api/docs is built from the same declarations as /api/openapi.json: one section per operation,
    # readable without any script (the CSP allows none of its own on this page).
    document = requests.get(office_app.base_url + "/api/openapi.json", timeout=30).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(office_app.base_url + "/api/docs")
    assert page.locator("section h2 code").count() == operations
    assert page.locator("text=GET /api/alarms").count() == 1
    assert page.locator("a[href='/api/openapi.json']").count() == 1
    assert errors == []
    page.close()
