"""Every Dash callback called anonymously, with any pathname: no factory data comes back.

A client can POST any body to /_dash-update-component; what a callback returns must depend on
the server's decision about the caller, never on what the caller claims its page is.
"""

from __future__ import annotations

import json

import pytest

from app import create_app
from config import Settings
from support import EventFactory, callback_body, catch_up

TOKEN_A, TOKEN_B = "tokenA-0123456789abcdef", "tokenB-0123456789abcdef"
# Strings that only factory-wide views contain: other units, station-level detail, counters.
FACTORY_DATA = ["UB", TOKEN_B, "WIP", "queue", "starved", "running", "Washing machine line", "OEE"]
PATHNAMES = [
    "/",
    "/floor",
    "/floor/",
    "/exec",
    "/orders",
    "/404",
    "/track/unknown-token-0123456789",
    f"/track/{TOKEN_A}",
    f"/track/{TOKEN_A}/../../floor",
    "/track/",
    "/%2e%2e/floor",
    "",
    None,
    17,
]
SEARCHES = ["", "?line=ac1", "?line=wm1&kiosk=1", "?kiosk=1", None]


@pytest.fixture(scope="module")
def app_and_deps():
    factory = create_app(Settings(emulator=False, data_dir=None))
    events = EventFactory()
    factory.bus.publish_many(
        [
            events.placed(0, "UA", token=TOKEN_A),
            events.placed(0, "UB", token=TOKEN_B),
            events.entered(1, "UA", "kitting"),
            events.entered(2, "UB", "kitting"),
        ]
    )
    catch_up(factory)
    client = factory.dash_app.server.test_client()
    client.get("/")
    deps = client.get("/_dash-dependencies").get_json()
    return factory, deps


def test_the_app_has_server_callbacks_to_sweep(app_and_deps):
    _, deps = app_and_deps
    assert any(not d.get("clientside_function") for d in deps)


@pytest.mark.parametrize("pathname", PATHNAMES)
@pytest.mark.parametrize("search", SEARCHES)
def test_no_callback_returns_factory_data_to_an_anonymous_caller(app_and_deps, pathname, search):
    factory, deps = app_and_deps
    client = factory.dash_app.server.test_client()
    for dep in deps:
        values = {"pathname": pathname, "search": search, "data": None, "children": None}
        response = client.post("/_dash-update-component", json=callback_body(dep, values))
        assert response.status_code < 500, (dep["output"], pathname, search)
        if response.status_code != 200:
            continue
        text = json.dumps(response.get_json())
        leaked = [marker for marker in FACTORY_DATA if marker in text]
        assert not leaked, (dep["output"], pathname, search, leaked)
        if "UA" in text:  # only the owner's tracker, reached through its own token, shows order A
            assert isinstance(pathname, str) and pathname.startswith(f"/track/{TOKEN_A}")
