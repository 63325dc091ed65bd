"""The demand page (/demand): executives and admins bound to no site see it; nobody else gets any of it."""

from datetime import timedelta

import pytest

from streams import events as ev
from support import PASSWORD, T0, add_user, build_factory, callback_body, client_as, layout_text

# Only the demand view holds these: a choice label, the variants' heading, a headline.
DEMAND = ["Pearl white", "Suggested variants", "Cover 80 % of orders"]
OUTPUT = "demand-content.children"
VALUES = {"demand-product.value": "air_conditioner", "demand-range.value": 0, "demand-lang.data": "en"}


def _drafts(n):
    return [
        ev.ConfigurationDrafted(
            id=f"draft-{i}",
            source="/configure",
            time=T0 + timedelta(minutes=10 + i),
            session_id=f"visit-{i:04d}",
            product="air_conditioner",
            options={"model": "AS12", "panel": "white", "wifi": "wifi" if i % 3 else "none"},
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from support import EventFactory

    factory = build_factory(EventFactory(), tmp_path_factory.mktemp("demand"))
    factory.history.record(_drafts(12))
    add_user(factory, "cara", "executive", PASSWORD, site="camden")
    clients = {name: client_as(factory, name) for name in ("mia", "wes", "ada", "cara")}
    clients.update(anonymous=client_as(factory), wall=client_as(factory, "wall"))
    for client in clients.values():
        client.get("/")
    deps = clients["anonymous"].get("/_dash-dependencies").get_json()
    return factory, clients, next(d for d in deps if d["output"] == OUTPUT)


def _call(clients, dep, who, values=VALUES):
    response = clients[who].post("/_dash-update-component", json=callback_body(dep, values))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["anonymous", "wall", "mia", "cara"])
def test_nobody_else_gets_the_page_or_its_callback(demo, who):
    factory, clients, dep = demo
    for path in ("/demand", "/demand/", "/track/tokenA-0123456789abcdef/../../demand"):
        text = layout_text(factory, path, client=clients[who])
        assert not [m for m in DEMAND if m in text], (who, path)
    for values in (VALUES, {**VALUES, "demand-range.value": 30}, {}):
        text = _call(clients, dep, who, values)
        assert not [m for m in DEMAND if m in text], (who, values)


def test_a_site_bound_executive_is_told_why(demo):
    factory, clients, _ = demo
    assert "whole enterprise" in layout_text(factory, "/demand", client=clients["cara"])


def test_the_page_is_sent_to_sign_in_when_not_signed_in(demo):
    _, clients, _ = demo
    response = clients["anonymous"].get("/demand")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["wes", "ada"])
def test_executives_and_admins_see_the_demand(demo, who):
    factory, clients, dep = demo
    page = layout_text(factory, "/demand", client=clients[who])
    assert all(m in page for m in DEMAND), who
    # 2 orders (UA, UB: no panel chosen) and 12 visits that did not order: 14 wishes.
    assert '"Wishes"' in page and '"14"' in page
    shown = _call(clients, dep, who)
    assert all(m in shown for m in DEMAND)
    assert "珍珠白" in layout_text(factory, "/demand", "?lang=zh", client=clients[who])


def test_nonsense_inputs_are_answered_without_data_or_errors(demo):
    _, clients, dep = demo
    for values in ({**VALUES, "demand-product.value": ["x"]}, {**VALUES, "demand-product.value": "nothing"}, {}):
        assert "No wishes for this product" in _call(clients, dep, "wes", values)
    # A range that is not offered is the default one; a language that is not offered, English.
    text = _call(clients, dep, "wes", {**VALUES, "demand-range.value": "all", "demand-lang.data": {"x": 1}})
    assert "Pearl white" in text


def test_an_empty_history_shows_the_empty_state(events, tmp_path):
    factory = build_factory(events, tmp_path)
    factory.history.wipe()
    page = layout_text(factory, "/demand", client=client_as(factory, "wes"))
    assert "No orders and no configurator wishes" in page and "Suggested variants" not in page


def test_executives_find_the_page(demo):
    factory, clients, _ = demo
    assert "/demand" in layout_text(factory, "/exec", client=clients["wes"])
    assert "/demand" in layout_text(factory, "/", client=clients["wes"])
    assert "/demand" not in layout_text(factory, "/", client=clients["cara"])
    assert "/demand" not in layout_text(factory, "/", client=clients["mia"])
