"""The Dash app's pieces: live push, access decisions, component builders and one file per page."""
