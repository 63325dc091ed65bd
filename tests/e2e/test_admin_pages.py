"""The admin pages in real Chromium: an admin creates a user, that user signs in, the audit log shows both."""

from __future__ import annotations

import time

import pytest
import requests

from support import RunningApp, offline_user

pytestmark = pytest.mark.e2e
ROOT_PASSWORD = "root-password-1"


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("admin")
    offline_user(folder, "root", "admin", ROOT_PASSWORD)
    app = RunningApp("--no-emulator", data_dir=folder, tracking_links=False)
    yield app
    app.stop()


def _sign_in(page, app, user, password, target):
    page.goto(f"{app.base_url}/login?next={target}")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_an_admin_creates_a_user_who_signs_in_and_the_audit_log_shows_both(browser, admin_app, screenshots):
    for path in ("/admin/users", "/admin/audit"):
        r = requests.get(admin_app.base_url + path, allow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    admin = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = admin.new_page()
    _sign_in(page, admin_app, "root", ROOT_PASSWORD, "/admin/users")
    page.wait_for_selector("#admin-users-new-name")
    page.fill("#admin-users-new-name", "nora")
    page.fill("#admin-users-new-password", "nora-password-1")
    page.click("#admin-users-create")
    page.wait_for_function(
        "() => document.querySelector('#admin-users-message').innerText.includes('User nora (manager) created')"
    )
    page.wait_for_function("() => document.querySelector('#admin-users-users').innerText.includes('nora')")
    page.screenshot(path=str(screenshots / "admin-users.png"), full_page=True)

    nora = browser.new_context().new_page()
    _sign_in(nora, admin_app, "nora", "nora-password-1", "/orders")
    nora.wait_for_url("**/orders")
    nora.goto(admin_app.base_url + "/admin/users")  # a manager is no admin
    assert "/login" in nora.url

    page.goto(admin_app.base_url + "/admin/audit")
    deadline = time.monotonic() + 120
    while True:  # the history writer records the control log a moment later
        page.wait_for_selector("#admin-audit-note:has-text('page 1')")
        text = page.inner_text("#admin-audit-table")
        if ("account created" in text and "signed in" in text and "nora" in text) or time.monotonic() > deadline:
            break
        time.sleep(1)
        page.reload()
    rows = [r for r in text.splitlines() if "nora" in r]
    assert any("root" in r and "account created" in r for r in rows), text
    assert any(r.startswith(tuple("0123456789")) and "signed in" in r for r in rows), text
    page.screenshot(path=str(screenshots / "admin-audit.png"), full_page=True)
    admin.close()
