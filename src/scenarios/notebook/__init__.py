"""What the report notebooks call: plot data (pure functions) and the figures drawn from it."""
