"""End-of-shift reports (/reports[?line=<id>], managers): one PDF and CSV per line and shift, newest first.

The files are written by web.shift_reports into the data directory; this page lists those of the
lines the person may see (a manager bound to a site: that site's) and links to their download
(``GET /api/reports/<line>/<name>``, which decides access again). Without a data directory
nothing is written, and the page says so.
"""

import dash
from dash import html

from dashboard.components.not_found import sign_in_needed
from dashboard.components.office_header import office_header
from web import auth
from web.services import current_who, services
from web.shift_reports import list_reports, reports_directory

dash.register_page(__name__, path="/reports", title="Shift reports · Transparent Factory")


def _filter(lines, chosen: str | None) -> html.Nav:
    links = [html.A("All lines", href="/reports", className="chosen" if chosen is None else "")]
    links += [
        html.A(line.name, href=f"/reports?line={line.id}", className="chosen" if line.id == chosen else "")
        for line in lines
    ]
    return html.Nav(links, className="reports-filter", id="reports-filter")


def _row(item: dict) -> html.Tr:
    files = item["files"]
    return html.Tr(
        className="report-row",
        children=[
            html.Td(item["date"]),
            html.Td(item["shift"]),
            html.Td(item["line_name"]),
            html.Td(
                [
                    html.A(kind.upper(), href=files[kind], className=f"report-{kind}", download="")
                    for kind in ("pdf", "csv")
                    if kind in files
                ]
            ),
        ],
    )


def layout(line=None, **_query):
    """Return the list of reports, to managers and admins only."""
    who = current_who()
    if not auth.may(who, "reports"):
        return sign_in_needed()
    svc = services()
    plant = svc.plant
    lines = [line_ for line_ in plant.lines if auth.may_see_line(who, line_.id, lambda i: plant.line(i).site_id)]
    chosen = line if isinstance(line, str) and line in {line_.id for line_ in lines} else None
    directory = reports_directory(svc.settings.data_dir)
    shown = [line_.id for line_ in lines if chosen is None or line_.id == chosen]
    items = svc.run(lambda: list_reports(directory, plant, shown))
    if directory is None:
        body: list = [
            html.P(
                "End-of-shift reports need a data directory: this server keeps its history in memory "
                "and writes no files (start it with --data-dir).",
                className="muted",
                id="reports-none",
            )
        ]
    else:
        rows = [_row(item) for item in items]
        body = [
            html.P(f"{len(items):,} report{'' if len(items) == 1 else 's'}", className="muted"),
            html.Table(
                className="reports-table",
                id="reports-table",
                children=[
                    html.Thead(html.Tr([html.Th("Date"), html.Th("Shift"), html.Th("Line"), html.Th("Files")])),
                    html.Tbody(rows or [html.Tr(html.Td("No report yet.", colSpan=4, className="muted"))]),
                ],
            ),
        ]
    return html.Main(
        className="page reports",
        children=[
            office_header("End-of-shift reports"),
            _filter(lines, chosen),
            *body,
        ],
    )
