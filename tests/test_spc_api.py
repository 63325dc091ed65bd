"""SPC on the real app: GET /api/spc and who may ask it, the /spc page, SPC alarms on the floor."""

from __future__ import annotations

import json
from datetime import timedelta

from streams import events as ev
from support import API_KEY, PASSWORD, T0, add_user, catch_up, client_as, layout_text

KEY = {"Authorization": f"Bearer {API_KEY}"}
# In control: 800 ± 1 g alternating (MR̄ = 2, σ̂ = 2 / 1.128 = 1.773, limits 800 ± 5.32 around X̄ = 800).
STEADY = [799.0, 801.0] * 15


def strict(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def feed(app, events, values, model="AS12", start_minute=10.0, prefix="Q"):
    """Publish and record an order and a leak test (charge = value) per value, a minute apart."""
    batch = []
    for i, value in enumerate(values):
        unit, minute = f"{prefix}{i}", start_minute + i
        batch.append(events.placed(minute, unit, options={"model": model, "wifi": "wifi"}))
        batch.append(
            ev.QualityChecked(
                **events._env(minute + 0.5),
                unit_code=unit,
                line_id="ac1",
                station_id="leak_test",
                passed=776 <= value <= 824,
                measurements=(
                    ev.Measurement("charge", "Refrigerant charge", "g", value, 776.0, 824.0, 776 <= value <= 824),
                    ev.Measurement("leak_rate", "Leak rate", "g/yr", 0.5 + (i % 2) / 10, None, 3.0, True),
                ),
            )
        )
    app.bus.publish_many(batch)
    app.history.record(batch)
    catch_up(app)


def _range(start_minute=0, minutes=120):
    a, b = T0 + timedelta(minutes=start_minute), T0 + timedelta(minutes=start_minute + minutes)
    return f"from={a.isoformat().replace('+00:00', 'Z')}&to={b.isoformat().replace('+00:00', 'Z')}"


def test_the_chart_has_points_limits_violations_and_capability_without_nan(factory, events):
    feed(factory, events, [*STEADY, 830.0])
    answer = client_as(factory, "wes").get(f"/api/spc?line=ac1&measurement=charge&product=AS12&{_range()}")
    assert answer.status_code == 200
    doc = strict(answer.get_data(as_text=True))
    assert doc["station"] == "leak_test" and doc["product"] == "AS12" and len(doc["points"]) == 31
    assert doc["baseline"]["kind"] == "first" and doc["baseline"]["n"] == 31  # fewer than 50: all of them
    assert doc["spec"] == {"lower": 776.0, "upper": 824.0}
    assert doc["violations"]["1"] == [30] and doc["points"][30]["rules"][0] == "1"
    days = doc["capability"]["days"]
    assert len(days) == 1 and days[0]["n"] == 31 and days[0]["cpk"] is not None
    # The shift under way at 08:00 UTC (16:00 in Zhengzhou) holds every point.
    assert sum(s["n"] for s in doc["capability"]["shifts"]) == 31
    # Another product of the same measurement has no points yet: too few, said, no NaN.
    other = strict(client_as(factory, "wes").get(f"/api/spc?line=ac1&measurement=charge&product=AS09&{_range()}")
                   .get_data(as_text=True))  # fmt: skip
    assert other["limits"] is None and other["note"] == "too_few_points" and other["points"] == []


def test_an_api_key_may_ask_and_bad_requests_get_400(factory, events):
    feed(factory, events, STEADY)
    c = factory.dash_app.server.test_client()
    assert c.get("/api/spc?line=ac1&measurement=charge", headers=KEY).status_code == 200
    for query, code in (
        ("line=zz9&measurement=charge", "unknown_line"),
        ("line=ac1&measurement=humidity", "unknown_measurement"),
        ("line=ac1&measurement=charge&product=AS99", "unknown_product"),
        ("line=ac1&station=packing&measurement=charge", "unknown_station"),
        (f"line=ac1&measurement=charge&{_range(0, 60 * 24 * 40)}", "bad_range"),
        ("line=ac1&measurement=charge&from=yesterday", "bad_from"),
        ("line=ac1", "missing_parameter"),
    ):
        answer = c.get(f"/api/spc?{query}", headers=KEY)
        assert answer.status_code == 400 and answer.get_json()["error"] == code, query


def test_only_managers_and_executives_of_the_site_may_see_it(factory, events):
    feed(factory, events, STEADY)
    assert client_as(factory).get("/api/spc?line=ac1&measurement=charge").status_code == 401
    assert client_as(factory, "wall").get("/api/spc?line=ac1&measurement=charge").status_code == 401
    assert client_as(factory, "mia").get("/api/spc?line=ac1&measurement=charge").status_code == 200
    add_user(factory, "sam", "manager", PASSWORD, site="shenyang")
    assert client_as(factory, "sam").get("/api/spc?line=ac1&measurement=charge").status_code == 403
    # The page: the chart and table for those who may, nothing of the factory for the others.
    page = layout_text(factory, "/spc", "?line=ac1&station=leak_test&measurement=charge&product=AS12",
                       client=client_as(factory, "mia"))  # fmt: skip
    assert "spc-chart" in page and "spc-table" in page
    assert "spc-chart" not in layout_text(factory, "/spc", "?line=ac1", client=client_as(factory))
    bound = layout_text(factory, "/spc", "?line=ac1", client=client_as(factory, "sam"))
    assert "Air conditioner line 1" not in bound and "Refrigerator line 1" in bound


def test_a_broken_rule_is_an_andon_alarm_on_the_floor_with_a_link_and_can_be_acknowledged(factory, events):
    feed(factory, events, STEADY)
    assert not [a for a in factory.queries.floor("ac1")["alarms"] if a["kind"] == "spc"]
    feed(factory, events, [830.0], start_minute=50, prefix="R")
    alarms = [a for a in factory.queries.floor("ac1")["alarms"] if a["kind"] == "spc"]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["station"] == "leak_test" and alarm["rules"] == ["1"] and alarm["product"] == "AS12"
    assert alarm["link"].startswith("/spc?line=ac1&station=leak_test&measurement=charge&product=AS12&day=")
    assert alarm["ack"] is None and alarm["priority"] == "low"
    manager = client_as(factory, "mia")
    assert manager.post("/api/alarms/ack", json={"alarm": alarm["id"]}).status_code == 200
    catch_up(factory)
    assert next(a for a in factory.queries.floor("ac1")["alarms"] if a["kind"] == "spc")["ack"]["by"] == "mia"
    # Nine points in control clear it.
    feed(factory, events, [799.0, 801.0] * 5, start_minute=60, prefix="S")
    assert not [a for a in factory.queries.floor("ac1")["alarms"] if a["kind"] == "spc"]


def test_a_restarted_worker_raises_the_same_alarm_from_the_stored_checks(tmp_path, events):
    from app import create_app
    from config import Settings
    from support import build_factory

    first = build_factory(events, tmp_path)
    feed(first, events, [*STEADY, 830.0])
    raised = [a["id"] for a in first.queries.floor("ac1")["alarms"] if a["kind"] == "spc"]
    assert len(raised) == 1
    first.history.close()
    again = create_app(Settings(emulator=False, data_dir=tmp_path, api_keys=(API_KEY,)))
    assert [a["id"] for a in again.queries.floor("ac1")["alarms"] if a["kind"] == "spc"] == raised
