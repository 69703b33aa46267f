"""Forecast verification scores (imports only numpy and scipy); see :mod:`scenarios.scoring.scores`."""

from .scores import *  # noqa: F403
from .scores import __all__  # noqa: F401
