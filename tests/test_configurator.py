"""The configurator: what may be ordered, the ID card, abuse limits, the plant building customers' orders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factory.configurator import blocked_choices, catalogue, check_configuration, extra_build_s, refusal_text
from factory.projector import apply
from factory.snapshot import from_json, to_json
from factory.state import ORDERS_SHOWN, empty_state
from factory.validation import PlantCheck
from factory.views import floor_view
from line_emulator.external_orders import OrderInbox, own_sources
from line_emulator.model import PlantModel
from streams import events as ev
from support import T0, EventFactory, catch_up, client_as
from web.customer_orders import OPEN_ORDERS_PER_CLIENT, OrderLimits

AC_OK = {"model": "AS12", "panel": "white", "wifi": "wifi"}
AC_FORBIDDEN = {"model": "AS18", "panel": "champagne", "wifi": "none"}


@pytest.mark.parametrize(
    ("product", "options", "code"),
    [
        ("air_conditioner", AC_OK, None),
        ("toaster", AC_OK, "unknown_product"),
        (["air_conditioner"], AC_OK, "unknown_product"),
        ("air_conditioner", ["AS12"], "bad_options"),
        ("air_conditioner", {"model": 12, "panel": "white", "wifi": "wifi"}, "bad_options"),
        ("air_conditioner", {**AC_OK, "colour": "red"}, "unknown_option"),
        ("air_conditioner", {**AC_OK, "model": "AS99"}, "unknown_choice"),
        ("air_conditioner", {"model": "AS12", "wifi": "wifi"}, "missing_option"),
        ("air_conditioner", AC_FORBIDDEN, "forbidden"),
    ],
)
def test_a_configuration_is_checked_against_the_factory_file(plant, product, options, code):
    refusal = check_configuration(plant, product, options)
    assert (refusal.code if refusal else None) == code


def test_refusals_say_why_in_the_customers_language(plant):
    assert refusal_text(check_configuration(plant, "air_conditioner", AC_FORBIDDEN), plant, "en") == (
        "The champagne panel is not made for the 18,000 BTU/h housing"
    )
    assert refusal_text(check_configuration(plant, "air_conditioner", {"model": "AS12"}), plant, "zh") == "请选择面板。"
    missing = check_configuration(plant, "air_conditioner", {"model": "AS12", "wifi": "none"})
    assert refusal_text(missing, plant, "en") == "Please choose the front panel."


def test_the_page_greys_out_what_the_rules_forbid_and_only_that(plant):
    ac = plant.products["air_conditioner"]
    # AS18 rules out the champagne panel, and the champagne panel rules out AS18; Wi-Fi is free.
    blocked = blocked_choices(ac, {"model": "AS18", "panel": "white", "wifi": "none"})
    assert set(blocked) == {"panel"} and set(blocked["panel"]) == {"champagne"}
    blocked = blocked_choices(ac, {"model": "AS09", "panel": "champagne", "wifi": "none"})
    assert set(blocked) == {"model"} and set(blocked["model"]) == {"AS18"}
    # A configuration that breaks a rule already does not grey out the options the rule does not name.
    assert "wifi" not in blocked_choices(ac, AC_FORBIDDEN)


def test_the_catalogue_states_each_choices_build_time(plant):
    ac = next(p for p in catalogue(plant) if p["id"] == "air_conditioner")
    model = next(o for o in ac["options"] if o["id"] == "model")
    assert [c["extra_build_s"] for c in model["choices"]] == [0, 18, 58]  # 10 + 8; 20 + 18 + 20 (factory.yaml)
    assert ac["rules"][0]["forbid"] == {"panel": ["champagne"]}
    assert (
        extra_build_s(plant.products["air_conditioner"], {"model": "AS18", "panel": "graphite", "wifi": "wifi"}) == 84
    )


def test_the_plant_check_refuses_a_forbidden_order_from_outside(plant):
    check = PlantCheck(plant, window=timedelta(days=3650))
    events = EventFactory()
    assert check.admit(events.placed(0, "U1", options=AC_FORBIDDEN)) == "forbidden_combination"
    assert check.admit(events.placed(0, "U2", options=AC_OK)) is None


def test_the_floor_lists_the_latest_orders_newest_first_and_which_are_released(plant):
    events = EventFactory()
    state = empty_state(plant)
    for i in range(ORDERS_SHOWN + 2):
        apply(state, events.placed(i, f"U{i}"))
    apply(state, events.entered(20, "U9", "kitting"))
    orders = floor_view(state, plant, "ac1")["orders"]
    assert [o["unit"] for o in orders] == [f"U{i}" for i in range(9, 1, -1)]  # 8 shown, U0 and U1 dropped
    assert orders[0]["released"] and not orders[1]["released"]
    assert orders[0]["options"] == {"model": "AS12", "wifi": "wifi"}
    # A restart from a checkpoint shows the same panel.
    assert floor_view(from_json(to_json(state), plant), plant, "ac1")["orders"] == orders


def _order(**changes):
    return {"product": "air_conditioner", "options": AC_OK, "language": "en", **changes}


def test_an_order_gets_its_id_card_and_goes_on_the_stream(factory):
    client = client_as(factory)
    answer = client.post("/api/orders", json=_order())
    assert answer.status_code == 201
    card = answer.get_json()
    assert card["unit_code"].startswith("AC2603-AC") and card["unit_code"][-8:].isalpha()
    assert card["tracking_url"] == f"http://localhost/track/{card['tracking_token']}"
    assert card["qr_svg"].startswith("data:image/svg+xml")
    placed = [e for _, e in factory.bus.read() if isinstance(e, ev.OrderPlaced) and e.unit_code == card["unit_code"]]
    assert placed and placed[0].options == AC_OK and placed[0].source == "/configurator"
    catch_up(factory)
    assert client.get(f"/api/orders/{card['tracking_token']}").get_json()["status"] == "ordered"
    wish = [e for _, e in factory.bus.read() if isinstance(e, ev.ConfigurationDrafted)]
    assert wish[0].ordered and wish[0].unit_code == card["unit_code"] and wish[0].client not in (None, "127.0.0.1")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (_order(options=AC_FORBIDDEN), 422, "forbidden"),
        (_order(product="toaster"), 400, "unknown_product"),
        (_order(options={"model": "AS12"}), 400, "missing_option"),
        ([1, 2], 400, "bad_body"),
        ("not an object", 400, "bad_body"),
    ],
)
def test_a_tampered_order_never_reaches_the_line(factory, body, status, reason):
    client = client_as(factory)
    before = len(factory.bus.read())
    answer = client.post("/api/orders", json=body)
    assert (answer.status_code, answer.get_json()["error"]) == (status, reason)
    assert len(factory.bus.read()) == before


def test_orders_are_limited_per_client_and_open_orders_capped(factory):
    client = client_as(factory)
    for _ in range(3):
        assert client.post("/api/orders", json=_order()).status_code == 201
    assert client.post("/api/orders", json=_order()).get_json()["error"] == "too_many_orders"
    other = {"REMOTE_ADDR": "10.1.2.3"}  # another client has its own allowance
    assert client.post("/api/orders", json=_order(), environ_base=other).status_code == 201

    factory.order_limits = OrderLimits(per_minute=100, per_hour=100)
    catch_up(factory)
    while (answer := client.post("/api/orders", json=_order())).status_code == 201:
        catch_up(factory)
    assert answer.get_json()["error"] == "too_many_open_orders"
    assert factory.open_orders.count(_client(factory), factory.live.state) == OPEN_ORDERS_PER_CLIENT


def _client(factory) -> str:
    from web.customer_orders import client_id

    key = factory.dash_app.server.secret_key
    return client_id(key.encode() if isinstance(key, str) else key, "127.0.0.1")


def test_the_built_in_plant_builds_an_order_placed_elsewhere(plant):
    emitted: list[ev.Event] = []
    model = PlantModel(plant, emitted.append, origin=T0, seed=7)
    model.run_until(600)
    inbox = OrderInbox(own_sources(model))
    order = ev.OrderPlaced(
        id="c-1", source="/configurator", time=T0 + timedelta(seconds=600), order_id="WEB-1",
        unit_code="AC2603-AC1-KXPQRTAZ", tracking_token="t" * 22, line_id="ac1", product="air_conditioner",
        options=AC_OK,
    )  # fmt: skip
    inbox.offer(order)
    inbox.offer(order)  # offered twice (two readers): built once
    own = next(e for e in emitted if isinstance(e, ev.OrderPlaced))
    inbox.offer(own)  # the plant's own order is not built twice
    wrong = ev.OrderPlaced(**{**_fields(order), "id": "c-2", "unit_code": "X-1", "product": "refrigerator"})
    inbox.offer(wrong)
    assert inbox.deliver(model) == 1
    model.run_until(600 + 6 * 3600)
    mine = [e for e in emitted if getattr(e, "unit_code", None) == order.unit_code]
    assert isinstance(mine[0], ev.StationEntered) and mine[0].station_id == plant.line("ac1").stations[0].id
    assert not any(getattr(e, "unit_code", None) == "X-1" for e in emitted)


def _fields(event):
    return {name: getattr(event, name) for name in ("id", "source", "time", *event.data_fields())}


def test_dates_are_quoted_before_ordering(factory):
    client = client_as(factory)
    dates = client.get("/api/products/air_conditioner/dates?model=AS18&panel=white&wifi=none").get_json()["dates"]
    lighter = client.get("/api/products/air_conditioner/dates?model=AS09&panel=white&wifi=none").get_json()["dates"]
    assert dates["ready"]["expected"] > lighter["ready"]["expected"]  # 58 s more work than the lightest
    refused = client.get("/api/products/air_conditioner/dates?model=AS18&panel=champagne&wifi=none")
    assert refused.status_code == 422


def test_an_order_from_an_erp_goes_through_the_same_gate(tmp_path):
    from streams.codec import to_json
    from support import API_KEY, build_factory

    events = EventFactory()
    # the test's events are of March 2026: a window wide enough to take them
    factory = build_factory(events, tmp_path, event_window_h=24 * 3650)
    good, bad = events.placed(2, "ERP-A", options=AC_OK), events.placed(2, "ERP-B", options=AC_FORBIDDEN)
    client = client_as(factory)
    answer = client.post(
        "/api/events",
        data="\n".join([to_json(good), to_json(bad)]),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/x-ndjson"},
    )
    assert answer.get_json()["errors"] == [{"line": 2, "reason": "forbidden_combination"}]


def test_open_orders_are_counted_per_client_until_they_ship_and_memory_is_bounded(plant):
    from web.customer_orders import OpenOrders

    events = EventFactory()
    state = empty_state(plant)
    opened = OpenOrders(clients_kept=2)
    for unit, client in (("U1", "a"), ("U2", "a"), ("U3", "b")):
        apply(state, events.placed(0, unit))
        opened.note(_ordered(unit, client))
    assert (opened.count("a", state), opened.count("b", state)) == (2, 1)
    apply(state, ev.UnitScrapped(id="s", source="/test/ac1", time=T0 + timedelta(minutes=5), unit_code="U1",
                                 line_id="ac1", station_id="kitting", defect_code="x"))  # fmt: skip
    assert opened.count("a", state) == 1  # a scrapped (or shipped) unit is no longer open
    opened.note(_ordered("U2", "c"))
    assert (opened.count("a", state), opened.count("b", state)) == (0, 1)  # a third client: the earliest goes


def _ordered(unit: str, client: str) -> ev.ConfigurationDrafted:
    return ev.ConfigurationDrafted(
        id=f"d-{unit}-{client}", source="/configurator", time=T0, session_id=unit,
        product="air_conditioner", ordered=True, unit_code=unit, client=client,
    )  # fmt: skip
