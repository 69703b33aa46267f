"""``poisson: {rate}`` (or ``poisson: rate``): whole-number counts with mean ``rate``."""

from __future__ import annotations

import numpy as np

from .base import Domain, Family, register

POISSON_MAX = 1e18
"""The largest rate drawn: numpy refuses rates above about 9.2e18 (its counts are 64-bit
integers), and a count that large has lost every digit a forecast could use anyway."""


@register
class Poisson(Family):
    """Counts 0, 1, 2, ... with mean ``rate``."""

    key = "poisson"
    params = ("rate",)
    domains = {"rate": Domain("a rate", 0.0, POISSON_MAX)}
    shorthand = True
    discrete = True

    def sample(self, rng, n, params):
        return rng.poisson(params[0], n).astype(np.float64)

    def cdf(self, params, t, left=False):
        from scipy import special

        k = np.ceil(t) - 1 if left else np.floor(t)
        finite = np.isfinite(k)
        out = special.gammaincc(np.where(finite & (k >= 0), k, 0.0) + 1.0, params[0])
        return np.where(k < 0, 0.0, np.where(finite, out, 1.0))

    def ppf(self, params, q):
        from scipy import stats  # slow to import: only for these rare delays

        return stats.poisson(params[0]).ppf(q)
