"""End-of-shift reports: a hand-worked shift's figures in the CSV, the PDF, idempotence, catch-up, access."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
from datetime import timedelta

import pytest

from factory.history.queries import kpis
from streams import events as ev
from support import PASSWORD, T0, add_user, build_factory, client_as, layout_text
from web.shift_reports import ShiftReports, ended_shifts, report_stem

MIN = timedelta(minutes=1)


def shift_events(events, start_min: float = 60, end_min: float = 120, name: str = "Late") -> list[ev.Event]:
    """One hour on ac1, 17:00-18:00 at the plant (UTC+8): kitting down 6 minutes, one unit made, one scrapped."""
    line = events.line_id
    out: list[ev.Event] = [
        ev.ShiftStarted(
            **events._env(start_min), line_id=line, shift=name, planned_end=(T0 + end_min * MIN).isoformat()
        )
    ]
    for unit, at in (("U1", start_min + 1), ("U2", start_min + 3)):
        out += [
            events.placed(at, unit),
            events.entered(at + 1, unit, "kitting"),
            ev.StationWorkDone(
                **events._env(at + 2), unit_code=unit, line_id=line, station_id="kitting", work_s=38.0, ideal_s=38.0
            ),
            events.exited(at + 2, unit, "kitting"),
        ]
    out += [
        ev.MachineDown(
            **events._env(start_min + 10),
            line_id=line,
            station_id="kitting",
            machine=1,
            reason_code="MECH",
            reason="Jam",
        ),
        ev.MachineUp(
            **events._env(start_min + 16),
            line_id=line,
            station_id="kitting",
            machine=1,
            reason_code="MECH",
            down_s=360.0,
        ),
        events.completed(start_min + 40, "U1"),
        ev.UnitScrapped(
            **events._env(start_min + 50), unit_code="U2", line_id=line, station_id="leak_test", defect_code="leak"
        ),
        ev.ShiftEnded(**events._env(end_min), line_id=line, shift=name),
    ]
    return out


def writer(factory, tmp_path, **kw) -> ShiftReports:
    kw.setdefault("now", lambda: T0)  # the wall clock long before the recorded events: event time decides
    return ShiftReports(factory.history, factory.plant, tmp_path / "reports", grace=timedelta(0), **kw)


def read_csv(path) -> tuple[dict[str, str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    blank = rows.index([])
    return dict(rows[1:blank]), rows[blank + 1 :]


def test_the_csv_carries_the_hand_worked_figures_and_the_pdf_names_the_line(factory, events, tmp_path):
    factory.history.record(shift_events(events))
    reports = writer(factory, tmp_path)
    assert reports.run_once() == 1
    folder = tmp_path / "reports" / "ac1"
    assert sorted(p.name for p in folder.iterdir()) == ["2026-03-02_Late.csv", "2026-03-02_Late.pdf"]
    fields, rest = read_csv(folder / "2026-03-02_Late.csv")
    assert (fields["line"], fields["site"], fields["shift"]) == ("ac1", "zhengzhou", "Late")
    assert (fields["start_local"], fields["end_local"]) == ("2026-03-02 17:00", "2026-03-02 18:00")
    # 14 machines on ac1 x 3,600 s open; kitting (1 machine) down 360 s of it
    availability = (14 * 3600 - 360) / (14 * 3600)  # 0.992857
    fully_productive = 2 * 38.0  # two units finished, each 38 s at the bottleneck of its work (kitting)
    hand = {
        "availability": availability,
        "performance": fully_productive / (3600 * availability),  # 0.021263
        "quality": 0.5,  # U1 good first time, U2 scrapped
        "oee": fully_productive * 0.5 / 3600,  # 0.010556
        "units_completed": 1,
        "units_scrapped": 1,
        "scrap_ratio": 0.5,
        "first_pass_yield": 0.5,
        # the plan's cycle is the bottleneck's, weighted over the product's configurations (63.8 s)
        "planned_units": 3600 / factory.plant.planned_cycle_s("ac1"),  # 56.41
        "planned_busy_time_s": 3600,
    }
    for name, value in hand.items():
        assert float(fields[name]) == pytest.approx(value, rel=1e-9), name
    # the same KPI functions as the screens: every figure as /api/kpis has it
    doc = kpis(factory.history, factory.plant, T0 + 60 * MIN, T0 + 120 * MIN, line_id="ac1")["lines"]["ac1"]
    for name in hand:
        assert float(fields[name]) == doc[name], name
    assert fields["machines_down_at_end"] == "0"  # the one breakdown was repaired within the shift
    hours, downtime = rest[: rest.index([])], rest[rest.index([]) + 1 :]
    assert hours[0] == ["hour_local", "plan", "actual"]
    assert [(h, float(p), int(a)) for h, p, a in hours[1:]] == [("17:00", pytest.approx(hand["planned_units"]), 1)]
    # the machine's code MECH counts under its place in factory.yaml's downtime_tree
    assert factory.plant.downtime.default_for("MECH") == "mech_jam"
    assert downtime[:2] == [["downtime_reason", "seconds"], ["mech_jam", "360.0"]]
    pdf = folder / "2026-03-02_Late.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Air conditioner line 1" in text and "空调一线" in text and "99.3 %" in text
    assert "Jam or blockage · 卡滞或堵塞" in text  # mech_jam's names in the reason tree
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJK" in fonts


def test_a_machine_still_down_at_the_end_is_counted(factory, events, tmp_path):
    still_down = ev.MachineDown(
        **events._env(115), line_id="ac1", station_id="brazing", machine=2, reason_code="GAS", reason="Leak"
    )
    factory.history.record([*shift_events(events), still_down])
    assert writer(factory, tmp_path).run_once() == 1
    fields, _rest = read_csv(tmp_path / "reports" / "ac1" / "2026-03-02_Late.csv")
    assert fields["machines_down_at_end"] == "1"


def test_a_report_is_written_once_and_a_lost_file_is_written_again(factory, events, tmp_path):
    factory.history.record(shift_events(events))
    reports = writer(factory, tmp_path)
    assert reports.run_once() == 1
    csv_path = tmp_path / "reports" / "ac1" / "2026-03-02_Late.csv"
    pdf_path = csv_path.with_suffix(".pdf")
    before = csv_path.stat().st_mtime_ns
    again = writer(factory, tmp_path)  # a restarted worker
    assert again.run_once() == 0 and csv_path.stat().st_mtime_ns == before
    pdf_path.unlink()
    assert again.run_once() == 1 and pdf_path.exists() and csv_path.stat().st_mtime_ns == before
    leftovers = [p.name for p in csv_path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # the temporary files are renamed, none is left


def test_missed_shifts_are_caught_up_newest_first_a_few_per_pass(factory, events, tmp_path):
    for day in range(3):
        factory.history.record(shift_events(events, 60 + day * 1440, 120 + day * 1440))
    reports = writer(factory, tmp_path, per_pass=2)
    folder = tmp_path / "reports" / "ac1"
    assert reports.run_once() == 2 and reports.pending == 1
    assert sorted(p.stem for p in folder.glob("*.csv")) == ["2026-03-03_Late", "2026-03-04_Late"]
    assert reports.run_once() == 1 and reports.pending == 0
    assert (folder / "2026-03-02_Late.pdf").exists()


def test_a_running_shift_a_recent_end_and_another_workers_turn_write_nothing(factory, events, tmp_path):
    factory.history.record(shift_events(events)[:-1])  # no ShiftEnded yet
    assert writer(factory, tmp_path).run_once() == 0
    factory.history.record(shift_events(events)[-1:])
    # 2 minutes' grace, and the wall clock at the shift's end too
    waiting = ShiftReports(factory.history, factory.plant, tmp_path / "reports", now=lambda: T0 + 120 * MIN)
    assert waiting.run_once() == 0
    standby = writer(factory, tmp_path, is_writer=lambda: False)
    assert standby.run_once() == 0 and standby.report()["writer"] is False
    assert not (tmp_path / "reports").exists()


def test_a_quiet_line_is_reported_by_the_wall_clock_and_a_steady_pass_reads_no_events(factory, events, tmp_path):
    factory.history.record(shift_events(events))  # nothing after the shift's end
    clock = [T0 + 121 * MIN]
    reports = ShiftReports(factory.history, factory.plant, tmp_path / "reports", now=lambda: clock[0])
    assert reports.run_once() == 0  # a minute after the end: within the grace
    clock[0] = T0 + 123 * MIN
    assert reports.run_once() == 1
    asked = []
    real = factory.history.replay
    factory.history.replay = lambda *a, **kw: asked.append(1) or real(*a, **kw)
    assert reports.run_once() == 0 and asked == []  # every ended shift has its files: the timeline told
    (tmp_path / "reports" / "ac1" / "2026-03-02_Late.csv").unlink()
    assert reports.run_once() == 1 and asked == [1]


def test_a_backlog_is_caught_up_at_a_quicker_pace(factory, events, tmp_path):
    for day in range(3):
        factory.history.record(shift_events(events, 60 + day * 1440, 120 + day * 1440))
    reports = writer(factory, tmp_path, per_pass=1)
    stop, pauses = threading.Event(), []

    def sleep(_s):
        pauses.append(reports.pending)
        if len(pauses) >= 7:
            stop.set()

    reports.run(stop, sleep=sleep, every_s=3, backlog_every_s=1)
    # a second after each pass that left reports missing, then the full wait of 3 once all are there
    assert pauses == [2, 1, 0, 0, 0, 0, 0] and reports.written == 3


def test_a_failing_report_is_logged_and_written_at_a_later_pass(factory, events, tmp_path, monkeypatch):
    import web.shift_reports as module

    factory.history.record(shift_events(events))
    reports = writer(factory, tmp_path)
    real = module.report_pdf
    monkeypatch.setattr(module, "report_pdf", lambda facts: (_ for _ in ()).throw(OSError("disk full")))
    assert reports.run_once() == 0
    assert reports.report()["failed"] == 1 and "disk full" in reports.report()["last_error"]
    monkeypatch.setattr(module, "report_pdf", real)
    stop = threading.Event()
    passes = []

    def sleep(_s):
        passes.append(1)
        stop.set()

    reports.run(stop, sleep=sleep)  # the task's loop: one pass, then it waits
    assert (tmp_path / "reports" / "ac1" / "2026-03-02_Late.pdf").exists() and reports.report()["ok"]


def test_shift_names_from_a_line_cannot_steer_the_file_name(factory, events):
    factory.history.record(shift_events(events, name="../../etc/=cmd 早班"))
    (shift,) = ended_shifts(factory.history, T0, T0 + 200 * MIN)
    assert report_stem(factory.plant, shift) == "2026-03-02_etccmd"


# --- the API and the page --------------------------------------------------------------------------------
@pytest.fixture
def reported(factory, events, tmp_path):
    factory.history.record(shift_events(events))
    assert writer(factory, tmp_path).run_once() == 1
    add_user(factory, "sam", "manager", PASSWORD, site="shenyang")
    return factory


def test_managers_list_and_download_the_reports(reported):
    manager = client_as(reported, "mia")
    listed = manager.get("/api/reports").get_json()
    assert listed["written"] is True
    (item,) = listed["reports"]
    assert (item["line"], item["date"], item["shift"]) == ("ac1", "2026-03-02", "Late")
    assert item["files"] == {
        "pdf": "/api/reports/ac1/2026-03-02_Late.pdf",
        "csv": "/api/reports/ac1/2026-03-02_Late.csv",
    }
    assert manager.get("/api/reports?line=rf1").get_json()["reports"] == []
    pdf = manager.get(item["files"]["pdf"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="ac1_2026-03-02_Late.pdf"'
    assert pdf.headers["Cache-Control"] == "no-store"
    assert client_as(reported, "ada").get(item["files"]["csv"]).data.startswith(b"field,value")


def test_reports_are_refused_to_everyone_else(reported):
    pdf = "/api/reports/ac1/2026-03-02_Late.pdf"
    assert client_as(reported).get("/api/reports").status_code == 401
    assert client_as(reported).get(pdf).status_code == 401
    for who in ("wes", "wall"):
        assert client_as(reported, who).get("/api/reports").status_code == 403
        assert client_as(reported, who).get(pdf).status_code == 403
    sam = client_as(reported, "sam")  # a manager of Shenyang: ac1 is Zhengzhou's
    assert sam.get(pdf).status_code == 403
    assert sam.get("/api/reports?line=ac1").status_code == 403
    assert sam.get("/api/reports").get_json()["reports"] == []
    assert client_as(reported, "mia").get("/api/reports?line=nope").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/reports/ac1/..",
        "/api/reports/ac1/%2e%2e",
        "/api/reports/ac1/..%2F..%2Fsession.key",
        "/api/reports/ac1/%2Fetc%2Fpasswd",
        "/api/reports/ac1//etc/passwd",
        "/api/reports/..%2Fac1/2026-03-02_Late.pdf",
        "/api/reports/ac1/..%5C..%5Csession.key",
        "/api/reports/ac1/2026-03-02_Late.pdf%00.csv",
        "/api/reports/ac1/2026-03-02_Late.txt",
        "/api/reports/ac1/.2026-03-02_Late.pdf.tmp",
        "/api/reports/%2e%2e/session.key",
    ],
)
def test_no_path_leaves_the_reports_directory(reported, path):
    answer = client_as(reported, "ada").get(path)
    assert answer.status_code in (400, 404), answer.status_code
    assert not answer.data.startswith(b"%PDF") and b"field,value" not in answer.data


def test_the_page_lists_reports_to_managers_only(reported):
    text = layout_text(reported, "/reports", client=client_as(reported, "mia"))
    assert "2026-03-02" in text and "/api/reports/ac1/2026-03-02_Late.pdf" in text
    filtered = layout_text(reported, "/reports", "?line=rf1", client=client_as(reported, "mia"))
    assert "2026-03-02_Late" not in filtered and "No report yet." in filtered
    assert "2026-03-02_Late" not in layout_text(reported, "/reports", client=client_as(reported, "sam"))
    redirect = client_as(reported).get("/reports")
    assert redirect.status_code == 303 and redirect.headers["Location"].startswith("/login")
    for who in (None, "wes", "wall"):
        text = layout_text(reported, "/reports", client=client_as(reported, who))
        assert "2026-03-02_Late" not in text and "Sign in to see this page" in text


def test_without_a_data_directory_the_page_says_reports_need_one(events):
    app = build_factory(events, None)
    assert "need a data directory" in layout_text(app, "/reports", client=client_as(app, "mia"))
    assert client_as(app, "mia").get("/api/reports").get_json() == {"written": False, "reports": []}
    assert client_as(app, "mia").get("/api/reports/ac1/2026-03-02_Late.pdf").status_code == 404


def test_on_a_shared_postgresql_history_only_the_writer_writes(postgres_url, plant, events, tmp_path):
    from factory.history import open_history

    first, second = open_history(postgres_url, plant), open_history(postgres_url, plant)
    try:
        first.record(shift_events(events))
        assert first.is_writer() and not second.is_writer()  # the first asked first: its turn
        folder = tmp_path / "shared-reports"
        theirs = ShiftReports(second, plant, folder, grace=timedelta(0), now=lambda: T0)
        assert theirs.run_once() == 0 and theirs.report()["writer"] is False and not folder.exists()
        ours = ShiftReports(first, plant, folder, grace=timedelta(0), now=lambda: T0)
        assert ours.run_once() == 1
        fields, _rest = read_csv(folder / "ac1" / "2026-03-02_Late.csv")
        assert float(fields["oee"]) == pytest.approx(2 * 38.0 * 0.5 / 3600, rel=1e-9)  # as from DuckDB
    finally:
        first.close()
        second.close()
