"""What any unknown path shows."""

import dash

from dashboard.components.not_found import not_found

dash.register_page(__name__, path="/404", title="Not found · Transparent Factory")


def layout(**_query):
    """Return the 404 content."""
    return not_found()
