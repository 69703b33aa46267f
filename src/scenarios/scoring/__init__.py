"""Forecast verification scores (imports only numpy and scipy); see :mod:`scenarios.scoring.scores`
and, for recalibration maps, :mod:`scenarios.scoring.recalibration`."""

from .recalibration import (
    DEFAULT_MIN_OUTCOMES,
    DEFAULT_PRIOR_SD,
    RecalibrationMap,
    fit_recalibration,
    recalibrate,
)
from .scores import *  # noqa: F403
from .scores import __all__ as __scores_all__

__all__ = [*__scores_all__, "DEFAULT_MIN_OUTCOMES", "DEFAULT_PRIOR_SD", "RecalibrationMap", "fit_recalibration", "recalibrate"]
