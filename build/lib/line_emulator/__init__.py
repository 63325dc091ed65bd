"""The simulated plant: SimPy processes that emit typed events and know nothing of their sinks."""
