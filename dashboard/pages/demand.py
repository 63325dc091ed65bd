"""Demand (/demand, executives): what customers wish for, per product, from orders and configurator visits.

The most frequent option combinations, how concentrated demand is, the variants k-modes suggests
with the share of demand each serves, and the trend per day (factory/demand.py over the wishes
of factory/history/wishes.py; definitions in docs/kpis.md, "Demand"). Every layout and callback
asks auth on the server: an executive or admin bound to no site (web.auth.may_see_demand).
"""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import ids
from dashboard.components.demand_figures import content
from dashboard.components.not_found import sign_in_needed
from dashboard.i18n import DEMAND_TEXTS, language
from factory.demand import ProductDemand
from factory.history.wishes import latest_demand
from factory.layout import text
from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/demand", title="Demand · Transparent Factory")

RANGES = (7, 30, 90, 365)  # days back from the latest wish; 0: everything recorded
DEFAULT_DAYS = 30


def _analysis(days: int) -> dict[str, ProductDemand]:
    """Return the demand per product over the last ``days`` days before the latest wish (0: all)."""
    svc = services()
    return svc.run(lambda: latest_demand(svc.history, svc.plant, days))


def _days(value) -> int:
    return value if isinstance(value, int) and (value in RANGES or value == 0) else DEFAULT_DAYS


def layout(lang=None, **_query):
    """Return the demand page, to executives and admins bound to no site only."""
    who = current_who()
    if who is None or not auth.may(who, "demand"):
        return sign_in_needed()
    lang = language(lang)
    t = DEMAND_TEXTS[lang]
    if not auth.may_see_demand(who):
        return html.Main(className="page demand", children=[html.H1(t["title"]), html.P(t["enterprise_only"])])
    plant = services().plant
    found = _analysis(DEFAULT_DAYS)
    # The first view comes with the page (as on /exec); the most wished product first.
    product = max(found, key=lambda p: found[p].wishes) if found else next(iter(plant.products))
    return html.Main(
        className="page exec demand",
        lang=lang,
        children=[
            html.Header(
                className="exec-header",
                children=[
                    html.H1(t["title"]),
                    html.Nav(
                        [
                            html.A(t["performance"], href="/exec"),
                            html.A(t["switch"], href=f"/demand?lang={t['switch_to']}", hrefLang=t["switch_to"]),
                            html.A(t["sign_out"], href="/logout"),
                        ],
                        className="exec-nav",
                    ),
                ],
            ),
            dcc.Store(id=ids.DEMAND_LANG, data=lang),
            html.Div(
                className="exec-controls",
                children=[
                    html.Label(t["product"], htmlFor=ids.DEMAND_PRODUCT),
                    dcc.Dropdown(
                        id=ids.DEMAND_PRODUCT,
                        options=[{"label": text(p.names, lang), "value": pid} for pid, p in plant.products.items()],
                        value=product,
                        clearable=False,
                        className="exec-dropdown",
                    ),
                    html.Label(t["range"], htmlFor=ids.DEMAND_RANGE),
                    dcc.Dropdown(
                        id=ids.DEMAND_RANGE,
                        options=[
                            *({"label": t["days"].format(n=n), "value": n} for n in RANGES),
                            {"label": t["all"], "value": 0},
                        ],
                        value=DEFAULT_DAYS,
                        clearable=False,
                        className="exec-dropdown",
                    ),
                ],
            ),
            dcc.Loading(type="dot", children=html.Div(_shown(found, product, t, lang), id=ids.DEMAND_CONTENT)),
        ],
    )


def _shown(found: dict[str, ProductDemand], product: str, t: dict[str, str], lang: str) -> list:
    if not found:
        return [html.P(t["empty"], className="demand-empty")]
    if not isinstance(product, str) or product not in found:
        return [html.P(t["empty_product"], className="demand-empty")]
    return content(found[product], services().plant.products[product], t, lang)


@callback(
    Output(ids.DEMAND_CONTENT, "children"),
    Input(ids.DEMAND_PRODUCT, "value"),
    Input(ids.DEMAND_RANGE, "value"),
    State(ids.DEMAND_LANG, "data"),
    prevent_initial_call=True,  # the page's layout carries the first view
)
def show(product, days, lang):
    """Show one product's demand over the chosen range."""
    if not auth.may_see_demand(current_who()):
        return []
    lang = language(lang if isinstance(lang, str) else None)
    return _shown(_analysis(_days(days)), product, DEMAND_TEXTS[lang], lang)
