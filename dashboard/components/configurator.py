"""Builders of the configurator page: option pickers, the dates before ordering, the unit's ID card.

Pure functions from the factory file's products and the server's answers to Dash components;
the page (dashboard/pages/configure.py) only wires them to callbacks.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from dash import html

from factory.configurator import blocked_choices
from factory.layout import Product, text

OPTION = "cfg-option"  # pattern id type: {"type": OPTION, "product": <product id>, "option": <option id>}
GROUP = "cfg-group"  # pattern id type: {"type": GROUP, "product": <product id>}: one product's pickers
_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(iso: str, tz: tzinfo, lang: str) -> str:
    """Return a quoted time as a customer reads it, in the plant's zone: "Tue 8 Dec, 14:00" / "12月8日 周二 14:00"."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)
    day = _WEEKDAYS.get(lang, _WEEKDAYS["en"])[t.weekday()]
    if lang == "zh":
        return f"{t.month}月{t.day}日 {day} {t:%H:%M}"
    return f"{day} {t.day} {_MONTHS[t.month - 1]}, {t:%H:%M}"


def duration(seconds: float, lang: str) -> str:
    """Return build time as a customer reads it: seconds under a minute, else whole minutes (rounded)."""
    if seconds < 60:
        return f"{seconds:.0f} s" if lang == "en" else f"{seconds:.0f} 秒"
    return f"{round(seconds / 60)} min" if lang == "en" else f"{round(seconds / 60)} 分钟"


def choice_items(product: Product, options: dict[str, str], lang: str, t: dict[str, str]) -> dict[str, list[dict]]:
    """Return, per option, the radio items: a choice's name and added build time; disabled when a rule forbids it."""
    blocked = blocked_choices(product, options)
    items: dict[str, list[dict]] = {}
    for option in product.options:
        rows = []
        for choice in option.choices:
            label = text(choice.names, lang)
            extra = sum(choice.work_s.values())
            if extra > 0:
                label += "  (" + t["adds"].format(time=duration(extra, lang)) + ")"
            why = blocked.get(option.id, {}).get(choice.id)
            if why is not None:
                label += " — " + t["not_with"].format(why=text(why, lang))
            rows.append({"label": label, "value": choice.id, "disabled": why is not None})
        items[option.id] = rows
    return items


def option_pickers(product: Product, options: dict[str, str], lang: str, t: dict[str, str], shown: bool) -> html.Div:
    """Return the pickers of ``product``: one fieldset per option, ``options`` chosen; hidden unless ``shown``."""
    from dash import dcc

    items = choice_items(product, options, lang, t)
    return html.Div(
        [
            html.Fieldset(
                [
                    html.Legend(text(option.names, lang)),
                    dcc.RadioItems(
                        id={"type": OPTION, "product": product.id, "option": option.id},
                        options=items[option.id],
                        value=options.get(option.id),
                        className="cfg-choices",
                        inputClassName="cfg-input",
                        labelClassName="cfg-choice",
                    ),
                ],
                className="cfg-option",
            )
            for option in product.options
        ],
        id={"type": GROUP, "product": product.id},
        hidden=not shown,
    )


def dates_summary(dates: dict[str, Any] | None, extra_s: float, tz: tzinfo | None, lang: str, t: dict[str, str]):
    """Return what the customer learns before ordering: the build time the options add, ready and ship dates."""
    build = t["build"].format(time=duration(extra_s, lang)) if extra_s > 0 else t["build_none"]
    rows = [html.P(build, className="cfg-build")]
    if dates is None or tz is None:
        rows.append(html.P(t["no_dates"], className="cfg-dates muted"))
        return rows
    ready = dates["ready"]
    rows.append(
        html.P(
            t["ready"].format(expected=when(ready["expected"], tz, lang), latest=when(ready["latest"], tz, lang)),
            className="cfg-dates",
            id="cfg-ready",
        )
    )
    ship = dates.get("ship")
    if ship:
        rows.append(
            html.P(
                t["ships"].format(expected=when(ship["expected"], tz, lang), latest=when(ship["latest"], tz, lang)),
                className="cfg-dates",
                id="cfg-ship",
            )
        )
    else:
        rows.append(html.P(t["ships_unknown"], className="cfg-dates muted"))
    rows.append(html.P(t["zone"].format(zone=str(tz)), className="muted cfg-zone"))
    return rows


def id_card(order: dict[str, Any], t: dict[str, str], lang: str) -> html.Section:
    """Return the unit's ID card: its code, the tracking link and its QR code."""
    link = order["tracking_url"] + (f"?lang={lang}" if lang != "en" else "")
    return html.Section(
        [
            html.H2(t["ordered"]),
            html.Dl(
                [
                    html.Dt(t["unit_code"]),
                    html.Dd(order["unit_code"], className="id-unit", id="cfg-unit-code"),
                    html.Dt(t["order_id"]),
                    html.Dd(order["order_id"]),
                ]
            ),
            html.Img(src=order["qr_svg"], alt=t["qr_alt"], className="id-qr"),
            html.P(html.A(t["watch"], href=link, id="cfg-track-link", className="button")),
            html.P(t["keep_link"], className="muted"),
        ],
        className="card id-card",
        id="cfg-id-card",
    )
