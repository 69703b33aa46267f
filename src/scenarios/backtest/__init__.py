"""Backtest: forecasts as of every date scored against real outcomes; see :mod:`scenarios.backtest.run`."""

from .run import *  # noqa: F403
from .run import __all__  # noqa: F401
