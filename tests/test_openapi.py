"""/api/openapi.json: a valid OpenAPI document, every documented answer given by the real handler.

CASES holds one request per documented (method, path, status). The first test fails when an
answer is documented without a request here (or a request is kept for an answer no longer
documented); the second sends each request to the in-process app and checks that the handler
gives that answer. A request that depends on a per-client limit comes from a client address of
its own, so the limits of one case never leak into another.
"""

from __future__ import annotations

import itertools
import json

import pytest
from openapi_spec_validator import validate

from streams import events as ev
from streams.codec import to_json
from support import API_KEY, PASSWORD, TOKEN_A, add_user, build_factory, catch_up, client_as
from web.api_spec import ENDPOINTS

KEY = {"Authorization": f"Bearer {API_KEY}"}
UNKNOWN = "no-such-token-0123456789"
ORDER = {"product": "air_conditioner", "options": {"model": "AS12", "panel": "white", "wifi": "wifi"}, "language": "en"}
FORBIDDEN = {"model": "AS18", "panel": "champagne", "wifi": "none"}
_addresses = (f"10.9.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def anon(app):
    """An anonymous client with an address of its own (its own rate limits)."""
    client = app.dash_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


def get(path, who=None, **kw):
    """The case: ``who`` (a user name, or anonymous) asks ``path``."""
    return lambda app, e: (client_as(app, who) if who else anon(app)).get(path, **kw)


def post(path, who=None, **kw):
    """The case: ``who`` (a user name, or anonymous) posts to ``path``."""
    return lambda app, e: (client_as(app, who) if who else anon(app)).post(path, **kw)


def until(status, send, tries=200):
    """Send until the answer is ``status`` (a limit reached), at most ``tries`` times; return the last answer."""
    for _ in range(tries):
        answer = send()
        if answer.status_code == status:
            return answer
    return answer


def misses(app, path):
    """A client that looks up unknown tokens until it is told to wait, then asks ``path``."""
    client = anon(app)
    until(429, lambda: client.get(f"/api/orders/{UNKNOWN}"))
    return client.get(path)


def _alarm(app, events) -> str:
    app.bus.publish(
        ev.MachineDown(**events._env(2), line_id="ac1", station_id="brazing", machine=1, reason_code="GAS", reason="x")
    )
    catch_up(app)
    return app.queries.floor("ac1")["alarms"][0]["id"]


def _acked_twice(app, events):
    alarm = _alarm(app, events)
    manager = client_as(app, "mia")
    assert manager.post("/api/alarms/ack", json={"alarm": alarm}).status_code == 200
    catch_up(app)  # the acknowledgement travels on the control log
    return manager.post("/api/alarms/ack", json={"alarm": alarm})


SHELVE = {"line": "ac1", "station": "brazing", "kind": "down", "minutes": 30, "reason": "fitter on it"}


def _site_manager(app):
    """A manager of Shenyang only, signed in."""
    add_user(app, "sam", "manager", PASSWORD, "shenyang")
    return client_as(app, "sam")


def _shelved(app):
    """mia, signed in, after shelving brazing's breakdowns."""
    manager = client_as(app, "mia")
    assert manager.post("/api/alarms/shelve", json=SHELVE).status_code == 201
    catch_up(app)
    return manager


def _stop(app, events) -> dict:
    """A live stop of ac1's brazing machine 1, and a classification of it."""
    _alarm(app, events)
    since = app.live.state.lines["ac1"].stations["brazing"].machines[1].last_down
    return {"line": "ac1", "station": "brazing", "machine": 1, "down_since": since.isoformat(), "reason": "mech_jam"}


def _manager_of_nothing_yet(app, events):
    add_user(app, "mia", "manager", PASSWORD)
    return client_as(app, "mia").get("/api/downtime?line=ac1")


def _ingest(body, mimetype="application/x-ndjson", headers=KEY):
    return lambda app, events: anon(app).post("/api/events", data=body, headers={**headers, "Content-Type": mimetype})


def _good(events):
    return to_json(events.completed(5, "UA"))


def _dead_letter(app, events) -> str:
    """Refuse one event (a station the line lacks) and return the resubmit URL of its dead letter."""
    bad = to_json(events.entered(2, "UB", "kitting")).replace('"kitting"', '"no_such_station"')
    _ingest(bad)(app, events)
    letter = client_as(app, "mia").get("/api/dead-letters").get_json()["items"][0]
    return f"/api/dead-letters/{letter['id']}/resubmit", letter["raw"]


def _resubmit(fix=lambda raw: raw.replace("no_such_station", "kitting"), who="mia", twice=False):
    def send(app, events):
        url, raw = _dead_letter(app, events)
        if who != "mia":
            from support import add_user

            add_user(app, who, "manager", "correct horse battery", site="zhengzhou")
        client = client_as(app, who)
        answer = client.post(url, json={"raw": fix(raw)})
        return client.post(url, json={"raw": fix(raw)}) if twice else answer

    return send


def _other_line(raw: str) -> str:
    document = json.loads(raw.replace("no_such_station", "kitting"))
    document["data"]["line_id"] = "wm1"
    return json.dumps(document)


def _shift_report(app, events):
    """A shift recorded and its report written, then downloaded by a manager."""
    from datetime import timedelta

    from web.shift_reports import ShiftReports

    end = ev.ShiftEnded(**events._env(120), line_id="ac1", shift="Late")
    start = ev.ShiftStarted(**events._env(60), line_id="ac1", shift="Late", planned_end=end.time.isoformat())
    app.history.record([start, end])
    ShiftReports(app.history, app.plant, app.settings.data_dir / "reports", grace=timedelta(0)).run_once()
    return client_as(app, "mia").get("/api/reports/ac1/2026-03-02_Late.pdf")


BIG = "x" * (17 * 1024 * 1024)  # over the app's 16 MB request limit
TEN_KB = "x" * 10_000

CASES = {
    ("GET", "/api/orders/{token}", 200): get(f"/api/orders/{TOKEN_A}"),
    ("GET", "/api/orders/{token}", 400): get(f"/api/orders/{TOKEN_A}?lang=fr"),
    ("GET", "/api/orders/{token}", 404): get(f"/api/orders/{UNKNOWN}"),
    ("GET", "/api/orders/{token}", 429): lambda app, e: misses(app, f"/api/orders/{TOKEN_A}"),
    ("GET", "/api/orders/{token}/report.{kind}", 200): get(f"/api/orders/{TOKEN_A}/report.csv"),
    ("GET", "/api/orders/{token}/report.{kind}", 400): get(f"/api/orders/{TOKEN_A}/report.pdf?lang=fr"),
    ("GET", "/api/orders/{token}/report.{kind}", 404): get(f"/api/orders/{TOKEN_A}/report.doc"),
    ("GET", "/api/orders/{token}/report.{kind}", 429): lambda app, e: misses(app, f"/api/orders/{TOKEN_A}/report.csv"),
    ("GET", "/api/orders/{token}/journey", 200): get(f"/api/orders/{TOKEN_A}/journey"),
    ("GET", "/api/orders/{token}/journey", 404): get(f"/api/orders/{UNKNOWN}/journey"),
    ("GET", "/api/orders/{token}/journey", 429): lambda app, e: misses(app, f"/api/orders/{TOKEN_A}/journey"),
    ("POST", "/api/verify", 200): post("/api/verify", json={"certificate": {}, "signature": {}}),
    ("POST", "/api/verify", 400): post("/api/verify", data="{not json", headers={"Content-Type": "application/json"}),
    ("POST", "/api/verify", 413): post("/api/verify", json={"certificate": TEN_KB * 100}),
    ("POST", "/api/verify", 429): lambda app, e: (lambda c: until(429, lambda: c.post("/api/verify", json={})))(
        anon(app)
    ),
    ("POST", "/api/orders/{token}/feedback", 201): post(f"/api/orders/{TOKEN_A}/feedback", json={"rating": 5}),
    ("POST", "/api/orders/{token}/feedback", 303): post(
        f"/api/orders/{TOKEN_A}/feedback", data={"rating": "4", "comment": "quick"}
    ),
    ("POST", "/api/orders/{token}/feedback", 400): post(f"/api/orders/{TOKEN_A}/feedback", json={"rating": 9}),
    ("POST", "/api/orders/{token}/feedback", 404): post(f"/api/orders/{UNKNOWN}/feedback", json={"rating": 5}),
    ("POST", "/api/orders/{token}/feedback", 413): post(f"/api/orders/{TOKEN_A}/feedback", json={"comment": TEN_KB}),
    ("POST", "/api/orders/{token}/feedback", 429): lambda app, e: (
        lambda c: until(429, lambda: c.post(f"/api/orders/{TOKEN_A}/feedback", json={"rating": 3}))
    )(anon(app)),
    ("GET", "/api/kpis", 200): get("/api/kpis", headers=KEY),
    ("GET", "/api/kpis", 400): get("/api/kpis?line=nope", headers=KEY),
    ("GET", "/api/kpis", 401): get("/api/kpis"),
    ("GET", "/api/kpis", 404): get("/api/kpis", headers=KEY),  # on an empty history
    ("GET", "/api/spc", 200): get("/api/spc?line=ac1&measurement=charge", headers=KEY),
    ("GET", "/api/spc", 400): get("/api/spc?line=ac1&measurement=humidity", headers=KEY),
    ("GET", "/api/spc", 401): get("/api/spc?line=ac1&measurement=charge"),
    ("GET", "/api/spc", 403): lambda app, e: _site_manager(app).get("/api/spc?line=ac1&measurement=charge"),
    ("GET", "/api/spc", 404): get("/api/spc?line=ac1&measurement=charge", headers=KEY),  # on an empty history
    ("GET", "/api/sites", 200): get("/api/sites", "wes"),
    ("GET", "/api/sites", 401): get("/api/sites"),
    ("POST", "/api/events", 200): lambda app, e: _ingest(_good(e))(app, e),
    ("POST", "/api/events", 207): lambda app, e: _ingest(_good(e) + "\n{broken")(app, e),
    ("POST", "/api/events", 401): lambda app, e: _ingest(_good(e), headers={"Authorization": "Bearer wrong"})(app, e),
    ("POST", "/api/events", 413): lambda app, e: _ingest(BIG)(app, e),
    ("POST", "/api/events", 415): lambda app, e: _ingest("a,b", "text/csv")(app, e),
    ("POST", "/api/events", 422): lambda app, e: _ingest("{broken")(app, e),
    ("GET", "/api/ingest/stats", 200): get("/api/ingest/stats", headers=KEY),
    ("GET", "/api/ingest/stats", 401): get("/api/ingest/stats"),
    ("GET", "/api/feedback", 200): get("/api/feedback", "mia"),
    ("GET", "/api/feedback", 401): get("/api/feedback", "wes"),
    ("GET", "/api/reports", 200): get("/api/reports", "mia"),
    ("GET", "/api/reports", 400): get("/api/reports?line=" + "x" * 201, "mia"),
    ("GET", "/api/reports", 401): get("/api/reports"),
    ("GET", "/api/reports", 403): get("/api/reports", "wes"),
    ("GET", "/api/reports", 404): get("/api/reports?line=nope", "mia"),
    ("GET", "/api/reports/{line}/{name}", 200): _shift_report,
    ("GET", "/api/reports/{line}/{name}", 400): get("/api/reports/ac1/report.txt", "mia"),
    ("GET", "/api/reports/{line}/{name}", 401): get("/api/reports/ac1/2026-03-02_Late.pdf"),
    ("GET", "/api/reports/{line}/{name}", 403): get("/api/reports/ac1/2026-03-02_Late.pdf", "wes"),
    ("GET", "/api/reports/{line}/{name}", 404): get("/api/reports/ac1/2026-03-02_Late.pdf", "mia"),
    ("GET", "/api/floor/{line}", 200): get("/api/floor/ac1?at=2026-03-02T08:01:00Z", "mia"),
    ("GET", "/api/floor/{line}", 400): get("/api/floor/ac1?at=2020-01-01T00:00:00Z", "mia"),
    ("GET", "/api/floor/{line}", 401): get("/api/floor/ac1?at=2026-03-02T08:01:00Z"),
    ("GET", "/api/floor/{line}", 403): get("/api/floor/ac1?at=2026-03-02T08:01:00Z", "wall"),
    ("GET", "/api/floor/{line}", 404): get("/api/floor/nope?at=2026-03-02T08:01:00Z", "mia"),
    ("GET", "/api/live/{kind}/{key}", 200): get(f"/api/live/order/{TOKEN_A}"),
    ("GET", "/api/live/{kind}/{key}", 403): get("/api/live/floor/ac1"),
    ("GET", "/api/live/{kind}/{key}", 404): get("/api/live/unit/UA"),
    ("GET", "/api/live/{kind}/{key}", 429): lambda app, e: misses(app, f"/api/live/order/{TOKEN_A}"),
    ("POST", "/api/alarms/ack", 200): lambda app, e: client_as(app, "mia").post(
        "/api/alarms/ack", json={"alarm": _alarm(app, e)}
    ),
    ("POST", "/api/alarms/ack", 401): post("/api/alarms/ack", "wes", json={"alarm": "x"}),
    ("POST", "/api/alarms/ack", 404): post(
        "/api/alarms/ack", "mia", json={"alarm": "ac1:brazing:1:down:2026-03-02T08:00:00.000Z"}
    ),
    ("POST", "/api/alarms/ack", 409): _acked_twice,
    ("GET", "/api/alarms", 200): get("/api/alarms?line=ac1&format=csv", "wes"),
    ("GET", "/api/alarms", 400): get("/api/alarms?line=ac1&kind=running", "mia"),
    ("GET", "/api/alarms", 401): get("/api/alarms?line=ac1", "wall"),
    ("GET", "/api/alarms", 403): lambda app, e: _site_manager(app).get("/api/alarms?line=ac1"),
    ("GET", "/api/alarms", 404): get("/api/alarms", headers=KEY),  # on an empty history
    ("POST", "/api/alarms/shelve", 201): post("/api/alarms/shelve", "mia", json=SHELVE),
    ("POST", "/api/alarms/shelve", 400): post("/api/alarms/shelve", "mia", json={**SHELVE, "minutes": 0}),
    ("POST", "/api/alarms/shelve", 401): post("/api/alarms/shelve", "wes", json=SHELVE),
    ("POST", "/api/alarms/shelve", 404): post("/api/alarms/shelve", "mia", json={**SHELVE, "line": "nope"}),
    ("POST", "/api/alarms/unshelve", 200): lambda app, e: _shelved(app).post("/api/alarms/unshelve", json=SHELVE),
    ("POST", "/api/alarms/unshelve", 400): post("/api/alarms/unshelve", "mia", json={**SHELVE, "kind": "idle"}),
    ("POST", "/api/alarms/unshelve", 401): post("/api/alarms/unshelve", json=SHELVE),
    ("POST", "/api/alarms/unshelve", 404): post("/api/alarms/unshelve", "mia", json=SHELVE),  # not shelved
    ("GET", "/api/products", 200): get("/api/products"),
    ("GET", "/api/products", 429): lambda app, e: (lambda c: until(429, lambda: c.get("/api/products")))(anon(app)),
    ("GET", "/api/products/{product}/dates", 200): get(
        "/api/products/air_conditioner/dates?model=AS12&panel=white&wifi=wifi"
    ),
    ("GET", "/api/products/{product}/dates", 400): get("/api/products/spaceship/dates"),
    ("GET", "/api/products/{product}/dates", 422): get(
        "/api/products/air_conditioner/dates?" + "&".join(f"{k}={v}" for k, v in FORBIDDEN.items())
    ),
    ("GET", "/api/products/{product}/dates", 429): lambda app, e: (
        lambda c: until(429, lambda: c.get("/api/products/air_conditioner/dates"))
    )(anon(app)),
    ("POST", "/api/orders", 201): post("/api/orders", json=ORDER),
    ("POST", "/api/orders", 400): post("/api/orders", json={**ORDER, "product": "spaceship"}),
    ("POST", "/api/orders", 413): post("/api/orders", json={**ORDER, "note": TEN_KB * 2}),
    ("POST", "/api/orders", 422): post("/api/orders", json={**ORDER, "options": FORBIDDEN}),
    ("POST", "/api/orders", 429): lambda app, e: (lambda c: until(429, lambda: c.post("/api/orders", json=ORDER)))(
        anon(app)
    ),
    ("GET", "/api/dead-letters", 200): get("/api/dead-letters?source=http&format=csv", "mia"),
    ("GET", "/api/dead-letters", 400): get("/api/dead-letters?limit=9999", "mia"),
    ("GET", "/api/dead-letters", 401): get("/api/dead-letters", "wes"),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 200): _resubmit(),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 400): _resubmit(fix=lambda raw: ""),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 401): post("/api/dead-letters/1-0/resubmit", "wes", json={}),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 403): _resubmit(fix=_other_line, who="zhu"),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 404): post(
        "/api/dead-letters/1-0/resubmit", "mia", json={"raw": "{}"}
    ),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 409): _resubmit(twice=True),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 413): _resubmit(fix=lambda raw: raw + " " * 70_000),
    ("POST", "/api/dead-letters/{letter_id}/resubmit", 422): _resubmit(fix=lambda raw: raw.replace("UB", "U?")),
    ("GET", "/api/audit", 200): get("/api/audit?format=csv", "ada"),
    ("GET", "/api/audit", 400): get("/api/audit?from=2026-03-02&to=2026-03-01", "ada"),
    ("GET", "/api/audit", 401): get("/api/audit"),
    ("GET", "/api/audit", 403): get("/api/audit", "mia"),
    ("GET", "/api/downtime", 200): get("/api/downtime?line=ac1&format=csv", "mia"),
    ("GET", "/api/downtime", 400): get("/api/downtime?line=nope", "mia"),
    ("GET", "/api/downtime", 401): get("/api/downtime?line=ac1"),
    ("GET", "/api/downtime", 403): get("/api/downtime?line=ac1", "wes"),
    ("GET", "/api/downtime", 404): _manager_of_nothing_yet,
    ("POST", "/api/downtime/classify", 200): lambda app, e: client_as(app, "mia").post(
        "/api/downtime/classify", json=_stop(app, e)
    ),
    ("POST", "/api/downtime/classify", 400): post("/api/downtime/classify", "mia", json={"line": "ac1"}),
    ("POST", "/api/downtime/classify", 401): post("/api/downtime/classify", json={}),
    ("POST", "/api/downtime/classify", 403): post("/api/downtime/classify", "wes", json={}),
    ("POST", "/api/downtime/classify", 404): lambda app, e: client_as(app, "mia").post(
        "/api/downtime/classify", json={**_stop(app, e), "down_since": "2026-03-02T07:00:00Z"}
    ),
    ("POST", "/api/downtime/classify", 413): post("/api/downtime/classify", "mia", json={"note": TEN_KB}),
}
# asked of an app whose history holds nothing yet
EMPTY_HISTORY = {
    ("GET", "/api/kpis", 404),
    ("GET", "/api/alarms", 404),
    ("GET", "/api/spc", 404),
    ("GET", "/api/downtime", 404),
}


def documented() -> set[tuple[str, str, int]]:
    return {(e.method, e.path, code) for e in ENDPOINTS for code in e.responses}


@pytest.fixture(scope="module")
def document():
    from app import create_app
    from config import Settings

    app = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    return app.dash_app.server.test_client().get("/api/openapi.json").get_json()


def test_the_document_is_valid_openapi_and_every_answer_it_names_has_a_request_here(document):
    validate(document)
    named = {(m.upper(), path, int(code)) for path, ops in document["paths"].items() for m, op in ops.items()
             for code in op["responses"]}  # fmt: skip
    assert named == documented()
    assert set(CASES) == named, {
        "documented, no request here": named - set(CASES),
        "not documented": set(CASES) - named,
    }


@pytest.mark.parametrize("case", sorted(CASES), ids=lambda c: f"{c[0]} {c[1]} {c[2]}")
def test_the_handler_gives_each_documented_answer(case, events, tmp_path):
    if case in EMPTY_HISTORY:
        from app import create_app
        from config import Settings

        app = create_app(Settings(emulator=False, data_dir=tmp_path, api_keys=(API_KEY,)))
    else:
        app = build_factory(events, tmp_path, event_window_h=24 * 3650)
    answer = CASES[case](app, events)
    assert answer.status_code == case[2], answer.get_data(as_text=True)[:300]
    if answer.mimetype == "application/json" and answer.status_code >= 400:
        assert "error" in json.loads(answer.get_data(as_text=True)) or answer.status_code == 422


def test_the_docs_page_lists_every_endpoint_and_answer_from_the_same_declarations(document):
    from app import create_app
    from config import Settings

    app = create_app(Settings(emulator=False, data_dir=None, api_keys=(API_KEY,)))
    page = app.dash_app.server.test_client().get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert f"<code>{method.upper()} {path}</code>" in html
            assert operation["summary"].replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;") in html
    assert "<script" not in html
