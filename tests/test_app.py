"""The wired app in-process: HTTP routes, socket admission, snapshots and coalesced frames."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from app import create_app
from config import Settings

TOKEN_A = "tokenA-0123456789abcdef"
TOKEN_B = "tokenB-0123456789abcdef"


@pytest.fixture
def factory(events):
    factory = create_app(Settings(emulator=False, data_dir=None))
    factory.bus.publish_many(
        [
            events.placed(0, "UA", token=TOKEN_A),
            events.placed(0, "UB", token=TOKEN_B),
            events.entered(1, "UA", "kitting"),
        ]
    )
    factory.live.catch_up()
    factory.live.flush()  # nobody watches yet: this only clears what changed
    return factory


def signed_in(factory, role):
    """Return a test client whose session carries ``role``."""
    client = factory.dash_app.server.test_client()
    with client.session_transaction() as session:
        session["role"] = role
    return client


def test_pages_answer(factory):
    client = factory.dash_app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get(f"/track/{TOKEN_A}").status_code == 200
    anonymous = client.get("/floor?line=ac1")
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/login?next=/floor?line=ac1"
    assert signed_in(factory, "wall").get("/floor").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/track/unknown-token-0123456789", "/track/x", "/track/%00%01", "/track/" + "a" * 500, f"/track/{TOKEN_A}/extra"],
)
def test_unknown_or_malformed_tokens_are_404(factory, path):
    assert factory.dash_app.server.test_client().get(path).status_code == 404


def _layout(factory, pathname, search="", client=None, headers=None):
    """Call Dash's page router the way a browser does and return the rendered layout as text."""
    client = client or factory.dash_app.server.test_client()
    client.get("/")  # first request registers the router callback
    router = next(cb for cb in client.get("/_dash-dependencies").get_json() if "_pages_content" in cb["output"])
    body = {
        "output": router["output"],
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
    }
    response = client.post("/_dash-update-component", json=body, headers=headers or {})
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_tracker_layout_shows_only_its_order(factory):
    text = _layout(factory, f"/track/{TOKEN_A}")
    assert "UA" in text and "Kitting" in text
    assert "UB" not in text and TOKEN_B not in text


def test_tracker_layout_for_unknown_token_is_not_found(factory):
    text = _layout(factory, "/track/unknown-token-0123456789")
    assert "Page not found" in text and "UA" not in text


def test_floor_layout_lists_units_at_stations(factory):
    manager = signed_in(factory, "manager")
    text = _layout(factory, "/floor", "?line=ac1", manager)
    assert "UA" in text
    assert "Page not found" in _layout(factory, "/floor", "?line=nope", manager)


@pytest.mark.parametrize("role", [None, "customer", "nobody"])
def test_floor_layout_is_refused_without_an_entitled_role(factory, role):
    client = signed_in(factory, role) if role else None
    text = _layout(factory, "/floor", "?line=ac1", client)
    assert "Sign in to see this page" in text and "UA" not in text and "Kitting" not in text


def _socket(factory, auth, role=None):
    client = signed_in(factory, role) if role else factory.dash_app.server.test_client()
    return factory.socketio.test_client(factory.dash_app.server, auth=auth, flask_test_client=client)


def test_tracker_socket_gets_a_snapshot_then_only_its_own_frames(factory, events):
    a = _socket(factory, {"view": "track", "token": TOKEN_A})
    b = _socket(factory, {"view": "track", "token": TOKEN_B})
    assert a.is_connected() and b.is_connected()
    snapshot = a.get_received()
    assert [m["name"] for m in snapshot] == ["order"]
    assert snapshot[0]["args"][0]["view"]["current_station"] == "Kitting"
    b.get_received()

    factory.bus.publish_many([events.exited(2, "UA", "kitting"), events.entered(3, "UA", "sheet_metal")])
    factory.live.catch_up()
    factory.live.flush()
    frames = a.get_received()
    assert len(frames) == 1  # two events, one coalesced frame
    frame = frames[0]["args"][0]
    assert frame["view"]["current_station"] == "Sheet metal"
    assert frame["seq"] > snapshot[0]["args"][0]["seq"] and frame["epoch"] == snapshot[0]["args"][0]["epoch"]
    assert b.get_received() == []  # order B did not change: its viewers hear nothing


def test_floor_socket_receives_line_frames(factory, events):
    floor = _socket(factory, {"view": "floor", "line": "ac1"}, role="wall")
    assert floor.get_received()[0]["args"][0]["view"]["line"]["id"] == "ac1"
    factory.bus.publish(events.exited(2, "UA", "kitting"))
    factory.live.catch_up()
    factory.live.flush()
    frame = floor.get_received()[0]["args"][0]
    assert frame["view"]["stations"][1]["queue"] == 1


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
    assert not _socket(factory, auth, role="admin").is_connected()


def test_an_anonymous_socket_cannot_join_a_floor_room(factory):
    assert not _socket(factory, {"view": "floor", "line": "ac1"}).is_connected()


def test_disconnect_stops_pushes_to_that_room(factory, events):
    a = _socket(factory, {"view": "track", "token": TOKEN_A})
    a.disconnect()
    factory.bus.publish(events.exited(2, "UA", "kitting"))
    factory.live.catch_up()
    factory.live.flush()
    assert factory.live._watchers == {}


API_KEY = "test-key-0123456789abcdef"


@pytest.fixture
def api_client(events):
    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    batch = [
        events.placed(0, "UA", token=TOKEN_A),
        events.placed(0, "UB", token=TOKEN_B),
        events.entered(1, "UA", "kitting"),
    ]
    factory.bus.publish_many(batch)
    factory.history.append(batch)
    factory.live.catch_up()
    return factory.dash_app.server.test_client()


def test_order_api_returns_only_that_order(api_client):
    response = api_client.get(f"/api/orders/{TOKEN_A}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert '"UA"' in body and "UB" not in body and TOKEN_B not in body


@pytest.mark.parametrize("token", ["unknown-token-0123456789", "x", "%2e%2e", "a" * 300])
def test_order_api_unknown_tokens_are_404(api_client, token):
    response = api_client.get(f"/api/orders/{token}")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", f"Basic {API_KEY}", f"bearer {API_KEY}"])
def test_kpi_api_refuses_without_the_key(api_client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = api_client.get("/api/kpis", headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_kpi_api_answers_with_the_key(api_client):
    response = api_client.get(
        "/api/kpis?line=ac1&from=2026-03-02T08:00:00Z&to=2026-03-02T09:00:00Z",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert list(body["lines"]) == ["ac1"] and body["lines"]["ac1"]["orders_placed"] == 2


@pytest.mark.parametrize(
    "query, reason",
    [
        ("line=zz9", "unknown_line"),
        ("from=yesterday", "bad_time"),
        ("to=2026-13-01", "bad_time"),
        ("from=2026-03-02T09:00:00Z&to=2026-03-02T08:00:00Z", "bad_range"),
        ("from=2020-01-01T00:00:00Z&to=2026-03-02T08:00:00Z", "bad_range"),
    ],
)
def test_kpi_api_bad_input_is_400(api_client, query, reason):
    response = api_client.get(f"/api/kpis?{query}", headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 400 and response.get_json()["error"] == reason


def test_kpi_command_and_rest_api_agree(tmp_path, capsys, plant):
    """The same events through `python -m factory.kpis` and through GET /api/kpis give the same document."""
    from datetime import datetime

    from factory.kpis import main as kpi_command
    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast
    from streams.codec import to_json

    out = []
    run_fast(PlantModel(plant, out.append, datetime(2026, 1, 5, tzinfo=UTC), seed=8), 6 * 3600)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(to_json(e) + "\n" for e in out))
    window = ["--from", "2026-01-05T01:00:00Z", "--to", "2026-01-05T05:30:00Z", "--line", "wm1"]
    assert kpi_command([str(path), *window]) == 0
    from_command = json.loads(capsys.readouterr().out)

    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    factory.history.append(out)
    response = factory.dash_app.server.test_client().get(
        "/api/kpis?line=wm1&from=2026-01-05T01:00:00Z&to=2026-01-05T05:30:00Z",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    from_api = response.get_json()
    assert from_command["lines"]["wm1"]["units_completed"] > 50
    assert json.dumps(from_api, sort_keys=True) == json.dumps(from_command, sort_keys=True)


def test_floor_frames_carry_the_shift_kpis_the_api_gives(plant):
    """The floor's KPI tiles and /api/kpis are computed the same way over the same range."""
    from datetime import datetime

    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast

    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    out = []
    run_fast(PlantModel(plant, out.append, datetime(2026, 1, 5, tzinfo=UTC), seed=8), 3 * 3600)
    factory.bus.publish_many(out)
    factory.history.append(out)
    factory.live.catch_up(limit=10**6)
    floor = _socket(factory, {"view": "floor", "line": "ac1"}, role="manager")
    tiles = floor.get_received()[0]["args"][0]["kpis"]
    assert 0 < tiles["oee"] < 1 and tiles["units_completed"] > 20
    response = factory.dash_app.server.test_client().get(
        f"/api/kpis?line=ac1&from={tiles['from']}&to={tiles['to']}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    api = response.get_json()["lines"]["ac1"]
    assert {k: api[k] for k in tiles if k not in ("from", "to", "computed_at", "chart")} == {
        k: v for k, v in tiles.items() if k not in ("from", "to", "computed_at", "chart")
    }


def _ingest(client, body, mimetype="application/x-ndjson", key=API_KEY):
    return client.post("/api/events", data=body, headers={"Authorization": f"Bearer {key}", "Content-Type": mimetype})


def test_ingestion_takes_good_events_and_explains_the_rest(events):
    from streams.codec import to_json

    factory = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
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
    assert _ingest(client, "x" * (17 * 1024 * 1024)).status_code == 413


def test_test_report_downloads(events):
    from streams import events as ev

    factory = create_app(Settings(emulator=False, data_dir=None))
    check = ev.QualityChecked(
        **events._env(5),
        unit_code="UA",
        line_id="ac1",
        station_id="run_test",
        passed=True,
        measurements=(ev.Measurement("noise", "Indoor unit noise", "dB(A)", 36.4, None, 40.0, True),),
    )
    factory.bus.publish_many([events.placed(0, "UA", token=TOKEN_A), check])
    factory.live.catch_up()
    client = factory.dash_app.server.test_client()
    csv_response = client.get(f"/api/orders/{TOKEN_A}/report.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert (
        "Performance run test,2026-03-02T08:05:00.000Z,Indoor unit noise,36.4,dB(A),,40,pass"
        in csv_response.get_data(as_text=True)
    )
    pdf = client.get(f"/api/orders/{TOKEN_A}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    assert client.get(f"/api/orders/{TOKEN_A}/report.exe").status_code == 404
    assert client.get("/api/orders/unknown-token-0123456789/report.pdf").status_code == 404


def test_token_enumeration_finds_nothing_and_is_throttled(factory):
    import secrets

    client = factory.dash_app.server.test_client()
    guesses = [secrets.token_urlsafe(16) for _ in range(60)]
    statuses = [client.get(f"/track/{g}", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code for g in guesses]
    assert set(statuses[:30]) == {404} and set(statuses[30:]) == {429}
    # another client with its own link is not slowed by the guesser
    assert client.get(f"/track/{TOKEN_A}", environ_base={"REMOTE_ADDR": "10.2.2.2"}).status_code == 200


def test_unknown_and_malformed_tokens_answer_alike(factory):
    client = factory.dash_app.server.test_client()
    unknown = client.get("/api/orders/unknown-token-0123456789", environ_base={"REMOTE_ADDR": "10.3.3.3"})
    malformed = client.get("/api/orders/x", environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert (unknown.status_code, unknown.get_json()) == (malformed.status_code, malformed.get_json())


def test_feedback_is_stored_for_that_order_only(factory):
    client = factory.dash_app.server.test_client()
    form = client.post(f"/api/orders/{TOKEN_A}/feedback", data={"rating": "5", "comment": "Lovely to watch"})
    assert form.status_code == 303 and form.headers["Location"] == f"/track/{TOKEN_A}?thanks=1"
    assert client.post(f"/api/orders/{TOKEN_B}/feedback", json={"comment": "ok"}).status_code == 201
    stored = factory.history.frame("SELECT unit_code, rating, comment FROM feedback ORDER BY unit_code")
    assert stored.fillna(-1).values.tolist() == [["UA", 5, "Lovely to watch"], ["UB", -1, "ok"]]  # -1: no rating


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
    client = factory.dash_app.server.test_client()
    assert client.post(f"/api/orders/{TOKEN_A}/feedback", json=data).status_code == status
    assert client.post("/api/orders/unknown-token-0123456789/feedback", json={"comment": "hi"}).status_code == 404


@pytest.mark.parametrize(
    "accept, search, expected",
    [
        ("zh-CN,zh;q=0.9,en;q=0.5", "", "当前工位：Kitting"),
        ("en-GB,en;q=0.9", "", "Now at: Kitting"),
        ("zh-CN", "?lang=en", "Now at: Kitting"),
        ("en", "?lang=zh", "当前工位：Kitting"),
        ("fr-FR", "?lang=xx", "Now at: Kitting"),
    ],
)
def test_the_tracker_speaks_the_viewers_language(factory, accept, search, expected):
    text = _layout(factory, f"/track/{TOKEN_A}", search, headers={"Accept-Language": accept})
    assert expected in text


def test_both_languages_word_every_text_the_tracker_uses():
    from dashboard.i18n import TEXTS

    assert set(TEXTS["en"]) == set(TEXTS["zh"])
    assert {"shipped_with", "finish", "finish_one", "ship", "ahead", "ahead_one", "live", "reconnecting"} <= set(
        TEXTS["en"]
    )
