"""Sign-in, kiosk links and sessions: accounts as events on the control log, changes taking effect at once."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from app import create_app
from config import Settings
from streams import events as ev
from support import add_kiosk, add_user, catch_up, router_body, sign_in
from web.accounts import AccountsState, apply_account, check_password, hash_password, session_who
from web.accounts_cli import kiosks, users
from web.login import safe_next

PASSWORD = "correct horse battery"


@pytest.fixture
def svc(tmp_path):
    svc = create_app(Settings(emulator=False, data_dir=tmp_path))
    add_user(svc, "mia", "manager", PASSWORD)
    return svc


def client_of(svc):
    return svc.dash_app.server.test_client()


def test_passwords_are_kept_as_argon2_hashes_only(svc, tmp_path):
    log = (tmp_path / "control.jsonl").read_text()
    assert PASSWORD not in log and "$argon2id$" in log
    assert stat.S_IMODE((tmp_path / "control.jsonl").stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        hash_password("short")


def test_an_older_scrypt_hash_still_verifies_and_is_replaced_at_sign_in(svc):
    from werkzeug.security import generate_password_hash

    svc.publish_control(
        ev.AccountCreated,
        user="old",
        role="manager",
        password_hash=generate_password_hash(PASSWORD),
        site_id=None,
        by="test",
    )
    catch_up(svc)
    client = client_of(svc)
    sign_in(client, "old", PASSWORD)
    catch_up(svc)
    assert svc.live.accounts.users["old"].password_hash.startswith("$argon2")
    assert client.get("/floor?line=ac1").status_code == 200  # the rehash kept the session


def test_sign_in_then_the_floor_opens_and_sign_out_ends_the_session_everywhere(svc):
    client = client_of(svc)
    wrong = client.post("/login", data={"user": "mia", "password": "nope", "next": "/floor"})
    assert wrong.status_code == 401
    ok = client.post("/login", data={"user": "mia", "password": PASSWORD, "next": "/floor?line=ac1"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/floor?line=ac1"
    assert client.get("/floor?line=ac1").status_code == 200
    cookie = client.get_cookie("session")
    client.get("/logout")
    catch_up(svc)
    assert client.get("/floor").status_code == 303
    thief = client_of(svc)  # someone who copied the cookie before the sign-out
    thief.set_cookie("session", cookie.value)
    assert thief.get("/floor").status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\\\evil",
        "javascript:alert(1)",
        "/%09/evil.example",
        "/\t/evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/\n/evil",
        "///evil.example",
    ],
)
def test_sign_in_never_redirects_off_site(svc, target):
    client = client_of(svc)
    response = client.post("/login", data={"user": "mia", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


def test_safe_paths_are_kept():
    assert safe_next("/floor?line=ac1&kiosk=1") == "/floor?line=ac1&kiosk=1"
    assert safe_next("/exec") == "/exec"


def test_failures_are_throttled_per_client_and_per_account(svc):
    client = client_of(svc)
    codes = [
        client.post(
            "/login", data={"user": "mia", "password": f"guess {i}"}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    # another client guessing the same account from many addresses is stopped too
    codes = [
        client.post(
            "/login", data={"user": "mia", "password": f"again {i}"}, environ_base={"REMOTE_ADDR": f"10.1.1.{i}"}
        ).status_code
        for i in range(3)
    ]
    assert codes == [429, 429, 429]
    # and a different account from a fresh address is not locked out by either
    add_user(svc, "noor", "manager", PASSWORD)
    assert (
        client.post(
            "/login", data={"user": "noor", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.2.2.2"}
        ).status_code
        == 303
    )


def test_kiosk_link_signs_a_wall_screen_in_until_revoked(svc):
    token = add_kiosk(svc, "Hall B", line="wm1")
    client = client_of(svc)
    response = client.get(f"/kiosk/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/floor?line=wm1&kiosk=1"
    assert client.get("/floor?line=wm1").status_code == 200
    assert client.get("/api/kpis").status_code == 401  # a wall screen shows the floor, nothing more
    svc.publish_control(ev.KioskRevoked, label="Hall B", by="test")
    catch_up(svc)
    assert client_of(svc).get(f"/kiosk/{token}").status_code == 404
    assert client.get("/floor?line=wm1").status_code == 303  # the screen's existing session ends too
    assert client.get("/api/session").status_code == 401


def test_disabling_a_user_or_changing_the_password_ends_their_sessions(svc):
    client = client_of(svc)
    sign_in(client, "mia", PASSWORD)
    assert client.get("/orders").status_code == 200
    svc.publish_control(ev.AccountChanged, user="mia", by="admin", password_hash=hash_password("another long one"))
    catch_up(svc)
    assert client.get("/orders").status_code == 303
    sign_in(client, "mia", "another long one")
    svc.publish_control(ev.AccountChanged, user="mia", by="admin", disabled=True)
    catch_up(svc)
    assert client.get("/orders").status_code == 303
    assert client.post("/login", data={"user": "mia", "password": "another long one"}).status_code == 401


def test_a_site_manager_sees_only_their_site(svc):
    add_user(svc, "sam", "manager", PASSWORD, site="camden")
    client = client_of(svc)
    sign_in(client, "sam", PASSWORD)
    assert client.get("/_dash-layout").status_code == 200
    body = client.post("/_dash-update-component", json=router_body(client, "/floor", "?line=ac1")).get_data(
        as_text=True
    )
    assert "Page not found" in body and "Air conditioner" not in body
    body = client.post("/_dash-update-component", json=router_body(client, "/floor", "?line=rf2")).get_data(
        as_text=True
    )
    assert "Refrigerator line 2" in body


def test_the_cli_manages_users_and_wall_screens_through_the_control_log(tmp_path):
    runner = CliRunner()
    added = runner.invoke(
        users, ["add", "lee", "--role", "executive", "--data-dir", str(tmp_path)], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    token = runner.invoke(kiosks, ["add", "Hall C", "--line", "ac1", "--data-dir", str(tmp_path)]).output.strip()
    assert runner.invoke(kiosks, ["revoke", "Hall C", "--data-dir", str(tmp_path)]).exit_code == 0
    assert runner.invoke(users, ["disable", "nobody", "--data-dir", str(tmp_path)]).exit_code != 0
    svc = create_app(Settings(emulator=False, data_dir=tmp_path))
    assert svc.live.accounts.users["lee"].role == "executive"
    assert svc.live.accounts.kiosks["Hall C"].revoked and client_of(svc).get(f"/kiosk/{token}").status_code == 404


def test_session_validity_is_a_pure_function_of_the_log():
    state = AccountsState()
    digest = hash_password(PASSWORD)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    apply_account(
        state,
        ev.AccountCreated(
            id="1", source="/t", time=now, user="a", role="admin", password_hash=digest, site_id=None, by="t"
        ),
    )
    cookie = {"sid": "s1", "user": "a", "role": "admin", "issued": now.timestamp() + 1}
    assert session_who(state, cookie).role == "admin" and check_password(digest, PASSWORD)
    assert session_who(state, {**cookie, "role": "manager"}) is None  # a role it no longer has
    apply_account(state, ev.SessionRevoked(id="2", source="/t", time=now, session_id="s1", by="a"))
    assert session_who(state, cookie) is None
