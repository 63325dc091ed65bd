"""The wired app in-process: HTTP routes, socket admission, snapshots, patches and resync."""

from __future__ import annotations

import json
import secrets
from datetime import UTC

import pytest

from app import create_app
from config import Settings
from support import API_KEY, TOKEN_A, TOKEN_B, add_kiosk, catch_up, client_as, layout_text
from web.push.frames import patch


def test_pages_answer(factory):
    client = client_as(factory)
    assert client.get("/").status_code == 200
    assert client.get(f"/track/{TOKEN_A}").status_code == 200
    anonymous = client.get("/floor?line=ac1")
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/login?next=/floor?line=ac1"
    assert client_as(factory, "wall").get("/floor").status_code == 200
    assert client.get("/no/such/page").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/track/unknown-token-0123456789", "/track/x", "/track/%00%01", "/track/" + "a" * 500, f"/track/{TOKEN_A}/extra"],
)
def test_unknown_or_malformed_tokens_are_404(factory, path):
    assert client_as(factory).get(path).status_code == 404


def test_tracker_layout_shows_only_its_order(factory):
    text = layout_text(factory, f"/track/{TOKEN_A}")
    assert "UA" in text and "Kitting" in text
    assert "UB" not in text and TOKEN_B not in text


def test_tracker_layout_for_unknown_token_is_not_found(factory):
    text = layout_text(factory, "/track/unknown-token-0123456789")
    assert "Page not found" in text and "UA" not in text


def test_floor_layout_draws_the_line_map(factory):
    manager = client_as(factory, "mia")
    text = layout_text(factory, "/floor", "?line=ac1", manager)
    assert "Kitting" in text and "Helium leak test" in text and "data-station" in text
    assert "Page not found" in layout_text(factory, "/floor", "?line=nope", manager)


@pytest.mark.parametrize("forged", [None, "customer", "manager"])
def test_floor_layout_is_refused_without_a_valid_session(factory, forged):
    client = client_as(factory)
    if forged:
        with client.session_transaction() as session:  # a cookie signed by us but naming no session
            session.update(role=forged, user="mia")
    text = layout_text(factory, "/floor", "?line=ac1", client)
    assert "Sign in to see this page" in text and "Kitting" not in text


def _socket(factory, auth, who=None, headers=None):
    client = client_as(factory, who)
    return factory.socketio.test_client(factory.dash_app.server, auth=auth, flask_test_client=client, headers=headers)


def _frames(client):
    return [m["args"][0] for m in client.get_received()]


def test_tracker_socket_gets_a_snapshot_then_only_its_own_patches(factory, events):
    a = _socket(factory, {"view": "track", "token": TOKEN_A})
    b = _socket(factory, {"view": "track", "token": TOKEN_B})
    assert a.is_connected() and b.is_connected()
    snapshot = _frames(a)
    assert len(snapshot) == 1 and snapshot[0]["v"]["current_station"] == "kitting"
    _frames(b)

    factory.bus.publish_many([events.exited(2, "UA", "kitting"), events.entered(3, "UA", "sheet_metal")])
    catch_up(factory)
    factory.rooms.flush_orders(factory.live.take_dirty_units())
    frames = _frames(a)
    assert len(frames) == 1  # two events, one frame
    frame = frames[0]
    assert frame["b"] == snapshot[0]["s"] and frame["s"] == frame["b"] + 1 and frame["e"] == snapshot[0]["e"]
    view = patch(snapshot[0]["v"], frame["p"])
    assert view["current_station"] == "sheet_metal"
    assert len(json.dumps(frame)) < len(json.dumps(snapshot[0])) / 2  # a patch, not the whole view
    assert _frames(b) == []  # order B did not change: its viewers hear nothing


def test_a_gap_is_mended_by_fetching_the_whole_frame(factory, events):
    a = _socket(factory, {"view": "track", "token": TOKEN_A})
    _frames(a)
    factory.bus.publish(events.exited(2, "UA", "kitting"))
    catch_up(factory)
    factory.rooms.flush_orders(factory.live.take_dirty_units())
    frame = _frames(a)[0]
    whole = client_as(factory).get(f"/api/live/order/{TOKEN_A}").get_json()
    assert whole["s"] == frame["s"] and whole["v"]["waiting_for"] == "sheet_metal"
    assert client_as(factory).get("/api/live/floor/ac1").status_code == 403


def test_a_room_nobody_watches_answers_its_view_of_now_and_keeps_nothing(factory, events):
    manager = client_as(factory, "mia")
    first = manager.get("/api/live/floor/ac1").get_json()
    assert [s["units"] for s in first["v"]["stations"] if s["id"] == "kitting"] == [["UA"]]
    factory.bus.publish_many([events.exited(2, "UA", "kitting"), events.entered(3, "UA", "sheet_metal")])
    catch_up(factory)  # no socket watches ac1, so no frame goes out and nothing refreshes a kept one
    later = manager.get("/api/live/floor/ac1").get_json()
    assert [s["units"] for s in later["v"]["stations"] if s["id"] == "sheet_metal"] == [["UA"]]
    for _ in range(3):
        assert client_as(factory).get(f"/api/live/order/{TOKEN_B}").status_code == 200
    assert factory.rooms.frames.rooms() == 0  # pollers of rooms leave no frames behind


def test_floor_socket_receives_line_frames(factory, events):
    floor = _socket(factory, {"view": "floor", "line": "ac1"}, who="wall")
    first = _frames(floor)[0]
    assert first["v"]["line"] == "ac1" and "t" in first
    factory.bus.publish(events.exited(2, "UA", "kitting"))
    catch_up(factory)
    factory.rooms.flush_floors(factory.live.take_dirty_lines())
    frame = _frames(floor)[0]
    view = patch(first["v"], frame["p"])
    assert view["stations"][1]["queue"] == 1 and view["stations"][0]["units"] == []


@pytest.mark.parametrize(
    "auth",
    [
        None,
        {},
        {"view": "track", "token": "unknown-token-0123456789"},
        {"view": "floor", "line": "nope"},
        {"view": "admin"},
    ],
)
def test_sockets_without_a_valid_room_are_refused(factory, auth):
    assert not _socket(factory, auth, who="ada").is_connected()


def test_an_anonymous_socket_cannot_join_a_floor_room(factory):
    assert not _socket(factory, {"view": "floor", "line": "ac1"}).is_connected()


def test_a_socket_from_another_site_is_refused(factory):
    """The handshake goes through Engine.IO's origin check (the in-process socket client skips it)."""
    client = client_as(factory)
    handshake = "/socket.io/?EIO=4&transport=polling"
    assert client.get(handshake, headers={"Origin": "http://evil.example"}).status_code == 400
    assert client.get(handshake, headers={"Origin": "http://localhost"}).status_code == 200
    assert client.get(handshake).status_code == 200  # no Origin: not a browser page of another site


def test_disconnect_stops_pushes_to_that_room(factory, events):
    a = _socket(factory, {"view": "track", "token": TOKEN_A})
    a.disconnect()
    factory.bus.publish(events.exited(2, "UA", "kitting"))
    catch_up(factory)
    assert factory.rooms.flush_orders(factory.live.take_dirty_units()) == 0
    assert dict(factory.rooms.watchers) == {}


def test_a_revoked_wall_screen_is_disconnected(factory):
    from streams import events as ev

    label = "Hall Z"
    token = add_kiosk(factory, label)
    client = factory.dash_app.server.test_client()
    client.get(f"/kiosk/{token}")
    screen = factory.socketio.test_client(
        factory.dash_app.server, auth={"view": "floor", "line": "ac1"}, flask_test_client=client
    )
    assert screen.is_connected()
    factory.publish_control(ev.KioskRevoked, label=label, by="ada")
    catch_up(factory)
    assert not screen.is_connected()


def test_order_api_returns_only_that_order(factory):
    response = client_as(factory).get(f"/api/orders/{TOKEN_A}?lang=zh")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert '"UA"' in body and "UB" not in body and TOKEN_B not in body and "配料" in body


@pytest.mark.parametrize("token", ["unknown-token-0123456789", "x", "%2e%2e", "a" * 300])
def test_order_api_unknown_tokens_are_404(factory, token):
    response = client_as(factory).get(f"/api/orders/{token}")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", f"Basic {API_KEY}", f"bearer {API_KEY}"])
def test_kpi_api_refuses_without_the_key(factory, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client_as(factory).get("/api/kpis", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_kpi_api_answers_with_the_key_or_a_session(factory):
    query = "/api/kpis?line=ac1&from=2026-03-02T08:00:00Z&to=2026-03-02T09:00:00Z"
    response = client_as(factory).get(query, headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200
    body = response.get_json()
    assert list(body["lines"]) == ["ac1"] and body["lines"]["ac1"]["orders_placed"] == 2
    assert client_as(factory, "wes").get(query).status_code == 200
    assert client_as(factory, "wall").get(query).status_code == 401
    sites = client_as(factory, "wes").get("/api/sites").get_json()
    assert [s["id"] for s in sites["sites"]][:1] == ["zhengzhou"] and sites["sites"][5]["timezone"] == "Asia/Kolkata"


@pytest.mark.parametrize(
    "query, reason",
    [
        ("line=zz9", "unknown_scope"),
        ("site=atlantis", "unknown_scope"),
        ("from=yesterday", "bad_from"),
        ("to=2026-13-01", "bad_to"),
        ("from=2026-03-02T09:00:00Z&to=2026-03-02T08:00:00Z", "bad_range"),
        ("from=2020-01-01T00:00:00Z&to=2026-03-02T08:00:00Z", "bad_range"),
    ],
)
def test_kpi_api_bad_input_is_400(factory, query, reason):
    response = client_as(factory).get(f"/api/kpis?{query}", headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 400 and response.get_json()["error"] == reason


def test_kpi_api_answers_json_without_nan(factory):
    response = client_as(factory).get(
        "/api/kpis?from=2026-03-02T07:00:00Z&to=2026-03-02T07:30:00Z", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))


def test_floor_frames_carry_the_shift_kpis_the_api_gives(plant):
    """The floor's KPI tiles and /api/kpis are computed the same way over the same range."""
    from datetime import datetime

    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast

    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    out = []
    run_fast(PlantModel(plant, out.append, datetime(2026, 1, 5, tzinfo=UTC), seed=8), 3 * 3600)
    factory.bus.publish_many(out)
    factory.history.record(out)
    catch_up(factory)
    factory.queries.refresh_kpis(["ac1"])
    tiles = factory.queries.line_kpis_cache["ac1"]
    assert 0 < tiles["oee"] < 1 and tiles["units_completed"] > 20
    response = factory.dash_app.server.test_client().get(
        f"/api/kpis?line=ac1&from={tiles['from']}&to={tiles['to']}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    api = response.get_json()["lines"]["ac1"]
    assert {k: api[k] for k in tiles if k not in ("from", "to", "computed_at")} == {
        k: v for k, v in tiles.items() if k not in ("from", "to", "computed_at")
    }


def _ingest(client, body, mimetype="application/x-ndjson", key=API_KEY):
    return client.post("/api/events", data=body, headers={"Authorization": f"Bearer {key}", "Content-Type": mimetype})


def test_ingestion_takes_good_events_and_explains_the_rest(events):
    from streams.codec import to_json

    # the test's events are of March 2026: a window wide enough to take them from a line never seen before
    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,), event_window_h=24 * 3650))
    client = factory.dash_app.server.test_client()
    good = [events.placed(0, "UX", token=TOKEN_A), events.entered(1, "UX", "kitting")]
    body = "\n".join([to_json(good[1]), "{broken", to_json(good[0]), to_json(good[0]), ""])
    response = _ingest(client, body)
    assert response.status_code == 207
    assert response.get_json() == {
        "accepted": 2,
        "duplicate": 1,
        "rejected": 1,
        "errors": [{"line": 2, "reason": "bad_json"}],
    }
    factory.ingestor.flush(force=True)
    assert [e for _, e in factory.bus.read()] == [good[0], good[1]]  # put back in time order
    assert factory.bus.dead_letters[0][0] == "bad_json"
    assert _ingest(client, to_json(events.completed(2, "UX")), "application/json").status_code == 200
    stats = client.get("/api/ingest/stats", headers={"Authorization": f"Bearer {API_KEY}"}).get_json()
    assert stats["counts"] == {"accepted": 3, "duplicate": 1, "rejected:bad_json": 1}


def test_ingestion_refuses_what_it_cannot_take():
    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    client = factory.dash_app.server.test_client()
    assert _ingest(client, "{}", key="wrong").status_code == 401
    assert _ingest(client, "x,y", "text/csv").status_code == 415
    assert _ingest(client, "{broken").status_code == 422
    deep = _ingest(client, "[" * 100 + "]" * 100, "application/json")
    assert deep.status_code == 422 and deep.get_json()["errors"] == [{"line": 1, "reason": "too_deep"}]
    # One deep line in a batch is refused on its own; the rest of the batch is judged as usual.
    mixed = _ingest(client, "[" * 100 + "]" * 100 + "\n{broken", "application/x-ndjson")
    assert [e["reason"] for e in mixed.get_json()["errors"]] == ["too_deep", "bad_json"]
    assert _ingest(client, "x" * (17 * 1024 * 1024)).status_code == 413


def test_test_report_downloads_in_both_languages(factory, events):
    from streams import events as ev

    check = ev.QualityChecked(
        **events._env(5),
        unit_code="UA",
        line_id="ac1",
        station_id="run_test",
        passed=True,
        measurements=(ev.Measurement("noise", "Indoor unit noise", "dB(A)", 36.4, None, 40.0, True),),
    )
    factory.bus.publish(check)
    catch_up(factory)
    client = client_as(factory)
    csv_response = client.get(f"/api/orders/{TOKEN_A}/report.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert (
        "Performance run test,2026-03-02T08:05:00.000Z,Indoor unit noise,36.4,dB(A),,40,pass"
        in csv_response.get_data(as_text=True)
    )
    assert "性能运转测试" in client.get(f"/api/orders/{TOKEN_A}/report.csv?lang=zh").get_data(as_text=True)
    pdf = client.get(f"/api/orders/{TOKEN_A}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    assert client.get(f"/api/orders/{TOKEN_A}/report.exe").status_code == 404
    assert client.get("/api/orders/unknown-token-0123456789/report.pdf").status_code == 404


def test_token_enumeration_finds_nothing_and_is_throttled(factory):
    client = client_as(factory)
    guesses = [secrets.token_urlsafe(16) for _ in range(60)]
    statuses = [client.get(f"/track/{g}", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code for g in guesses]
    assert set(statuses[:30]) == {404} and set(statuses[30:]) == {429}
    # another client with its own link is not slowed by the guesser
    assert client.get(f"/track/{TOKEN_A}", environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 200


def test_unknown_and_malformed_tokens_answer_alike(factory):
    client = client_as(factory)
    unknown = client.get("/api/orders/unknown-token-0123456789", environ_base={"REMOTE_ADDR": "10.3.3.3"})
    malformed = client.get("/api/orders/x", environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert (unknown.status_code, unknown.get_json()) == (malformed.status_code, malformed.get_json())


def test_feedback_reaches_the_managers_inbox_for_that_order_only(factory):
    client = client_as(factory)
    form = client.post(f"/api/orders/{TOKEN_A}/feedback", data={"rating": "5", "comment": "Lovely to watch"})
    assert form.status_code == 303 and form.headers["Location"] == f"/track/{TOKEN_A}?thanks=1"
    assert client.post(f"/api/orders/{TOKEN_B}/feedback", json={"comment": "ok"}).status_code == 201
    catch_up(factory)
    inbox = client_as(factory, "mia").get("/api/feedback").get_json()
    assert [(f["unit_code"], f["rating"], f["comment"]) for f in inbox] == [
        ("UB", None, "ok"),
        ("UA", 5, "Lovely to watch"),
    ]
    assert client.get("/api/feedback").status_code == 401
    assert "Lovely to watch" in layout_text(factory, "/inbox", "", client_as(factory, "mia"))


@pytest.mark.parametrize(
    "data, status",
    [
        ({"rating": "9"}, 400),
        ({"rating": "x"}, 400),
        ({}, 400),
        ({"comment": "x" * 2001}, 413),
    ],
)
def test_bad_feedback_is_refused(factory, data, status):
    client = client_as(factory)
    assert client.post(f"/api/orders/{TOKEN_A}/feedback", json=data).status_code == status
    assert client.post("/api/orders/unknown-token-0123456789/feedback", json={"comment": "hi"}).status_code == 404


@pytest.mark.parametrize(
    "accept, search, expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.5", "", "当前工位：配料"),
        ("en-GB,en;q=0.9", "", "Now at: Kitting"),
        ("zh-CN", "?lang=en", "Now at: Kitting"),
        ("en", "?lang=zh", "当前工位：配料"),
        ("fr-FR", "?lang=xx", "Now at: Kitting"),
    ],
)
def test_the_tracker_speaks_the_viewers_language(factory, accept, search, expected):
    text = layout_text(factory, f"/track/{TOKEN_A}", search, headers={"Accept-Language": accept})
    assert expected in text


def test_both_languages_word_every_text_the_tracker_uses():
    from dashboard.i18n import TEXTS

    assert set(TEXTS["en"]) == set(TEXTS["zh"])
    assert {"shipped_with", "finish", "finish_one", "ship", "ahead", "ahead_one", "live", "reconnecting"} <= set(
        TEXTS["en"]
    )


def test_health_and_readiness(factory):
    client = client_as(factory)
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.get_json()["parts"]["bus"]["ok"]


def test_readiness_names_a_stretch_of_the_stream_a_reader_missed(factory):
    client = client_as(factory)
    factory.bus._note_gap("2", "9", 6)  # as a read past the retained window records it
    ready = client.get("/ready")
    bus = ready.get_json()["parts"]["bus"]
    assert ready.status_code == 200 and bus["ok"]  # a past loss: told, not a reason to leave the pool
    assert bus["gaps"] == 1 and bus["last_gap"]["missed"] == 6 and bus["last_gap"]["resumed"] == "9"
