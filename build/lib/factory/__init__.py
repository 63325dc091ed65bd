"""What the events mean: plant layout, state projection, views (and later KPIs and history)."""
