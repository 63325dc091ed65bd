"""Sign-in, kiosk links, and the accounts file."""

from __future__ import annotations

import json
import stat

import pytest

from app import create_app
from config import Settings
from dashboard.accounts import Accounts


@pytest.fixture
def factory(tmp_path):
    factory = create_app(Settings(emulator=False, data_dir=tmp_path))
    accounts = factory.dash_app.server.extensions["transparent_factory.accounts"]
    accounts.add_user("mia", "manager", "correct horse battery")
    return factory


def test_accounts_file_keeps_hashes_only_and_is_private(tmp_path):
    accounts = Accounts(tmp_path / "accounts.json")
    password = accounts.ensure_admin()
    assert password and accounts.ensure_admin() is None  # only on the first start
    text = (tmp_path / "accounts.json").read_text()
    assert password not in text and json.loads(text)["users"]["admin"]["role"] == "admin"
    assert stat.S_IMODE((tmp_path / "accounts.json").stat().st_mode) == 0o600
    assert Accounts(tmp_path / "accounts.json").verify("admin", password) == "admin"


def test_short_passwords_and_unknown_roles_are_refused():
    accounts = Accounts(None)
    with pytest.raises(ValueError):
        accounts.add_user("x", "manager", "short")
    with pytest.raises(ValueError):
        accounts.add_user("x", "wall", "long enough password")


def test_sign_in_then_the_floor_opens(factory):
    client = factory.dash_app.server.test_client()
    wrong = client.post("/login", data={"user": "mia", "password": "nope", "next": "/floor"})
    assert wrong.status_code == 401
    ok = client.post("/login", data={"user": "mia", "password": "correct horse battery", "next": "/floor?line=ac1"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/floor?line=ac1"
    assert client.get("/floor?line=ac1").status_code == 200
    client.get("/logout")
    assert client.get("/floor").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\\\evil", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(factory, target):
    client = factory.dash_app.server.test_client()
    response = client.post("/login", data={"user": "mia", "password": "correct horse battery", "next": target})
    assert response.headers["Location"] == "/"


def test_repeated_failures_are_throttled(factory):
    client = factory.dash_app.server.test_client()
    codes = [
        client.post(
            "/login", data={"user": "mia", "password": f"guess {i}"}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_kiosk_link_signs_a_wall_screen_in_until_revoked(factory):
    accounts = factory.dash_app.server.extensions["transparent_factory.accounts"]
    token = accounts.add_kiosk("Hall B", line="wm1")
    client = factory.dash_app.server.test_client()
    response = client.get(f"/kiosk/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/floor?line=wm1&kiosk=1"
    assert client.get("/floor?line=wm1").status_code == 200
    assert client.get("/api/kpis").status_code == 401  # a wall screen shows the floor, nothing more
    accounts.revoke_kiosk("Hall B")
    assert factory.dash_app.server.test_client().get(f"/kiosk/{token}").status_code == 404
    assert client.get("/floor?line=wm1").status_code == 303  # the screen's existing session ends too
