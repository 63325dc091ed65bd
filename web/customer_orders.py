"""Placing a customer's order: check it in the server, give the unit its ID card, put the order on the stream.

The configurator page and ``POST /api/orders`` both come here, so one set of rules holds
whatever the client sent: the configuration is checked against the factory file
(factory.configurator), each client may order a few units a minute and an hour (counted where
every worker sees them) and hold only a few open orders at a time. The order becomes an
``OrderPlaced`` on the event stream like any line's (the built-in plant takes it into its next
release) and an ordered ``ConfigurationDrafted`` (the wish, for demand analysis; it also names
the client by a keyed hash, which is how every worker counts a client's open orders).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from factory.configurator import check_configuration, lines_making, refusal_text
from factory.quote import quote
from factory.state import FactoryState
from streams import events as ev
from streams.codec import format_time

SOURCE = "/configurator"
ORDERS_PER_MINUTE = 3
ORDERS_PER_HOUR = 20
DRAFTS_PER_MINUTE = 60
OPEN_ORDERS_PER_CLIENT = 5
CLIENTS_KEPT = 200_000  # clients whose open orders are counted (a few hundred bytes each)
LIVE_CLOCK_S = 60.0  # a stream fed this recently sets the plant's clock; else the wall clock does
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O; letters only, so no restart reads them as a running number
CODE_LENGTH = 8  # 24**8 = 1.1e11 codes per line and month


def client_id(secret: bytes, address: str) -> str:
    """Return a client's pseudonym: a keyed hash of its address (the address itself is never stored)."""
    return hashlib.blake2b(address.encode(), key=secret[:64], digest_size=9).hexdigest()


class OrderLimits:
    """How often one client may order and save drafts, in moving windows every worker shares."""

    def __init__(self, uri: str = "memory://", per_minute: int = ORDERS_PER_MINUTE, per_hour: int = ORDERS_PER_HOUR):
        self._window = MovingWindowRateLimiter(storage_from_string(uri))
        self._orders = (RateLimitItemPerMinute(per_minute), RateLimitItemPerHour(per_hour))
        self._drafts = RateLimitItemPerMinute(DRAFTS_PER_MINUTE)

    def take_order(self, client: str) -> bool:
        """Count one order by ``client``; False when it is over a limit (nothing is counted then)."""
        if not all(self._window.test(item, "tf-orders", client) for item in self._orders):
            return False
        for item in self._orders:
            self._window.hit(item, "tf-orders", client)
        return True

    def take_draft(self, client: str) -> bool:
        """Count one saved draft by ``client``; False when it is over the limit."""
        return self._window.hit(self._drafts, "tf-drafts", client)


class OpenOrders:
    """Which units each client ordered, folded from the stream's ordered drafts (so every worker knows)."""

    def __init__(self, clients_kept: int = CLIENTS_KEPT) -> None:
        self._lock = threading.Lock()
        self._units: OrderedDict[str, set[str]] = OrderedDict()  # least recently ordering client first
        self._kept = clients_kept

    def note(self, event: ev.Event) -> None:
        """Remember the unit of an ordered draft under its client (a pump listener)."""
        if isinstance(event, ev.ConfigurationDrafted) and event.ordered and event.client and event.unit_code:
            with self._lock:
                self._units.setdefault(event.client, set()).add(event.unit_code)
                self._units.move_to_end(event.client)
                if len(self._units) > self._kept:  # bounded: the client who ordered longest ago goes first
                    self._units.popitem(last=False)

    def count(self, client: str, state: FactoryState) -> int:
        """Return how many of ``client``'s units are not shipped or scrapped yet (forgetting the others)."""
        with self._lock:
            units = self._units.get(client, set())
            still = {u for u in units if u in state.units and state.units[u].shipped_at is None
                     and state.units[u].scrapped_at is None}  # fmt: skip
            # A unit the live state no longer holds left the plant a while ago: not open.
            if still:
                self._units[client] = still
            else:
                self._units.pop(client, None)
            return len(still)


@dataclass(frozen=True)
class Answer:
    """What placing an order came to: the HTTP status and the JSON body."""

    status: int
    body: dict[str, Any]


def _refused(status: int, reason: str, detail: str) -> Answer:
    return Answer(status, {"error": reason, "detail": detail})


def _letters(n: int) -> str:
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(n))


def plant_clock(state: FactoryState, fed_at: float | None) -> datetime:
    """Return "now" for an order: the stream's latest time while it is live (a simulation runs ahead), else now."""
    if state.last_event_time is not None and fed_at is not None and time.time() - fed_at < LIVE_CLOCK_S:
        return state.last_event_time
    return datetime.now(UTC)


def _dates(q: dict[str, Any] | None) -> dict[str, Any] | None:
    if q is None:
        return None
    names = ("earliest", "expected", "latest")
    return {
        "line": q["line"],
        "units_ahead": q["units_ahead"],
        "ready": dict(zip(names, map(format_time, q["finish"]))),
        "ship": dict(zip(names, map(format_time, q["ship"]))) if q["ship"] else None,
        "basis": q["basis"],
    }


def dates_for(svc: Any, product: str, options: dict[str, str]) -> dict[str, Any] | None:
    """Return the quoted ready and ship dates of a valid configuration (None: the plant has no clock yet)."""
    live = svc.live
    with live.lock:
        return _dates(quote(live.state, svc.plant, product, options))


def place_order(svc: Any, body: Any, client: str, secret: bytes, base_url: str) -> Answer:
    """Check and place one order from ``body`` ({product, options, language}); answer 201 with its ID card."""
    if not isinstance(body, dict):
        return _refused(400, "bad_body", "send a JSON object: {product, options, language}")
    lang = str(body.get("language")) if body.get("language") in ("en", "zh") else "en"
    product, options = body.get("product"), body.get("options")
    refusal = check_configuration(svc.plant, product, options)
    if refusal is not None:
        status = 422 if refusal.code == "forbidden" else 400
        return _refused(status, refusal.code, refusal_text(refusal, svc.plant, lang))
    assert isinstance(product, str) and isinstance(options, dict)
    who = client_id(secret, client)
    live = svc.live
    with live.lock:
        open_now = svc.open_orders.count(who, live.state)
    if open_now >= OPEN_ORDERS_PER_CLIENT:
        return _refused(
            429, "too_many_open_orders", f"at most {OPEN_ORDERS_PER_CLIENT} orders per customer until they ship"
        )
    if not svc.order_limits.take_order(who):
        return _refused(429, "too_many_orders", "too many orders from this client; wait a little")
    with live.lock:
        now = plant_clock(live.state, live.fed_at)
        q = quote(live.state, svc.plant, product, options)
        taken = set(live.state.units)
    line_id = q["line"] if q else lines_making(svc.plant, product)[0]
    line = svc.plant.line(line_id)
    prefix = svc.plant.products[product].unit_prefix
    unit_code = f"{prefix}{now:%y%m}-{line_id.upper()}-{_letters(CODE_LENGTH)}"
    while unit_code in taken:  # 1 in 10^11; but a code is an identity
        unit_code = f"{prefix}{now:%y%m}-{line_id.upper()}-{_letters(CODE_LENGTH)}"
    order_id = f"WEB-{now:%y%m%d}-{_letters(CODE_LENGTH)}"
    token = secrets.token_urlsafe(16)
    ship_by = (q["ship"] or q["finish"])[2] if q else None
    promised = ship_by.astimezone(svc.plant.tz_of(line.id)).date().isoformat() if ship_by else None
    placed = ev.OrderPlaced(
        id=secrets.token_hex(12),
        source=SOURCE,
        time=now,
        order_id=order_id,
        unit_code=unit_code,
        tracking_token=token,
        line_id=line_id,
        product=product,
        options=dict(options),
        promised_by=promised,
    )
    wish = ev.ConfigurationDrafted(
        id=secrets.token_hex(12),
        source=SOURCE,
        time=now,
        session_id=str(body.get("session") or order_id)[:64],
        product=product,
        options=dict(options),
        ordered=True,
        unit_code=unit_code,
        client=who,
    )
    svc.bus.publish_many([placed, wish])
    tracking_url = f"{base_url.rstrip('/')}/track/{token}"
    return Answer(
        201,
        {
            "order_id": order_id,
            "unit_code": unit_code,
            "tracking_token": token,
            "tracking_url": tracking_url,
            "qr_svg": qr_svg(tracking_url),
            "line": line_id,
            "placed_at": format_time(now),
            "promised_by": promised,
            "dates": _dates(q),
        },
    )


def save_draft(svc: Any, session_id: str, product: str, options: dict[str, str], client: str, secret: bytes) -> bool:
    """Put a configurator visit's latest configuration on the stream (a wish not ordered); False if refused."""
    if check_configuration(svc.plant, product, options) is not None:
        return False
    if not svc.order_limits.take_draft(client_id(secret, client)):
        return False
    with svc.live.lock:
        now = plant_clock(svc.live.state, svc.live.fed_at)
    svc.bus.publish(
        ev.ConfigurationDrafted(
            id=secrets.token_hex(12),
            source=SOURCE,
            time=now,
            session_id=session_id[:64],
            product=product,
            options=dict(options),
            ordered=False,
        )
    )
    return True


def qr_svg(url: str) -> str:
    """Return the QR code of ``url`` as an SVG data URI (for an <img>)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)
