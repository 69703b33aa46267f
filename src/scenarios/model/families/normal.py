"""``normal: {mean, sd}`` or ``normal: {ci90: [low, high]}``."""

from __future__ import annotations

import numpy as np

from ..schema import check_keys, check_pair
from .base import Domain, Family, register

Z95 = 1.6448536269514722
"""Standard normal 95th percentile: the half-width of a 90% interval in standard deviations."""


def normal_ci90(low: float, high: float) -> tuple[float, float]:
    """(mean, sd) of the normal whose 5th and 95th percentiles are ``low`` and ``high``.

    >>> normal_ci90(-Z95, Z95)
    (0.0, 1.0)
    """
    return (low + high) / 2, (high - low) / (2 * Z95)


def _step(values, t, left: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.asarray(v < t if left else v <= t, dtype=float)


@register
class Normal(Family):
    """Normal with mean and standard deviation (sd = 0: the mean itself)."""

    key = "normal"
    params = ("mean", "sd")
    domains = {"sd": Domain("a standard deviation", 0.0)}
    truncatable = True
    forms = "{mean, sd} or {ci90}"

    def parse(self, body, at, reader):
        check_keys(body, at, ("mean", "sd", "ci90"), what=self.forms)
        if set(body) == {"ci90"}:
            m, s = normal_ci90(*check_pair(body["ci90"], at.key("ci90"), what="a 90% interval"))
            return reader.constant(m, at), reader.constant(s, at)
        if set(body) == {"mean", "sd"}:
            return super().parse(body, at, reader)
        raise at.error(f"expected {self.forms}, got keys {sorted(body)}")

    def sample(self, rng, n, params):
        return rng.normal(params[0], params[1], n)

    def cdf(self, params, t, left=False):
        from scipy import special

        m, s = params
        return np.where(s > 0, special.ndtr((t - m) / s), _step(m, t, left))

    def ppf(self, params, q):
        from scipy import special

        return params[0] + params[1] * special.ndtri(q)
