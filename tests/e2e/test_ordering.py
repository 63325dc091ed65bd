"""A customer configures and orders on a phone; the unit enters the built-in plant's line and the floor sees it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


def test_a_customer_orders_on_a_phone_and_watches_the_unit_enter_the_line(browser, live_app, screenshots):
    # The wall screen of the washing machine line, open before the order: it notes every order
    # that reaches its incoming-orders panel (the emulator's own keep arriving and push it on).
    floor = browser.new_page(viewport={"width": 1920, "height": 1080})
    floor.goto(live_app.kiosk_url)
    floor.goto(f"{live_app.base_url}/floor?line=wm1")
    floor.wait_for_selector(".freshness.live")
    floor.evaluate(
        """() => {
             window.seenOrders = {};
             const note = () => document.querySelectorAll('#floor-orders .order-row').forEach(
               (row) => { window.seenOrders[row.dataset.unit] = row.innerText; });
             note();
             const list = document.getElementById('floor-orders');
             new MutationObserver(note).observe(list, {childList: true, subtree: true});
           }"""
    )

    page = browser.new_page(**PHONE)
    page.goto(live_app.base_url + "/configure")
    page.get_by_label("Front-load washing machine").check()
    page.get_by_label("Heat-pump dryer", exact=False).check()
    # The rules: a heat-pump dryer needs the 10 or 12 kg drum, so 8 kg is greyed out with the reason.
    page.wait_for_function("() => document.querySelector('input[value=kg8]').disabled")
    page.get_by_label("10 kg", exact=False).check()
    page.get_by_label("Titanium grey", exact=False).check()
    expect(page.locator(".cfg-build")).to_have_text("Your options add 1 min to the build.")  # 8 + 6 + 70 s, rounded
    expect(page.locator("#cfg-ready")).to_contain_text("Ready around")
    page.click("#cfg-order")
    page.wait_for_selector("#cfg-id-card")
    unit = page.locator("#cfg-unit-code").inner_text()
    assert unit.startswith("WM") and "-WM1-" in unit
    assert page.locator(".id-qr").get_attribute("src").startswith("data:image/svg+xml")
    page.screenshot(path=str(screenshots / "configurator.png"), full_page=True)

    floor.wait_for_function("(unit) => unit in window.seenOrders", arg=unit)
    assert "Titanium grey" in floor.evaluate("(unit) => window.seenOrders[unit]", unit)
    floor.close()

    page.goto(page.locator("#cfg-track-link").get_attribute("href"))
    page.wait_for_selector(".freshness.live")
    assert unit in page.locator("body").inner_text()
    # The built-in plant takes the order into its next release: the first station starts on it.
    page.wait_for_selector(".step-current, .step-done")
    page.close()


def test_a_tampered_order_is_refused_with_a_reason(live_app):
    import requests

    url = live_app.base_url + "/api/orders"
    forbidden = {"product": "washing_machine", "options": {"capacity": "kg8", "colour": "white", "dryer": "heat_pump"}}
    answer = requests.post(url, json=forbidden, timeout=30)
    assert answer.status_code == 422
    assert "10 or 12 kg" in answer.json()["detail"]
    unknown = {"product": "washing_machine", "options": {"capacity": "kg99", "colour": "white", "dryer": "none"}}
    assert requests.post(url, json=unknown, timeout=30).status_code == 400
    assert requests.post(url, data="product=washing_machine", timeout=30).status_code == 400
