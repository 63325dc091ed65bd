"""Pure builders: view dicts in, Dash components out (testable without a server)."""
