"""``geometric: {p}`` (or ``geometric: p``): the number of trials to the first success, 1, 2, ..."""

from __future__ import annotations

import numpy as np

from .base import Domain, Family, register


@register
class Geometric(Family):
    """Trials to the first success with success probability ``p`` per trial, on {1, 2, ...}."""

    key = "geometric"
    params = ("p",)
    domains = {"p": Domain("a probability", 0.0, 1.0, lo_open=True)}
    shorthand = True
    discrete = True

    def sample(self, rng, n, params):
        return rng.geometric(params[0], n).astype(np.float64)

    def cdf(self, params, t, left=False):
        k = np.ceil(t) - 1 if left else np.floor(t)
        finite = np.isfinite(k)
        out = 1.0 - (1.0 - params[0]) ** np.where(finite & (k >= 1), k, 1.0)
        return np.where(k < 1, 0.0, np.where(finite, out, 1.0))

    def ppf(self, params, q):
        from scipy import stats  # slow to import: only for these rare delays

        return stats.geom(params[0]).ppf(q)
