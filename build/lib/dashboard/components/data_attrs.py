"""HTML ``data-*`` attributes for Dash components.

Dash accepts them only as keyword arguments whose names contain a hyphen, so they are passed
with ``**data(station="assembly")``; typed as ``Any`` because Dash's signatures type every
other keyword precisely.
"""

from typing import Any


def data(**values: str) -> dict[str, Any]:
    """Return ``data-<name>`` attributes (underscores in a name become hyphens)."""
    return {f"data-{name.replace('_', '-')}": value for name, value in values.items()}
