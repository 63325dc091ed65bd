import secrets

import pytest

from dashboard import auth

KNOWN = secrets.token_urlsafe(16)


def room(payload):
    return auth.room_for_socket(payload, has_line=lambda line: line == "ac1", knows_token=lambda t: t == KNOWN)


def test_known_token_joins_its_order_room_only():
    assert room({"view": "track", "token": KNOWN}) == f"order:{KNOWN}"


def test_floor_screen_joins_its_line():
    assert room({"view": "floor", "line": "ac1"}) == "floor:ac1"


@pytest.mark.parametrize("payload", [
    None, "floor", [], {}, {"view": "exec"},
    {"view": "floor", "line": "zz9"}, {"view": "floor", "line": ["ac1"]},
    {"view": "track", "token": secrets.token_urlsafe(16)},
    {"view": "track", "token": "short"}, {"view": "track", "token": KNOWN + "/../x"},
    {"view": "track", "token": {"$ne": ""}}, {"view": "track"},
])
def test_everything_else_is_refused(payload):
    assert room(payload) is None


def test_token_shape():
    assert auth.is_well_formed_token(secrets.token_urlsafe(16))
    assert not auth.is_well_formed_token("a" * 200)
    assert not auth.is_well_formed_token(None)
