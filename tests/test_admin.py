"""Admin pages for users and wall screens, and the audit log: against the real app, as browsers call it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from factory.history.writer import Recorder
from streams import events as ev
from support import PASSWORD, build_factory, callback_body, catch_up, client_as, layout_text
from web import account_admin, audit
from web.accounts import AccountsState, apply_account, hash_password

MESSAGE = "admin-users-message.children"
NOT_ADMINS = (None, "mia", "wes", "wall")


@pytest.fixture
def app(events, tmp_path):
    return build_factory(events, tmp_path)


def record(app) -> None:
    """Copy what the control log holds into the history, as the app's writer does."""
    recorder = app.extras.get("test-recorder") or Recorder(app.history, {"control": app.control})
    app.extras["test-recorder"] = recorder
    while recorder.step():
        pass


def deps_of(client, prefix: str) -> list[dict]:
    client.get("/")
    return [d for d in client.get("/_dash-dependencies").get_json() if prefix in d["output"]]


def act(client, button: str, **values) -> str:
    """Press one button of /admin/users with the form's values; return the message's text."""
    dep = next(d for d in deps_of(client, "admin-users-") if MESSAGE in d["output"])
    body = callback_body(dep, {f"admin-users-{k.replace('_', '-')}.value": v for k, v in values.items()})
    body["changedPropIds"] = [f"admin-users-{button}.n_clicks"]
    for item in body["inputs"]:
        item["value"] = 1 if item["id"] == f"admin-users-{button}" else None
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data
    return json.dumps(response.get_json()["response"]["admin-users-message"]["children"])


def shown_secret(message: str) -> str:
    """Return the text of the one place a secret is shown (the admin-secret element of the message)."""

    def find(node):
        if isinstance(node, dict):
            props = node.get("props", node)
            if props.get("className") == "admin-secret":
                return props["children"]
            return next((f for v in props.values() if (f := find(v)) is not None), None)
        if isinstance(node, list):
            return next((f for v in node if (f := find(v)) is not None), None)
        return None

    secret = find(json.loads(message))
    assert secret, message
    return secret


def session_ok(client) -> bool:
    return client.get("/api/session").status_code == 200


def test_the_pages_are_for_admins_only(app):
    for who in NOT_ADMINS:
        client = client_as(app, who)
        for path in ("/admin/users", "/admin/audit"):
            text = layout_text(app, path, client=client)
            assert "Sign in to see this page" in text and "mia" not in text and "Create a user" not in text, who
            assert client.get(path).status_code == 303  # sent to sign in
    text = layout_text(app, "/admin/users", client=client_as(app, "ada"))
    assert "Create a user" in text and "mia" in text and "Last sign-in" in text
    assert "Audit log" in layout_text(app, "/admin/audit", client=client_as(app, "ada"))


def test_every_admin_callback_refuses_everyone_else_and_changes_nothing(app):
    before = len(app.control.read(None, limit=100_000))
    for who in NOT_ADMINS:
        client = client_as(app, who)
        before = len(app.control.read(None, limit=100_000))
        for dep in deps_of(client, "admin-"):
            values = {"admin-users-new-name.value": "mallory", "admin-users-who.value": "ada", "n_clicks": 1}
            answer = client.post("/_dash-update-component", json=callback_body(dep, values))
            assert answer.status_code < 500, dep["output"]
            text = answer.get_data(as_text=True)
            assert "mia" not in text and "ada" not in text and "session_started" not in text, (who, dep["output"])
        catch_up(app)
        assert len(app.control.read(None, limit=100_000)) == before, who  # nothing was published
        assert "mallory" not in app.live.accounts.users


def test_an_admin_creates_a_user_who_then_signs_in_with_the_password_shown_once(app):
    admin = client_as(app, "ada")
    message = act(admin, "create", new_name="lee", new_role="executive", new_site="qingdao", new_password=None)
    password = shown_secret(message)
    catch_up(app)
    lee = app.live.accounts.users["lee"]
    assert (lee.role, lee.site_id) == ("executive", "qingdao")
    created = [e for _, e in app.control.read(None, limit=1000) if isinstance(e, ev.AccountCreated) and e.user == "lee"]
    assert created[0].by == "ada" and password not in created[0].password_hash
    client = app.dash_app.server.test_client()
    assert client.post("/login", data={"user": "lee", "password": password}).status_code == 303
    assert "exists already" in act(admin, "create", new_name="lee", new_role="manager")
    assert "at least 10" in act(admin, "create", new_name="kim", new_role="manager", new_password="short")
    assert "manages every site" in act(admin, "create", new_name="kim", new_role="admin", new_site="qingdao")


def test_a_disabled_user_is_signed_out_and_can_no_longer_sign_in_until_enabled(app):
    mia, admin = client_as(app, "mia"), client_as(app, "ada")
    assert session_ok(mia)
    assert "disabled" in act(admin, "disable", who="mia")
    catch_up(app)
    assert not session_ok(mia)
    fresh = app.dash_app.server.test_client()
    assert fresh.post("/login", data={"user": "mia", "password": PASSWORD}).status_code == 401
    act(admin, "enable", who="mia")
    catch_up(app)
    assert fresh.post("/login", data={"user": "mia", "password": PASSWORD}).status_code == 303


def test_a_reset_password_ends_the_sessions_and_only_the_new_one_signs_in(app):
    mia, admin = client_as(app, "mia"), client_as(app, "ada")
    password = shown_secret(act(admin, "reset", who="mia"))
    catch_up(app)
    assert not session_ok(mia)
    fresh = app.dash_app.server.test_client()
    assert fresh.post("/login", data={"user": "mia", "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={"user": "mia", "password": password}).status_code == 303


def test_signing_a_user_out_everywhere_keeps_the_password(app):
    first, second, admin = client_as(app, "mia"), client_as(app, "mia"), client_as(app, "ada")
    act(admin, "sign-out", who="mia")
    catch_up(app)
    assert not session_ok(first) and not session_ok(second)
    assert session_ok(client_as(app, "mia"))  # a new sign-in works at once


def test_role_and_site_change(app):
    admin = client_as(app, "ada")
    act(admin, "save", who="mia", role="executive", site="shenyang")
    catch_up(app)
    mia = app.live.accounts.users["mia"]
    assert (mia.role, mia.site_id) == ("executive", "shenyang")
    act(admin, "save", who="mia", role="keep", site="")
    catch_up(app)
    assert app.live.accounts.users["mia"].site_id is None
    assert "no site" in act(admin, "save", who="mia", role="keep", site="atlantis")


def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(app):
    admin = client_as(app, "ada")
    assert "last enabled admin" in act(admin, "disable", who="ada")
    assert "last enabled admin" in act(admin, "save", who="ada", role="manager", site="keep")
    catch_up(app)
    assert app.live.accounts.users["ada"].role == "admin" and not app.live.accounts.users["ada"].disabled
    act(admin, "save", who="wes", role="admin", site="keep")
    catch_up(app)
    act(admin, "disable", who="ada")  # another admin exists now
    catch_up(app)
    assert app.live.accounts.users["ada"].disabled and not session_ok(admin)


def test_a_registered_screen_signs_in_with_its_link_and_a_revoked_one_is_signed_out(app):
    admin = client_as(app, "ada")
    message = act(admin, "register", label="Hall D", line="ac1")
    link = re.fullmatch(r"http://[^/]+/kiosk/([A-Za-z0-9_-]+)", shown_secret(message))
    assert link, message
    catch_up(app)
    screen = app.dash_app.server.test_client()
    assert screen.get(f"/kiosk/{link.group(1)}").status_code == 303 and session_ok(screen)
    assert "exists already" in act(admin, "register", label="Hall D")
    assert "not at site" in act(admin, "register", label="Hall E", line="ac1", screen_site="pune")
    act(admin, "revoke", screen="Hall D")
    catch_up(app)
    assert not session_ok(screen) and screen.get(f"/kiosk/{link.group(1)}").status_code == 404
    assert app.live.accounts.kiosks["Hall D"].revoked


def _event(cls, minutes, **data):
    return cls(id=f"a-{minutes}", source="/test", time=T0 + timedelta(minutes=minutes), **data)


T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _publish_by_hand(app):
    digest = hash_password("another password")
    for e in [
        _event(ev.SessionStarted, 1, session_id="s-lee-1", user="lee", role="manager", client="10.0.0.7"),
        _event(ev.AccountCreated, 2, user="lee", role="manager", password_hash=digest, site_id="qingdao", by="ada"),
        _event(ev.AccountChanged, 3, user="lee", by="ada", password_hash=digest),
        _event(ev.KioskRegistered, 4, label="Hall D", token_sha256="f" * 64, line_id="ac1", site_id=None, by="ada"),
        _event(
            ev.AlarmShelved,
            5,
            line_id="ac1",
            station_id="brazing",
            alarm_kind="starved",
            until="2026-03-02T10:00Z",
            reason="+cmd|' /C calc'!A0",
            by="mia",
        ),
        _event(
            ev.DowntimeClassified,
            6,
            line_id="ac1",
            station_id="brazing",
            machine=1,
            down_since="2026-03-02T07:50Z",
            reason_code="GAS",
            note='=HYPERLINK("http://x")',
            by="mia",
        ),
        _event(ev.SessionRevoked, 7, session_id="s-lee-1", by="lee"),
        _event(ev.FeedbackGiven, 8, unit_code="UA", line_id="ac1", rating=5, comment="great"),
    ]:
        app.control.publish(e)
    catch_up(app)
    record(app)


EXPECTED = [
    ["2026-03-02T08:07:00Z", "lee", "session_revoked", "lee", "signed out (session s-lee-…)"],
    ["2026-03-02T08:06:00Z", "mia", "downtime_classified", "ac1/brazing machine 1 down since 2026-03-02T07:50Z",
     'reason GAS, note =HYPERLINK("http://x")'],
    ["2026-03-02T08:05:00Z", "mia", "alarm_shelved", "ac1/brazing starved",
     "until 2026-03-02T10:00Z, reason +cmd|' /C calc'!A0"],
    ["2026-03-02T08:04:00Z", "ada", "kiosk_registered", "Hall D", "line ac1"],
    ["2026-03-02T08:03:00Z", "ada", "account_changed", "lee", "password changed"],
    ["2026-03-02T08:02:00Z", "ada", "account_created", "lee", "role manager, site qingdao"],
    ["2026-03-02T08:01:00Z", "lee", "session_started", "lee", "role manager, from 10.0.0.7"],
]  # fmt: skip


def _rows(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.data
    return [[r[c] for c in audit.COLUMNS] for r in answer.get_json()["rows"]]


def test_the_audit_log_holds_every_person_s_action_worked_by_hand_and_no_secret(app):
    _publish_by_hand(app)
    admin = client_as(app, "ada")
    window = "from=2026-03-02T08:00:00Z&to=2026-03-02T09:00:00Z"
    answer = admin.get(f"/api/audit?{window}")
    assert _rows(answer) == EXPECTED  # feedback is a customer's, not in the log
    text = answer.get_data(as_text=True)
    assert "$argon2" not in text and "f" * 64 not in text
    assert _rows(admin.get(f"/api/audit?{window}&user=lee")) == [EXPECTED[0], EXPECTED[4], EXPECTED[5], EXPECTED[6]]
    assert _rows(admin.get(f"/api/audit?{window}&action=alarm_shelved")) == [EXPECTED[2]]
    assert _rows(admin.get("/api/audit?from=2026-03-02T08:03:00Z&to=2026-03-02T08:05:00Z")) == EXPECTED[3:5]
    # the sign-ins the tests' clients made (now) are there too, newer than the hand-made ones
    record(app)
    assert any(r[2] == "session_started" and r[1] == "ada" for r in _rows(admin.get("/api/audit")))


def test_the_audit_log_is_paged_from_the_newest(app):
    _publish_by_hand(app)
    filters = audit.Filters(start=T0, end=T0 + timedelta(hours=1))
    first, cursor = audit.page(app.history, filters, limit=3)
    second, cursor2 = audit.page(app.history, filters, cursor, limit=3)
    third, last = audit.page(app.history, filters, cursor2, limit=3)
    assert [[r[c] for c in audit.COLUMNS] for r in first + second + third] == EXPECTED and last is None
    admin = client_as(app, "ada")
    answer = admin.get("/api/audit?from=2026-03-02T08:00:00Z&to=2026-03-02T09:00:00Z")
    assert answer.get_json()["next"] is None


def test_the_audit_page_shows_the_rows_to_admins(app):
    _publish_by_hand(app)
    admin = client_as(app, "ada")
    dep = deps_of(admin, "admin-audit-table")[0]
    values = {
        "admin-audit-from.value": "2026-03-02",
        "admin-audit-to.value": "2026-03-03",
        "admin-audit-action.value": "account_created",
    }
    answer = admin.post("/_dash-update-component", json=callback_body(dep, values))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "account created" in text and "role manager, site qingdao" in text
    assert "format=csv" in text and "action=account_created" in text
    bad = admin.post("/_dash-update-component", json=callback_body(dep, {"admin-audit-from.value": "yesterday"}))
    assert bad.status_code == 200 and "not an ISO 8601 time" in bad.get_data(as_text=True)


def test_the_csv_export_neutralises_formulas(app):
    _publish_by_hand(app)
    answer = client_as(app, "ada").get("/api/audit?from=2026-03-02T08:00:00Z&to=2026-03-02T09:00:00Z&format=csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == list(audit.COLUMNS) and len(rows) == len(EXPECTED) + 1
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert '\'reason GAS, note =HYPERLINK("http://x")' not in cells  # the note is inside a plain cell…
    assert any("=HYPERLINK" in cell for cell in cells)  # …kept, but never at a cell's start


def test_the_audit_api_answers_admins_only_and_refuses_bad_filters(app):
    assert client_as(app, None).get("/api/audit").status_code == 401
    for who in ("mia", "wes", "wall"):
        assert client_as(app, who).get("/api/audit").status_code == 403, who
    admin = client_as(app, "ada")
    for query in ("from=yesterday", "from=2026-03-02&to=2026-03-01", "action=coffee", "format=xml", "after=nope"):
        answer = admin.get(f"/api/audit?{query}")
        assert answer.status_code == 400 and "error" in answer.get_json(), query


def test_the_command_line_and_the_pages_share_one_set_of_checks():
    state = AccountsState()
    apply_account(
        state, _event(ev.AccountCreated, 1, user="root", role="admin", password_hash="x", site_id=None, by="t")
    )
    with pytest.raises(account_admin.Refused, match="last enabled admin"):
        account_admin.change_user(state, "root", "cli", disabled=True)
    with pytest.raises(account_admin.Refused, match="last enabled admin"):
        account_admin.create_user(state, "root", "manager", "cli", password="long enough pw", replace=True)
    with pytest.raises(account_admin.Refused, match="user name"):
        account_admin.create_user(state, "kiosk:x", "manager", "cli", password="long enough pw")
    change = account_admin.end_sessions(state, "root", "t")
    apply_account(state, change.cls(id="2", source="/t", time=T0 + timedelta(minutes=5), **change.data))
    assert state.users["root"].password_changed == T0 + timedelta(minutes=5)


def test_a_line_cannot_create_an_account_or_act_for_a_person_through_ingestion(app):
    from streams.codec import to_json
    from support import API_KEY

    forged = _event(ev.AccountCreated, 1, user="mallory", role="admin", password_hash=hash_password("x" * 12),
                    site_id=None, by="ada")  # fmt: skip
    answer = app.dash_app.server.test_client().post(
        "/api/events",
        data=to_json(forged),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["reason"] == "control_event", answer.data
    catch_up(app)
    assert "mallory" not in app.live.accounts.users


def test_failed_sign_ins_are_counted_a_minute_at_a_time_without_the_names_tried(app):
    from web.sign_in_failures import FailedSignIns

    for n in range(30):  # from many addresses: past the per-client limit, not past the log's bound
        client = app.dash_app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.8.0.{n % 15 + 1}"
        name = "mia" if n % 3 else f"hunter2-typed-as-a-name-{n}"
        assert client.post("/login", data={"user": name, "password": "wrong password"}).status_code in (401, 429)
    catch_up(app)
    assert not any(isinstance(e, ev.SignInsFailed) for _, e in app.control.read(None, limit=10_000))  # same minute
    failed = app.sign_in_failures.take(datetime.now(UTC), force=True)
    app.publish_control(ev.SignInsFailed, **failed)
    catch_up(app)
    record(app)
    answer = client_as(app, "ada").get("/api/audit?action=sign_ins_failed")
    rows = answer.get_json()["rows"]
    assert len(rows) == 1 and rows[0]["target"].startswith("mia ×") and "names of no account ×10" in rows[0]["target"]
    assert rows[0]["details"].startswith(f"{failed['failures']} failed in the minute from ")
    assert "hunter2" not in answer.get_data(as_text=True)
    assert client_as(app, "ada").get("/api/audit?action=sign_ins_failed&user=mia").get_json()["rows"] == rows
    counter = FailedSignIns()
    counter.note("mia", True, "10.0.0.1", T0)
    assert counter.take(T0 + timedelta(seconds=30)) is None
    assert counter.take(T0 + timedelta(seconds=61))["failures"] == 1 and counter.take(T0, force=True) is None


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_the_audit_reads_the_same_from_either_history(backend, plant, tmp_path, request):
    from factory.history import open_history

    target = tmp_path / "history.duckdb" if backend == "duckdb" else request.getfixturevalue("postgres_url")
    history = open_history(target, plant)
    try:
        digest = hash_password("another password")
        history.record(
            [
                _event(ev.SessionStarted, 1, session_id="s-lee-1", user="lee", role="manager", client="10.0.0.7"),
                _event(
                    ev.AccountCreated, 2, user="lee", role="manager", password_hash=digest, site_id="qingdao", by="ada"
                ),
                _event(ev.AccountChanged, 3, user="lee", by="ada", password_hash=digest),
                _event(
                    ev.SignInsFailed,
                    4,
                    since="2026-03-02T08:03:00.000Z",
                    failures=4,
                    accounts={"lee": 3},
                    unknown_names=1,
                    clients={"10.0.0.9": 4},
                ),
                _event(ev.SessionRevoked, 7, session_id="s-lee-1", by="lee"),
            ]
        )
        filters = audit.Filters(start=T0, end=T0 + timedelta(hours=1), user="lee")
        first, cursor = audit.page(history, filters, limit=2)
        rest, end = audit.page(history, filters, cursor, limit=10)
        rows = [[r[c] for c in audit.COLUMNS] for r in first + rest]
        assert end is None and [r[2] for r in rows] == [
            "session_revoked",
            "sign_ins_failed",
            "account_changed",
            "account_created",
            "session_started",
        ]
        assert rows[0][3:] == ["lee", "signed out (session s-lee-…)"]
        assert rows[1][3] == "lee ×3, names of no account ×1"
        assert audit.page(history, audit.Filters(user='x"y'))[0] == []
    finally:
        history.close()
