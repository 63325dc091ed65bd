"""REST endpoints of the configurator: what can be ordered, and ordering it.

``GET /api/products`` lists the products, options, choices (with the build time each adds) and
the rules between options; ``POST /api/orders`` places an order (web.customer_orders) and
answers with the unit's ID card. Both are public, like the configurator page: abuse is held
back per client (rate limits, a cap on open orders), not by sign-in.
"""

from __future__ import annotations

import flask

from factory.configurator import catalogue, check_configuration, refusal_text
from web.api_spec import Param, api
from web.customer_orders import dates_for, place_order
from web.hardening import error
from web.ratelimit import client_key, limiter
from web.services import services

blueprint = flask.Blueprint("orders_api", __name__, url_prefix="/api")
MAX_ORDER_BODY = 16 * 1024  # an order is a few hundred bytes


def secret() -> bytes:
    """Return the app's signing key as bytes (it keys the clients' pseudonyms too)."""
    key = flask.current_app.secret_key
    return key.encode() if isinstance(key, str) else bytes(key or b"")


@api(
    blueprint,
    "GET",
    "/products",
    "What a customer can configure: products, options, choices with the build time they add, rules",
    {200: "the products", 429: "more than 120 a minute from this client"},
    tags=("customer",),
)
@limiter.limit("120/minute", key_func=client_key)
def products():
    return flask.jsonify({"products": catalogue(services().plant)})


@api(
    blueprint,
    "GET",
    "/products/<product>/dates",
    "The ready and ship dates quoted for a configuration ordered now (options as query parameters)",
    {
        200: "the dates (null while the plant has no clock yet)",
        400: "unknown product or option",
        422: "forbidden",
        429: "more than 120 a minute from this client",
    },
    (Param("product", where="path"), Param("lang", enum=("en", "zh"), description="language of a refusal")),
    tags=("customer",),
)
@limiter.limit("120/minute", key_func=client_key)
def dates(product: str, lang: str | None):
    svc = services()
    options = {k: v for k, v in flask.request.args.items() if k != "lang"}
    refusal = check_configuration(svc.plant, product, options)
    if refusal is not None:
        status = 422 if refusal.code == "forbidden" else 400
        return error(status, refusal.code, refusal_text(refusal, svc.plant, lang or "en"))
    return flask.jsonify({"dates": dates_for(svc, product, options)})


@api(
    blueprint,
    "POST",
    "/orders",
    "Place an order; the answer is the unit's ID card (unit code, tracking link, QR code)",
    {
        201: "ordered",
        400: "not an order, or an unknown product or option",
        413: "too large",
        422: "a combination the factory does not build",
        429: "too many orders from this client",
    },
    body="application/json {product, options: {option: choice}, language: en|zh}",
    tags=("customer",),
)
def order():
    if (flask.request.content_length or 0) > MAX_ORDER_BODY:
        return error(413, "too_large", "an order is a few hundred bytes")
    body = flask.request.get_json(silent=True)
    if body is None:
        return error(400, "bad_json", "send the order as JSON with Content-Type: application/json")
    answer = place_order(services(), body, client_key(), secret(), flask.request.host_url)
    return flask.jsonify(answer.body), answer.status
