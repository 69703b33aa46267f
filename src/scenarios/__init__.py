"""scenarios: probabilistic scenario models, Monte Carlo forecasts and backtests."""
__version__ = "0.1.0"
