"""The dead letter for managers: refused input shown with its reason, re-submitted fixed through the gate."""

from __future__ import annotations

import json

import pytest

from app import create_app
from config import Settings
from redis_server import RedisServer
from streams.codec import to_json
from support import API_KEY, PASSWORD, TOKEN_A, add_user, build_factory, catch_up, client_as, layout_text, sign_in

KEY = {"Authorization": f"Bearer {API_KEY}"}
WINDOW_H = 24 * 3650  # the test events are of March 2026, whenever the tests run


@pytest.fixture
def factory(events, tmp_path):
    return build_factory(events, tmp_path, event_window_h=WINDOW_H)


def _post_events(app, *bodies: str):
    client = app.dash_app.server.test_client()
    return client.post("/api/events", data="\n".join(bodies), headers={**KEY, "Content-Type": "application/x-ndjson"})


def _refused_entry(events, unit="UB", station="no_such_station"):
    """UB entering a station the line does not have: refused as unknown_station. Returns its JSON text."""
    return to_json(events.entered(2, unit, "kitting")).replace('"kitting"', f'"{station}"')


def _letters(client, query=""):
    answer = client.get(f"/api/dead-letters{query}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["items"]


def test_a_refused_http_event_shows_with_its_reason(factory, events):
    bad = _refused_entry(events)
    assert _post_events(factory, bad, "{broken").status_code == 422
    items = _letters(client_as(factory, "mia"))
    assert [i["reason"] for i in items] == ["bad_json", "unknown_station"]  # newest first
    refused = items[1]
    assert refused["source"] == "http" and refused["line"] == "ac1" and refused["raw"] == bad
    assert refused["message"].startswith("http: station_entered") and refused["resubmitted"] is None
    assert items[0]["line"] is None and not items[0]["raw_truncated"]
    manager = client_as(factory, "mia")
    assert [i["reason"] for i in _letters(manager, "?reason=bad_json")] == ["bad_json"]
    assert _letters(manager, "?source=mqtt") == []
    assert _letters(manager, "?from=2100-01-01T00:00:00Z") == []
    assert len(_letters(manager, "?to=2100-01-01T00:00:00Z")) == 2
    first = manager.get("/api/dead-letters?limit=1").get_json()
    assert [i["reason"] for i in first["items"]] == ["bad_json"] and first["next"]
    second = manager.get(f"/api/dead-letters?limit=1&before={first['next']}").get_json()
    assert [i["reason"] for i in second["items"]] == ["unknown_station"] and second["next"] is None
    assert manager.get("/api/dead-letters?source=carrier-pigeon").status_code == 400
    assert manager.get("/api/dead-letters?before=%27;DROP").get_json()["items"] == []


def test_a_fixed_resubmit_lands_in_the_live_state_and_cannot_be_resubmitted_twice(factory, events):
    _post_events(factory, _refused_entry(events))
    manager = client_as(factory, "mia")
    letter = _letters(manager)[0]
    url = f"/api/dead-letters/{letter['id']}/resubmit"
    still_bad = manager.post(url, json={"raw": letter["raw"].replace("no_such_station", "nor_this_one")})
    assert still_bad.status_code == 422 and still_bad.get_json()["error"] == "unknown_station"
    assert len(_letters(manager)) == 1  # a refused try is answered, not kept as a letter of its own
    assert manager.post(url, json={"raw": "{broken"}).get_json()["error"] == "bad_json"
    fixed = letter["raw"].replace("no_such_station", "kitting")
    answer = manager.post(url, json={"raw": fixed})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["event"].startswith("station_entered /test/ac1 ")
    assert manager.post(url, json={"raw": fixed}).status_code == 409  # before the pump folded the mark
    factory.ingestor.flush(force=True)  # the gate holds a unit's events a moment to order them
    catch_up(factory)
    assert factory.queries.unit("UB")["current_station"] == "kitting"
    assert _letters(manager)[0]["resubmitted"]["by"] == "mia"
    assert manager.post(url, json={"raw": fixed}).status_code == 409


def test_a_fix_is_judged_by_the_gate_and_stays_within_the_managers_site(factory, events):
    add_user(factory, "zhu", "manager", PASSWORD, site="zhengzhou")
    _post_events(factory, _refused_entry(events))
    manager = client_as(factory, "zhu")
    letter = _letters(manager)[0]
    url = f"/api/dead-letters/{letter['id']}/resubmit"
    other_site = json.loads(letter["raw"].replace("no_such_station", "kitting"))
    other_site["data"]["line_id"] = "wm1"
    assert manager.post(url, json={"raw": json.dumps(other_site)}).status_code == 403
    taken = manager.post(url, json={"raw": to_json(events.placed(0, "UZ", token=TOKEN_A))})  # UA's token
    assert taken.status_code == 422 and taken.get_json()["error"] == "token_taken"
    assert manager.post(url, json={}).status_code == 400
    assert manager.post(url, json={"raw": "x" * 70_000}).status_code == 413


def test_only_managers_and_admins_of_the_letters_site_see_or_resubmit_it(factory, events):
    add_user(factory, "sam", "manager", PASSWORD, site="shenyang")
    _post_events(factory, _refused_entry(events), "{broken")
    letters = _letters(client_as(factory, "ada"))
    assert len(letters) == 2
    lined, unlined = (next(i for i in letters if i["line"]), next(i for i in letters if not i["line"]))
    for who in (None, "wall", "wes"):
        client = client_as(factory, who)
        assert client.get("/api/dead-letters").status_code == 401
        assert client.post(f"/api/dead-letters/{lined['id']}/resubmit", json={"raw": "{}"}).status_code == 401
    other = client_as(factory, "sam")
    assert _letters(other) == []  # a letter of another site's line, or of no line, is not for a site's manager
    for letter in (lined, unlined):
        assert other.post(f"/api/dead-letters/{letter['id']}/resubmit", json={"raw": "{}"}).status_code == 404
    assert client_as(factory, "mia").post("/api/dead-letters/nope/resubmit", json={"raw": "{}"}).status_code == 404
    assert client_as(factory, "wes").get("/dead-letters").status_code == 303  # the page sends them to sign in
    assert "no_such_station" not in layout_text(factory, "/dead-letters", client=client_as(factory, "sam"))
    assert "no_such_station" not in layout_text(factory, "/dead-letters", client=client_as(factory, "wes"))
    assert "no_such_station" in layout_text(factory, "/dead-letters", client=client_as(factory, "mia"))


def test_the_csv_export_neutralises_formulas_in_the_raw_text(factory, events):
    _post_events(factory, '=HYPERLINK("http://evil.example","x")')
    answer = client_as(factory, "mia").get("/api/dead-letters?format=csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    row = answer.get_data(as_text=True).split("\r\n")[1]
    assert "'=HYPERLINK" in row and ",=HYPERLINK" not in row


def test_the_first_resubmission_of_a_letter_counts_on_every_worker():
    from datetime import UTC, datetime, timedelta

    from factory.operations import OperationsState, apply_control
    from streams import events as ev

    def mark(minute: int, by: str) -> ev.DeadLetterResubmitted:
        at = datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(minutes=minute)
        return ev.DeadLetterResubmitted(
            id=f"x-{minute}", source="/app", time=at, dead_letter_id="1-0", event_kind="placed",
            event_source="/erp", event_id=f"e-{minute}", by=by,
        )  # fmt: skip

    one, other = OperationsState(), OperationsState()
    for state, order in ((one, (mark(1, "mia"), mark(2, "ada"))), (other, (mark(2, "ada"), mark(1, "mia")))):
        for event in order:
            apply_control(state, event)
    assert one.resubmitted == other.resubmitted and one.resubmitted["1-0"].by == "mia"


def test_workers_on_one_redis_see_the_same_letters_and_the_resubmitted_mark(tmp_path, events):
    server = RedisServer(tmp_path / "redis")
    workers = [
        create_app(
            Settings(
                emulator=False,
                data_dir=tmp_path / name,
                redis_url=server.url,
                api_keys=(API_KEY,),
                event_window_h=WINDOW_H,
            )
        )
        for name in ("w1", "w2")
    ]
    try:
        one, two = workers
        one.bus.publish_many([events.placed(0, "UB")])
        add_user(one, "mia", "manager", PASSWORD)
        for worker in workers:
            catch_up(worker)
        _post_events(one, _refused_entry(events))
        first, second = (w.dash_app.server.test_client() for w in workers)
        sign_in(first, "mia", PASSWORD)
        sign_in(second, "mia", PASSWORD)
        seen = [_letters(client) for client in (first, second)]
        assert seen[0] == seen[1] and [i["reason"] for i in seen[0]] == ["unknown_station"]
        letter = seen[1][0]
        url = f"/api/dead-letters/{letter['id']}/resubmit"
        fixed = letter["raw"].replace("no_such_station", "kitting")
        assert second.post(url, json={"raw": fixed}).status_code == 200
        two.ingestor.flush(force=True)
        for worker in workers:
            catch_up(worker)
        assert _letters(first)[0]["resubmitted"]["by"] == "mia"
        assert first.post(url, json={"raw": fixed}).status_code == 409
        assert one.queries.unit("UB")["current_station"] == "kitting"  # the fixed event reached the other worker
        later = create_app(  # a worker started afterwards (or a restarted one) folds the mark from the control log
            Settings(emulator=False, data_dir=tmp_path / "w3", redis_url=server.url, event_window_h=WINDOW_H)
        )
        workers.append(later)
        third = later.dash_app.server.test_client()
        sign_in(third, "mia", PASSWORD)
        assert _letters(third)[0]["resubmitted"]["by"] == "mia"
    finally:
        for worker in workers:
            worker.bus.close()
        server.stop()
