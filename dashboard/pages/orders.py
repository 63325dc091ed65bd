"""Orders (/orders, managers): every known order with its status and ETA, searchable and sortable.

Times are each site's local time. The grid (dash-ag-grid) filters and sorts in the browser; rows come
from the live state when the
page opens and again on "Refresh". Each row links to the customer's tracker, which a manager
may open to see what the customer sees.
"""

import dash
import dash_ag_grid as dag
from dash import ClientsideFunction, Input, Output, State, callback, dcc, html

from dashboard import ids
from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from streams.codec import parse_time
from web import auth
from web.services import current_who, services

dash.register_page(__name__, path="/orders", title="Orders · Transparent Factory")

COLUMNS = [
    {"field": "order_id", "headerName": "Order", "pinned": "left", "width": 150},
    {
        "field": "tracker",
        "headerName": "Tracker",
        "cellRenderer": "markdown",
        "sortable": False,
        "filter": False,
        "pinned": "left",
        "width": 100,
    },
    {"field": "unit_code", "headerName": "Unit", "width": 170},
    {"field": "line", "headerName": "Line"},
    {"field": "status", "headerName": "Status", "width": 130},
    {"field": "where", "headerName": "At / next station"},
    {"field": "placed", "headerName": "Placed ", "sort": "desc"},
    {"field": "eta", "headerName": "ETA "},
    {"field": "completed", "headerName": "Completed "},
    {"field": "shipped", "headerName": "Shipped "},
    {"field": "options", "headerName": "Options", "width": 320},
]


def _allowed() -> bool:
    return auth.may(current_who(), "orders")


TIMES = ("placed", "eta", "completed", "shipped")


def _rows() -> list[dict]:
    svc = services()
    who = current_who()
    plant = svc.plant
    rows = [row for row in svc.queries.orders() if who is not None and who.site_id in (None, row["site"])]
    for row in rows:
        token = row.pop("token")
        row["tracker"] = f"[open](/track/{token})" if token else ""
        tz = plant.site(row["site"]).tz
        for key in TIMES:  # site time, minute precision: sorts as text and reads at a glance
            if row[key]:
                row[key] = parse_time(row[key]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return rows


def layout(**_query):
    """Return the orders grid, to managers and admins only."""
    if not _allowed():
        return sign_in_needed()
    rows = _rows()
    return html.Main(
        className="page orders",
        children=[
            office_header("Orders"),
            html.Div(
                className="exec-controls",
                children=[
                    dcc.Input(
                        id=ids.ORDERS_SEARCH,
                        type="search",
                        placeholder="Search order, unit, status, station…",
                        debounce=False,
                        className="orders-search",
                    ),
                    html.Button("Refresh", id=ids.ORDERS_REFRESH, className="button"),
                    html.Span(f"{len(rows):,} orders", id=ids.ORDERS_COUNT, className="muted"),
                ],
            ),
            dag.AgGrid(
                id=ids.ORDERS_GRID,
                rowData=rows,
                columnDefs=COLUMNS,
                defaultColDef={"sortable": True, "resizable": True, "filter": True},
                dashGridOptions={
                    "pagination": True,
                    "paginationPageSize": 50,
                    "animateRows": False,
                    "enableCellTextSelection": True,
                },
                style={"height": "calc(100vh - 11rem)"},
                className="ag-theme-alpine",
            ),
        ],
    )


# Search is the grid's quick filter, applied in the browser: no round trip per keystroke.
dash.clientside_callback(
    ClientsideFunction(namespace="tf", function_name="quickFilter"),
    Output(ids.ORDERS_GRID, "dashGridOptions"),
    Input(ids.ORDERS_SEARCH, "value"),
    State(ids.ORDERS_GRID, "dashGridOptions"),
    prevent_initial_call=True,
)


@callback(
    Output(ids.ORDERS_GRID, "rowData"),
    Output(ids.ORDERS_COUNT, "children"),
    Input(ids.ORDERS_REFRESH, "n_clicks"),
    prevent_initial_call=True,
)
def refresh(_clicks):
    """Reload the rows from the live state, for managers only."""
    if not _allowed():
        return [], "Sign in as a manager to see orders."
    rows = _rows()
    return rows, f"{len(rows):,} orders"
