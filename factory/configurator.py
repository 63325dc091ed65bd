"""What a customer may configure: the catalogue of products and options, and the check of a configuration.

Both come from the factory file alone (products, options, their choices' extra build time and
the rules between options), so the configurator page, ``GET /api/products``, ``POST
/api/orders`` and the plant check of orders from outside all refuse the same things for the
same reasons. A refusal is data (a code and what it names); :func:`refusal_text` words it in
the customer's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from factory.layout import Plant, Product, text

MAX_ID_CHARS = 64  # longer than any id a factory file may hold: a tampered request, not a typo


@dataclass(frozen=True)
class Refusal:
    """Why a configuration cannot be ordered: ``code`` names the kind, ``detail`` what it is about."""

    code: str  # unknown_product, no_line, bad_options, unknown_option, unknown_choice, missing_option, forbidden
    detail: Mapping[str, Any] = field(default_factory=dict)


def lines_making(plant: Plant, product_id: str) -> list[str]:
    """Return the ids of the lines that build ``product_id``, in the factory file's order."""
    return [line.id for line in plant.lines if line.product == product_id]


def check_configuration(plant: Plant, product_id: object, options: object) -> Refusal | None:
    """Return why ``options`` of ``product_id`` cannot be built, or None when every option is chosen and allowed.

    The inputs are whatever a client sent: anything that is not a known product with exactly
    one known choice for each of its options, within its rules, is refused.
    """
    if not isinstance(product_id, str) or product_id not in plant.products:
        return Refusal("unknown_product", {"product": str(product_id)[:MAX_ID_CHARS]})
    product = plant.products[product_id]
    if not lines_making(plant, product_id):
        return Refusal("no_line", {"product": product_id})
    if not isinstance(options, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in options.items()
    ):
        return Refusal("bad_options")
    for option_id, choice_id in options.items():
        option = product.option(option_id)
        if option is None:
            return Refusal("unknown_option", {"product": product_id, "option": option_id[:MAX_ID_CHARS]})
        if option.choice(choice_id) is None:
            choice = choice_id[:MAX_ID_CHARS]
            return Refusal("unknown_choice", {"product": product_id, "option": option_id, "choice": choice})
    for option in product.options:
        if option.id not in options:
            return Refusal("missing_option", {"product": product_id, "option": option.id})
    broken = product.violations(options)
    if broken:
        return Refusal("forbidden", {"because": dict(broken[0].because)})
    return None


def blocked_choices(product: Product, options: Mapping[str, str]) -> dict[str, dict[str, dict[str, str]]]:
    """Return, per option, the choices the rest of ``options`` rules out, with the rule's reason in English and Chinese.

    What the page greys out: a choice is blocked when picking it (the other options as they
    are) breaks a rule that names its option; a rule the other options break already is theirs
    to show, not this option's.
    """
    blocked: dict[str, dict[str, dict[str, str]]] = {}
    for option in product.options:
        rules = [r for r in product.rules if option.id in (*r.when, *r.forbid, *r.require)]
        for choice in option.choices:
            trial = {**options, option.id: choice.id}
            broken = next((r for r in rules if r.broken_by(trial)), None)
            if broken is not None:
                blocked.setdefault(option.id, {})[choice.id] = dict(broken.because)
    return blocked


def extra_build_s(product: Product, options: Mapping[str, str]) -> float:
    """Return the seconds a configuration adds to the base build, over all stations."""
    return sum(product.extra_work_s(options).values())


def default_options(product: Product) -> dict[str, str]:
    """Return the most popular allowed configuration (what the page shows first)."""
    return dict(max(product.configurations(), key=lambda c: c[1])[0])


def catalogue(plant: Plant) -> list[dict[str, Any]]:
    """Return every product a customer can order, with its options, choices, extra build time and rules."""
    products = []
    for product in plant.products.values():
        lines = lines_making(plant, product.id)
        if not lines:
            continue  # nothing builds it: not on offer
        products.append({
            "id": product.id,
            "name": dict(product.names),
            "lines": lines,
            "default": default_options(product),
            "options": [
                {"id": o.id, "name": dict(o.names), "choices": [
                    {"id": c.id, "name": dict(c.names), "extra_build_s": sum(c.work_s.values())} for c in o.choices]}
                for o in product.options
            ],
            "rules": [
                {"when": dict(r.when), "forbid": {k: list(v) for k, v in r.forbid.items()},
                 "require": {k: list(v) for k, v in r.require.items()}, "because": dict(r.because)}
                for r in product.rules
            ],
        })  # fmt: skip
    return products


_TEXTS = {
    "en": {
        "unknown_product": "There is no product “{product}” to configure.",
        "no_line": "No line builds this product at the moment.",
        "bad_options": "The options must be a list of option names with one choice each.",
        "unknown_option": "This product has no option “{option}”.",
        "unknown_choice": "“{choice}” is not a choice of the option “{option}”.",
        "missing_option": "Please choose the {option}.",
    },
    "zh": {
        "unknown_product": "没有可配置的产品“{product}”。",
        "no_line": "目前没有生产线生产该产品。",
        "bad_options": "选项必须是选项名及其各自的一个选择。",
        "unknown_option": "该产品没有选项“{option}”。",
        "unknown_choice": "“{choice}”不是选项“{option}”的可选项。",
        "missing_option": "请选择{option}。",
    },
}


def refusal_text(refusal: Refusal, plant: Plant, lang: str = "en") -> str:
    """Return the refusal as a sentence for the customer, in ``lang`` (English or Chinese)."""
    lang = lang if lang in _TEXTS else "en"
    if refusal.code == "forbidden":
        return text(refusal.detail["because"], lang)
    detail = {k: str(v) for k, v in refusal.detail.items()}
    product = plant.products.get(detail.get("product", ""))
    option = product.option(detail["option"]) if product is not None and "option" in detail else None
    if option is not None and refusal.code == "missing_option":
        name = text(option.names, lang)
        detail["option"] = name.lower() if lang == "en" else name
    if product is not None:
        detail["product"] = text(product.names, lang)
    return _TEXTS[lang][refusal.code].format(**detail)
