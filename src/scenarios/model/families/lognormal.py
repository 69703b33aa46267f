"""``lognormal: {mu, sigma}`` or ``{ci90: [low, high]}``, and the ``ci90: [low, high]`` shorthand."""

from __future__ import annotations

import math

import numpy as np

from ..schema import check_keys, check_pair, excerpt
from .base import Domain, Family, register
from .normal import Z95


def lognormal_ci90(low: float, high: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal whose 5th and 95th percentiles are ``low`` and ``high``.

    >>> mu, sigma = lognormal_ci90(1.0, math.e ** (2 * Z95))
    >>> round(mu, 6), round(sigma, 6)
    (1.644854, 1.0)
    """
    return (math.log(low) + math.log(high)) / 2, (math.log(high) - math.log(low)) / (2 * Z95)


def _step(values, t, left: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.asarray(v < t if left else v <= t, dtype=float)


def read_ci90(raw, at, reader, family: str) -> tuple:
    """(mu, sigma) parameters from ``[low, high]`` with 0 < low < high."""
    lo, hi = check_pair(raw, at, what="a 90% interval")
    if lo <= 0:
        raise at.error(f"expected [low, high] with 0 < low < high for a {family}, got {excerpt(list(raw))}")
    mu, sigma = lognormal_ci90(lo, hi)
    return reader.constant(mu, at), reader.constant(sigma, at)


@register
class LogNormal(Family):
    """exp(Normal(mu, sigma)): a positive quantity whose order of magnitude is uncertain."""

    key = "lognormal"
    params = ("mu", "sigma")
    domains = {"sigma": Domain("sigma", 0.0)}
    truncatable = True
    forms = "{mu, sigma} or {ci90}"

    def parse(self, body, at, reader):
        check_keys(body, at, ("mu", "sigma", "ci90"), what=self.forms)
        if set(body) == {"ci90"}:
            return read_ci90(body["ci90"], at.key("ci90"), reader, "lognormal")
        if set(body) == {"mu", "sigma"}:
            return super().parse(body, at, reader)
        raise at.error(f"expected {self.forms}, got keys {sorted(body)}")

    def sample(self, rng, n, params):
        return rng.lognormal(params[0], params[1], n)

    def cdf(self, params, t, left=False):
        from scipy import special

        mu, s = params
        logt = np.log(np.where(t > 0, t, 1.0))
        cont = np.where(t > 0, special.ndtr((logt - mu) / s), 0.0)
        return np.where(s > 0, cont, _step(np.exp(mu), t, left))

    def ppf(self, params, q):
        from scipy import special

        return np.exp(params[0] + params[1] * special.ndtri(q))


@register
class Ci90(LogNormal):
    """``ci90: [low, high]``: the lognormal with 5th and 95th percentiles low and high."""

    key = "ci90"
    name = "lognormal"
    forms = "[low, high]"

    def parse(self, body, at, reader):
        return read_ci90(body, at, reader, "lognormal")
