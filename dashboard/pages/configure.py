"""Public configurator (/configure): choose a product and its options, see the dates, order.

No sign-in: anyone may configure and order, so every callback treats its inputs as a stranger's
(the server checks the configuration, limits each client, and answers only with this visit's
own order). A visit's latest configuration is saved as a wish (demand analysis) once the
customer changes something; ordering answers with the unit's ID card: its code, the tracking
link and a QR code of it.
"""

from __future__ import annotations

import secrets

import dash
import flask
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard.components.configurator import GROUP, OPTION, choice_items, dates_summary, id_card, option_pickers
from dashboard.i18n import CONFIGURE_TEXTS, language
from factory.configurator import (
    check_configuration,
    default_options,
    extra_build_s,
    lines_making,
    refusal_text,
)
from factory.layout import text
from web.customer_orders import dates_for, place_order, save_draft
from web.orders_api import secret
from web.ratelimit import client_key
from web.services import services

dash.register_page(__name__, path="/configure", title="Configure · Transparent Factory")

PRODUCT = "cfg-product"
SESSION = "cfg-session"
SUMMARY = "cfg-summary"
ORDER = "cfg-order"
RESULT = "cfg-result"
OPTIONS = "cfg-options"


def _offer() -> dict:
    """Return the products some line builds, in the factory file's order."""
    plant = services().plant
    return {pid: p for pid, p in plant.products.items() if lines_making(plant, pid)}


def _visit(data) -> tuple[str, str]:
    """Return (session id, language) from the page's store, whatever a client put there."""
    data = data if isinstance(data, dict) else {}
    lang = data.get("lang") if data.get("lang") in CONFIGURE_TEXTS else "en"
    session = data.get("session") if isinstance(data.get("session"), str) else ""
    return session[:64], lang


def layout(lang=None, product=None, **_query):
    """Return the configurator in the visitor's language, ``product`` (if offered) chosen."""
    lang = language(lang)
    t = CONFIGURE_TEXTS[lang]
    offer = _offer()
    chosen = product if product in offer else next(iter(offer), None)
    # Every product's pickers are drawn once and shown or hidden: no component is created
    # later, so no answer computed for a former product's choices can land after a change.
    groups = [option_pickers(p, default_options(p), lang, t, pid == chosen) for pid, p in offer.items()]
    summary, off = _summary(chosen, default_options(offer[chosen]), lang) if chosen else ([], True)
    return html.Main(
        className="page configure",
        lang=t["locale"],
        children=[
            html.Nav(
                html.A(t["switch"], href=f"/configure?lang={t['switch_to']}", hrefLang=t["switch_to"]),
                className="lang-switch",
            ),
            html.H1(t["title"]),
            html.P(t["intro"], className="muted"),
            dcc.Store(id=SESSION, data={"session": secrets.token_urlsafe(12), "lang": lang}),
            html.Fieldset(
                [
                    html.Legend(t["product"]),
                    dcc.RadioItems(
                        id=PRODUCT,
                        options=[{"label": text(p.names, lang), "value": pid} for pid, p in offer.items()],
                        value=chosen,
                        className="cfg-choices",
                        labelClassName="cfg-choice",
                    ),
                ],
                className="cfg-option",
            ),
            html.Div(groups, id=OPTIONS),
            html.Div(summary, id=SUMMARY, className="card cfg-summary", role="status"),
            html.Button(t["order"], id=ORDER, n_clicks=0, disabled=off, className="button cfg-order"),
            html.Div(id=RESULT, role="status"),
        ],
    )


def _summary(product: str, options: dict[str, str], lang: str, save_as: str | None = None):
    """Return (summary, ordering off?) for a configuration, checked in the server; save it as a wish if asked."""
    svc = services()
    t = CONFIGURE_TEXTS[lang]
    refusal = check_configuration(svc.plant, product, options)
    if refusal is not None:
        return [html.P(refusal_text(refusal, svc.plant, lang), className="cfg-problem")], True
    if save_as:
        save_draft(svc, save_as, product, options, client_key(), secret())
    dates = dates_for(svc, product, options)
    tz = svc.plant.tz_of(dates["line"]) if dates else None
    return dates_summary(dates, extra_build_s(svc.plant.products[product], options), tz, lang, t), False


def chosen_options(product, values, option_ids) -> dict[str, str]:
    """Return the choices made among ``product``'s pickers (ids and values as any client sent them)."""
    values = values if isinstance(values, list) else []
    options = {}
    for ident, value in zip(option_ids if isinstance(option_ids, list) else [], values):
        named = isinstance(ident, dict) and ident.get("product") == product and isinstance(ident.get("option"), str)
        if named and isinstance(value, str):
            options[ident["option"]] = value
    return options


@callback(
    Output(SUMMARY, "children"),
    Output({"type": OPTION, "product": ALL, "option": ALL}, "options"),
    Output({"type": GROUP, "product": ALL}, "hidden"),
    Output(ORDER, "disabled"),
    Input(PRODUCT, "value"),
    Input({"type": OPTION, "product": ALL, "option": ALL}, "value"),
    State({"type": OPTION, "product": ALL, "option": ALL}, "id"),
    State({"type": GROUP, "product": ALL}, "id"),
    State(SESSION, "data"),
    prevent_initial_call=True,
)
def configure(product, values, option_ids, group_ids, visit):
    """Check a changed configuration in the server; show what it adds, its dates, what rules rule out; save the wish."""
    session, lang = _visit(visit)
    t = CONFIGURE_TEXTS[lang]
    offer = _offer()
    option_ids = option_ids if isinstance(option_ids, list) else []
    groups = [not (isinstance(g, dict) and g.get("product") == product) for g in group_ids or []]
    items = {pid: choice_items(p, chosen_options(pid, values, option_ids), lang, t) for pid, p in offer.items()}
    pickers = [
        items.get(str(i.get("product")), {}).get(str(i.get("option")), []) if isinstance(i, dict) else []
        for i in option_ids
    ]
    if product not in offer:
        return [], pickers, groups, True
    summary, off = _summary(product, chosen_options(product, values, option_ids), lang, save_as=session or None)
    return summary, pickers, groups, off


@callback(
    Output(RESULT, "children"),
    Input(ORDER, "n_clicks"),
    State({"type": OPTION, "product": ALL, "option": ALL}, "value"),
    State({"type": OPTION, "product": ALL, "option": ALL}, "id"),
    State(PRODUCT, "value"),
    State(SESSION, "data"),
    prevent_initial_call=True,
)
def order(n_clicks, values, option_ids, product, visit):
    """Place the order (checked again in the server, like any request) and show the unit's ID card."""
    if not n_clicks:
        return dash.no_update
    session, lang = _visit(visit)
    options = chosen_options(product, values, option_ids)
    body = {"product": product, "options": options, "language": lang, "session": session}
    answer = place_order(services(), body, client_key(), secret(), flask.request.host_url)
    if answer.status != 201:
        said = CONFIGURE_TEXTS[lang].get(answer.body["error"], answer.body["detail"])
        return html.P(said, className="cfg-problem", id="cfg-refused")
    return id_card(answer.body, CONFIGURE_TEXTS[lang], lang)
