"""Component ids shared by layouts and callbacks, so a rename is one edit.

Live pages address their inner nodes by ``data-*`` attributes (assets/tf-floor.js, tf-track.js);
the ids here are those Dash callbacks need.
"""

FLOOR_SETTINGS = "floor-settings"
FLOOR_SINK = "floor-sink"  # the output of clientside callbacks that only draw (always no_update)
FLOOR_HOURLY = "floor-hourly"

EXEC_RANGE = "exec-range"
EXEC_SITE = "exec-site"
EXEC_LINE = "exec-line"
EXEC_STATION = "exec-station"
EXEC_CRUMBS = "exec-crumbs"
EXEC_CRUMB_PLANT = "exec-crumb-plant"
EXEC_HEADLINE = "exec-headline"
EXEC_ERROR = "exec-error"
EXEC_CSV = "exec-csv"
EXEC_DOWNLOAD = "exec-download"
EXEC_CHART = "exec-chart"  # pattern id type: {"type": EXEC_CHART, "chart": <chart name>}

ORDERS_GRID = "orders-grid"
ORDERS_SEARCH = "orders-search"
ORDERS_COUNT = "orders-count"
ORDERS_REFRESH = "orders-refresh"

TRACK_SETTINGS = "track-settings"
TRACK_STATUS = "track-status"
TRACK_SINK = "track-sink"

DEMAND_PRODUCT = "demand-product"
DEMAND_RANGE = "demand-range"
DEMAND_LANG = "demand-lang"
DEMAND_CONTENT = "demand-content"


def exec_chart(name) -> dict:
    """Return the id of one chart of the executive page."""
    return {"type": EXEC_CHART, "chart": name}


JOURNEY_SETTINGS = "journey-settings"
JOURNEY_SINK = "journey-sink"
WHATIF_LINE = "whatif-line"
WHATIF_CHANGES = "whatif-changes"
WHATIF_DAYS = "whatif-days"
WHATIF_REPLICATIONS = "whatif-replications"
WHATIF_DEMAND = "whatif-demand"
WHATIF_RUN = "whatif-run"
WHATIF_MESSAGE = "whatif-message"
WHATIF_STUDY = "whatif-study"
WHATIF_TICK = "whatif-tick"
WHATIF_VIEW = "whatif-view"
ALARMS_LINE = "alarms-line"
ALARMS_SPAN = "alarms-span"
ALARMS_PRIORITY = "alarms-priority"
ALARMS_KIND = "alarms-kind"
ALARMS_REFRESH = "alarms-refresh"
ALARMS_STATUS = "alarms-status"
ALARMS_CSV = "alarms-csv"
ALARMS_GRID = "alarms-grid"
ALARMS_HOURLY = "alarms-hourly"
SHELVE_LINE = "shelve-line"
SHELVE_STATION = "shelve-station"
SHELVE_KIND = "shelve-kind"
SHELVE_MINUTES = "shelve-minutes"
SHELVE_REASON = "shelve-reason"
SHELVE_BUTTON = "shelve-button"
SHELVE_RESULT = "shelve-result"
SHELVED_LIST = "shelved-list"
UNSHELVE = "unshelve"


def unshelve_button(point: str) -> dict:
    """Return the id of the button that unshelves one alarm point ("line/station/kind")."""
    return {"type": UNSHELVE, "point": point}


DOWNTIME_REASON = "downtime-reason"  # pattern id types: {"type": ..., "stop": "line|station|machine|since"}
DOWNTIME_NOTE = "downtime-note"
DOWNTIME_SAVE = "downtime-save"
DOWNTIME_STATUS = "downtime-status"
DOWNTIME_FLASH = "downtime-flash"  # what the last save did, above the table
