"""What-if studies from the executive view: run in the background, progress kept, results kept, access decided."""

import json
import time
from pathlib import Path

import pytest
import redis

from redis_server import RedisServer
from support import PASSWORD, EventFactory, add_user, build_factory, callback_body, client_as, layout_text
from web.whatif_studies import STALE_S, FileStore, RedisStore, Request, Studies, StudyRefused

ROOT = Path(__file__).resolve().parent.parent
SMALL = Request("ac1", ("vacuum_charge.cycle_s=*0.8",), days=0.25, replications=2, demand=1.3)


def _wait(studies, study_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study = studies.get(study_id)
        if study["status"] != "running":
            return study
        time.sleep(0.1)
    raise AssertionError(f"study {study_id} still running after {timeout} s")


def test_a_study_runs_in_the_background_and_its_result_is_kept(tmp_path):
    studies = Studies(FileStore(tmp_path), ROOT / "factory.yaml", jobs=1)
    study_id = studies.start(SMALL, "wes")
    first = studies.get(study_id)
    assert first["status"] == "running" and first["total"] == 4 and first["by"] == "wes"
    done = _wait(studies, study_id)
    assert done["status"] == "done" and done["done"] == done["total"] == 4
    result = done["result"]
    assert result["line"] == "ac1" and result["changes"] == ["vacuum_charge.cycle_s=*0.8"]
    assert set(result["baseline"]["utilisation"]) == set(result["changed"]["utilisation"])
    # Another worker (another Studies on the same folder), or a restart, reads the same study.
    again = Studies(FileStore(tmp_path), ROOT / "factory.yaml")
    assert again.get(study_id) == done and [s["id"] for s in again.list()] == [study_id]
    json.loads((tmp_path / f"{study_id}.json").read_text())  # strict JSON: no NaN written


def test_workers_on_one_redis_share_the_studies(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        one = Studies(RedisStore(redis.Redis.from_url(server.url)), ROOT / "factory.yaml", jobs=1)
        other = Studies(RedisStore(redis.Redis.from_url(server.url)), ROOT / "factory.yaml", jobs=1)
        # Long enough (8 runs of a day) that it still runs when the other worker is asked.
        study_id = one.start(Request("ac1", SMALL.changes, days=1, replications=4), "wes")
        with pytest.raises(StudyRefused, match="still running"):
            other.start(SMALL, "ada")  # the other worker sees it running
        done = _wait(other, study_id)
        assert done["status"] == "done" and [s["id"] for s in other.list()] == [study_id]
        assert other.get("../" + study_id) is None
    finally:
        server.stop()


def test_a_second_study_waits_for_the_first(tmp_path):
    studies = Studies(FileStore(tmp_path), ROOT / "factory.yaml", jobs=1)
    first = studies.start(SMALL, "wes")
    with pytest.raises(StudyRefused, match="still running"):
        studies.start(SMALL, "ada")
    _wait(studies, first)
    _wait(studies, studies.start(SMALL, "ada"))


def test_a_study_whose_worker_stopped_shows_as_interrupted(tmp_path):
    now = [1_000_000.0]
    studies = Studies(FileStore(tmp_path), ROOT / "factory.yaml", clock=lambda: now[0])
    study = {"id": "20260101-000000-abcdef", "status": "running", "by": "wes", "started": now[0],
             "heartbeat": now[0], "request": {"line": "ac1"}, "done": 1, "total": 4}  # fmt: skip
    studies._write(study)
    assert studies.get(study["id"])["status"] == "running"
    now[0] += STALE_S + 1
    assert studies.get(study["id"])["status"] == "interrupted"
    studies.start(SMALL, "wes")  # an interrupted study does not hold the next one back


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("", "a.cycle_s=1", 1, 5, 1), "pick a line"),
        (("ac1", "", 1, 5, 1), "at least one change"),
        (("ac1", "kitting.speed=2", 1, 5, 1), "STATION.FIELD=VALUE"),
        (("ac1", "kitting.cycle_s=fast", 1, 5, 1), "not a number"),
        (("ac1", ",".join(["kitting.cycle_s=1"] * 6), 1, 5, 1), "at most 5"),
        (("ac1", "kitting.cycle_s=1", 70, 5, 1), "days must be between"),
        (("ac1", "kitting.cycle_s=1", float("nan"), 5, 1), "days must be between"),
        (("ac1", "kitting.cycle_s=1", 1, 2.5, 1), "whole number"),
        (("ac1", "kitting.cycle_s=1", 1, 1, 1), "replications must be between"),
        (("ac1", "kitting.cycle_s=1", 1, 5, {"x": 1}), "demand must be a number"),
        ((["ac1"], "kitting.cycle_s=1", 1, 5, 1), "pick a line"),
    ],
)
def test_what_cannot_be_run_is_refused_with_the_reason(args, reason):
    with pytest.raises(StudyRefused, match=reason):
        Request.parse(*args)


def test_the_factory_file_refuses_impossible_changes_in_the_background(tmp_path):
    studies = Studies(FileStore(tmp_path), ROOT / "factory.yaml", jobs=1)
    with pytest.raises(StudyRefused, match="no line"):
        studies.start(Request("zz9", ("kitting.cycle_s=1",)), "wes")
    bad = Request("ac1", ("kitting.machines=0",), days=0.25, replications=2)
    failed = _wait(studies, studies.start(bad, "wes"))
    assert failed["status"] == "failed" and "refused" in failed["error"]
    unknown = _wait(studies, studies.start(Request("ac1", ("nowhere.cycle_s=1",), 0.25, 2), "wes"))
    assert "no station 'nowhere'" in unknown["error"]


def test_only_study_ids_are_read(tmp_path):
    studies = Studies(FileStore(tmp_path / "whatif"), ROOT / "factory.yaml")
    (tmp_path / "secret.json").write_text('{"status": "done"}')
    for bad in ("../secret", "/etc/passwd", "", None, 17, ["x"], "a" * 41, "ABC"):
        assert studies.get(bad) is None


# The page: executives and admins only; a site-bound executive sees and studies its own lines only.
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    factory = build_factory(EventFactory(), tmp_path_factory.mktemp("whatif"))
    folder = tmp_path_factory.mktemp("studies")
    factory.extras["whatif"] = Studies(FileStore(folder), ROOT / "factory.yaml", jobs=1)
    add_user(factory, "cara", "executive", PASSWORD, site="shenyang")
    clients = {name: client_as(factory, name) for name in ("mia", "wes", "ada", "cara")}
    clients.update(anonymous=client_as(factory), wall=client_as(factory, "wall"))
    for client in clients.values():
        client.get("/")
    deps = clients["anonymous"].get("/_dash-dependencies").get_json()
    run = next(d for d in deps if "whatif-message.children" in d["output"])
    view = next(d for d in deps if "whatif-view.children" in d["output"])
    return factory, clients, run, view


def _call(clients, dep, who, values):
    response = clients[who].post("/_dash-update-component", json=callback_body(dep, values))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_data(as_text=True)


RUN = {
    "whatif-run.n_clicks": 1,
    "whatif-line.value": "ac1",
    "whatif-changes.value": "vacuum_charge.cycle_s=*0.8",
    "whatif-days.value": 0.25,
    "whatif-replications.value": 2,
    "whatif-demand.value": 1.3,
}


def test_executives_run_a_study_and_everyone_allowed_sees_it_kept(demo):
    factory, clients, run, view = demo
    assert "What if" in layout_text(factory, "/whatif", client=clients["wes"])
    started = _call(clients, run, "wes", RUN)
    assert "started" in started
    study_id = json.loads(started)["response"]["whatif-study"]["data"]
    _wait(factory.extras["whatif"], study_id)
    shown = _call(clients, view, "ada", {"whatif-tick.n_intervals": 1, "whatif-study.data": study_id})
    assert "Throughput gain" in shown and "vacuum_charge" in shown and "Kept studies" in shown
    # cara is bound to Shenyang: an ac1 (Zhengzhou) study is neither shown nor run for her.
    hers = _call(clients, view, "cara", {"whatif-tick.n_intervals": 1, "whatif-study.data": study_id})
    assert "Throughput gain" not in hers and study_id not in hers
    assert "no line 'ac1' for you" in _call(clients, run, "cara", RUN)


@pytest.mark.parametrize("who", ["anonymous", "wall", "mia"])
def test_nobody_else_gets_the_page_or_its_callbacks(demo, who):
    factory, clients, run, view = demo
    assert "Kept studies" not in layout_text(factory, "/whatif", client=clients[who])
    assert "started" not in _call(clients, run, who, RUN)
    assert "Kept studies" not in _call(clients, view, who, {"whatif-tick.n_intervals": 1})
