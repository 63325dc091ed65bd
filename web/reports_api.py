"""REST endpoints of the end-of-shift reports (web.shift_reports): the list, and each file.

Managers and admins only; a manager bound to a site sees that site's lines. A file is found by
its line (a line of the plant) and its name (``<local date>_<shift>.pdf|csv``, nothing else),
so no path a client sends ever reaches the file system. The files are served as they were
written: each CSV went through web.csv_safe when its report was made (shift_reports.report_csv).
"""

from __future__ import annotations

import flask

from web import auth
from web.api_spec import Param, api
from web.hardening import error
from web.services import current_who, services
from web.shift_reports import NAME_PATTERN, list_reports, report_file, reports_directory

blueprint = flask.Blueprint("reports_api", __name__, url_prefix="/api")
MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv"}


def _refusal(line_id: str | None) -> flask.Response | None:
    """The answer for someone who may not see the reports (of ``line_id``), else None."""
    who = current_who()
    if who is None:
        return error(401, "unauthorized", "sign in as a manager")
    if not auth.may(who, "reports"):
        return error(403, "forbidden", "end-of-shift reports are for managers and admins")
    plant = services().plant
    if line_id is not None:
        if not plant.has_line(line_id):
            return error(404, "not_found", "no such line")
        if not auth.may_see_line(who, line_id, lambda i: plant.line(i).site_id):
            return error(403, "forbidden", "your account sees only its own site")
    return None


def visible_lines(line_id: str | None = None) -> list[str]:
    """The lines whose reports the person asking may see (only ``line_id`` when given)."""
    who = current_who()
    plant = services().plant
    return [
        line.id
        for line in plant.lines
        if (line_id is None or line.id == line_id) and auth.may_see_line(who, line.id, lambda i: plant.line(i).site_id)
    ]


@api(
    blueprint,
    "GET",
    "/reports",
    "End-of-shift reports, newest first, with the links of their PDF and CSV (managers)",
    {
        200: "the reports (none without a data directory)",
        401: "not signed in",
        403: "not a manager or admin, or another site's line",
        404: "no such line",
    },
    (Param("line", description="only this line's reports"),),
    auth="session",
    tags=("operations",),
)
def reports_list(line: str | None):
    refusal = _refusal(line)
    if refusal is not None:
        return refusal
    svc = services()
    directory = reports_directory(svc.settings.data_dir)
    lines = visible_lines(line)
    items = svc.run(lambda: list_reports(directory, svc.plant, lines))
    response = flask.jsonify({"written": directory is not None, "reports": items})
    response.headers["Cache-Control"] = "no-store"
    return response


@api(
    blueprint,
    "GET",
    "/reports/<line>/<name>",
    "One end-of-shift report's PDF or CSV (managers)",
    {
        200: "the file",
        400: "not a report's name",
        401: "not signed in",
        403: "not a manager or admin, or another site's line",
        404: "no such line or report",
    },
    (
        Param("line", where="path", description="a line id"),
        Param("name", where="path", description="<local date>_<shift>.pdf or .csv"),
    ),
    auth="session",
    tags=("operations",),
)
def report_download(line: str, name: str):
    refusal = _refusal(line)
    if refusal is not None:
        return refusal
    if NAME_PATTERN.fullmatch(name) is None:
        return error(400, "bad_name", "a report is named <local date>_<shift>.pdf or .csv")
    svc = services()
    path = report_file(reports_directory(svc.settings.data_dir), svc.plant, line, name)
    if path is None:
        return error(404, "not_found", "no such report")
    body = svc.run(path.read_bytes)
    response = flask.Response(body, mimetype=MIMETYPES[name.rsplit(".", 1)[1]])
    # line and name matched their patterns above: nothing a line sent reaches the header
    response.headers["Content-Disposition"] = f'attachment; filename="{line}_{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
