"""Headers on every answer; malformed callback requests get a 4xx, never a 500."""

from __future__ import annotations

import pytest

from app import create_app
from config import Settings


@pytest.fixture(scope="module")
def client():
    factory = create_app(Settings(emulator=False, data_dir=None))
    client = factory.dash_app.server.test_client()
    client.get("/")  # Dash registers its router callback on the first request
    return client


@pytest.mark.parametrize("path", ["/", "/floor", "/track/unknown-token-0123456789", "/api/orders/x"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_may_reach_the_push_gateway_and_nothing_else():
    import click

    from config import settings_from_args

    def policy(settings: Settings) -> str:
        return create_app(settings).dash_app.server.test_client().get("/").headers["Content-Security-Policy"]

    alone = policy(Settings(emulator=False, data_dir=None))
    assert "connect-src 'self';" in alone
    gateway = policy(Settings(emulator=False, data_dir=None, push_url="https://push.example.test/live"))
    assert "connect-src 'self' https://push.example.test wss://push.example.test;" in gateway
    assert (
        settings_from_args(["--push-url", "http://push.example.test:8051/"]).push_url == "http://push.example.test:8051"
    )
    for wrong in ("push.example.test", "ftp://push.example.test", "https://push.example.test/?x=1", "https://"):
        with pytest.raises(click.BadParameter):
            settings_from_args(["--push-url", wrong])


def test_secret_link_pages_are_not_cached(client):
    assert client.get("/track/unknown-token-0123456789").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"not json", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"output": 7}', "application/json", 400),
        (b'{"output": "nope.children", "inputs": []}', "application/json", 400),
        (b'{"output": "..floor-status.children...floor-status.className..", "inputs": "x"}', "application/json", 400),
        (b"{}", "text/plain", 400),
        (b'{"output": "' + b"x" * 300_000 + b'"}', "application/json", 413),
    ],
)
def test_malformed_callback_bodies_get_4xx(client, body, content_type, status):
    response = client.post("/_dash-update-component", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status
