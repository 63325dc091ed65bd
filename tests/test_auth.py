"""Who may join which socket room and see which area: decided by one pure function on the server."""

import secrets

import pytest

from web import auth
from web.accounts import Who

KNOWN = secrets.token_urlsafe(16)
WALL = Who("wall", "kiosk:Hall A")
SITES = {"ac1": "zhengzhou", "rf2": "camden"}


def room(payload, who=WALL):
    return auth.room_for_socket(
        payload, who, has_line=lambda line: line in SITES, site_of=SITES.__getitem__, knows_token=lambda t: t == KNOWN
    )


def test_known_token_joins_its_order_room_only():
    assert room({"view": "track", "token": KNOWN}) == f"order:{KNOWN}"


def test_floor_screen_joins_its_line():
    assert room({"view": "floor", "line": "ac1"}) == "floor:ac1"


@pytest.mark.parametrize("who", [None, Who("customer", "x"), Who("", "x")])
def test_a_floor_room_needs_a_floor_role(who):
    assert room({"view": "floor", "line": "ac1"}, who=who) is None


def test_a_tracker_room_needs_no_role():
    assert room({"view": "track", "token": KNOWN}, who=None) == f"order:{KNOWN}"


def test_site_and_line_bindings_hold_for_rooms():
    camden_manager = Who("manager", "sam", site_id="camden")
    assert room({"view": "floor", "line": "rf2"}, camden_manager) == "floor:rf2"
    assert room({"view": "floor", "line": "ac1"}, camden_manager) is None
    hall = Who("wall", "kiosk:Hall B", line_id="ac1")
    assert room({"view": "floor", "line": "ac1"}, hall) == "floor:ac1"
    assert room({"view": "floor", "line": "rf2"}, hall) is None


def test_areas():
    assert auth.may("wall", "floor") and not auth.may("wall", "kpis") and not auth.may("wall", "exec")
    assert auth.may("executive", "exec") and not auth.may("manager", "exec") and auth.may("manager", "orders")
    assert not auth.may(None, "floor") and not auth.may(WALL, "acknowledge") and auth.may(Who("admin", "a"), "admin")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "floor",
        [],
        {},
        {"view": "exec"},
        {"view": "floor", "line": "zz9"},
        {"view": "floor", "line": ["ac1"]},
        {"view": "track", "token": secrets.token_urlsafe(16)},
        {"view": "track", "token": "short"},
        {"view": "track", "token": KNOWN + "/../x"},
        {"view": "track", "token": {"$ne": ""}},
        {"view": "track"},
    ],
)
def test_everything_else_is_refused(payload):
    assert room(payload) is None


def test_token_shape():
    assert auth.is_well_formed_token(secrets.token_urlsafe(16))
    assert not auth.is_well_formed_token("a" * 200)
    assert not auth.is_well_formed_token(None)
