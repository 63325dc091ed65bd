"""Component ids shared by layouts, callbacks and the browser scripts, so a rename is one edit."""

FLOOR_SOCKET = "floor-socket"
FLOOR_STATUS = "floor-status"
FLOOR_WIP = "floor-wip"
FLOOR_TEXTS = "floor-texts"
STATION_UNITS = "station-units"  # pattern id type: {"type": STATION_UNITS, "station": <station id>}
STATION_QUEUE = "station-queue"
STATION_TILE = "station-tile"
FLOOR_KPI = "floor-kpi"  # pattern id type: {"type": FLOOR_KPI, "kpi": <KPI name>}
FLOOR_KPI_PERIOD = "floor-kpi-period"
STATION_STATUS = "station-status"
FLOOR_SETTINGS = "floor-settings"
FLOOR_TICK = "floor-tick"  # a browser-only timer: data ages, stale greying, kiosk rotation
FLOOR_BANNER = "floor-banner"  # the connection banner
FLOOR_ANDON = "floor-andon"
FLOOR_HOURLY = "floor-hourly"
FLOOR_THIS_HOUR = "floor-this-hour"
ANDON_ACK = "andon-ack"  # pattern id type: {"type": ANDON_ACK, "alarm": <alarm id>}
ANDON_ACK_RESULT = "andon-ack-result"
PANEL = "panel"  # pattern id type: {"type": PANEL, "panel": <name>}; its class greys it out when stale
PANEL_AGE = "panel-age"  # pattern id type: {"type": PANEL_AGE, "panel": <name>}

EXEC_RANGE = "exec-range"
EXEC_LINE = "exec-line"
EXEC_STATION = "exec-station"
EXEC_CRUMBS = "exec-crumbs"
EXEC_CRUMB_PLANT = "exec-crumb-plant"
EXEC_CRUMB_LINE = "exec-crumb-line"
EXEC_HEADLINE = "exec-headline"
EXEC_ERROR = "exec-error"
EXEC_CSV = "exec-csv"
EXEC_DOWNLOAD = "exec-download"
EXEC_CHART = "exec-chart"  # pattern id type: {"type": EXEC_CHART, "chart": <chart name>}

ORDERS_GRID = "orders-grid"
ORDERS_SEARCH = "orders-search"
ORDERS_COUNT = "orders-count"
ORDERS_REFRESH = "orders-refresh"

TRACK_SOCKET = "track-socket"
TRACK_STATUS = "track-status"
TRACK_HEADLINE = "track-headline"
TRACK_TEXTS = "track-texts"
TRACK_ETA = "track-eta"
TRACK_STEP = "track-step"  # pattern id type: {"type": TRACK_STEP, "station": <station id>}
TRACK_STEP_TIME = "track-step-time"


def station_units(station_id) -> dict:
    """Return the id of the unit list inside a station tile."""
    return {"type": STATION_UNITS, "station": station_id}


def station_queue(station_id) -> dict:
    """Return the id of the queue counter of a station tile."""
    return {"type": STATION_QUEUE, "station": station_id}


def floor_kpi(name) -> dict:
    """Return the id of one KPI value on the floor screen."""
    return {"type": FLOOR_KPI, "kpi": name}


def station_tile(station_id) -> dict:
    """Return the id of a station tile (its class carries the station's state)."""
    return {"type": STATION_TILE, "station": station_id}


def station_status(station_id) -> dict:
    """Return the id of the state label of a station tile."""
    return {"type": STATION_STATUS, "station": station_id}


def andon_ack(alarm_id) -> dict:
    """Return the id of the acknowledge button of one alarm."""
    return {"type": ANDON_ACK, "alarm": alarm_id}


def panel(name) -> dict:
    """Return the id of a floor panel (andon, kpis, map, hourly)."""
    return {"type": PANEL, "panel": name}


def panel_age(name) -> dict:
    """Return the id of the "updated … ago" line of a floor panel."""
    return {"type": PANEL_AGE, "panel": name}


def exec_chart(name) -> dict:
    """Return the id of one chart of the executive page."""
    return {"type": EXEC_CHART, "chart": name}


def track_step(station_id) -> dict:
    """Return the id of one station step in the tracker's stepper."""
    return {"type": TRACK_STEP, "station": station_id}


def track_step_time(station_id) -> dict:
    """Return the id of a step's entered/left times."""
    return {"type": TRACK_STEP_TIME, "station": station_id}
