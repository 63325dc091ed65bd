import secrets

import pytest

from dashboard import auth

KNOWN = secrets.token_urlsafe(16)


def room(payload, role="wall"):
    return auth.room_for_socket(
        payload, has_line=lambda line: line == "ac1", knows_token=lambda t: t == KNOWN, role=role
    )


def test_known_token_joins_its_order_room_only():
    assert room({"view": "track", "token": KNOWN}) == f"order:{KNOWN}"


def test_floor_screen_joins_its_line():
    assert room({"view": "floor", "line": "ac1"}) == "floor:ac1"


@pytest.mark.parametrize("role", [None, "customer", ""])
def test_a_floor_room_needs_a_floor_role(role):
    assert room({"view": "floor", "line": "ac1"}, role=role) is None


def test_a_tracker_room_needs_no_role():
    assert room({"view": "track", "token": KNOWN}, role=None) == f"order:{KNOWN}"


def test_areas():
    assert auth.may("wall", "floor") and not auth.may("wall", "kpis") and not auth.may("wall", "exec")
    assert auth.may("executive", "exec") and not auth.may("manager", "exec") and auth.may("manager", "orders")
    assert not auth.may(None, "floor")


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
