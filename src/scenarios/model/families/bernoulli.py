"""``bernoulli: {p}`` (or ``bernoulli: p``): true with probability p."""

from __future__ import annotations

import numpy as np

from .base import Domain, Family, register


@register
class Bernoulli(Family):
    """True with probability ``p``; as a number, 1 with probability p and 0 otherwise."""

    key = "bernoulli"
    params = ("p",)
    domains = {"p": Domain("a probability", 0.0, 1.0)}
    shorthand = True
    discrete = True
    boolean = True

    def sample(self, rng, n, params):
        return rng.random(n) < params[0]

    def cdf(self, params, t, left=False):
        q = 1.0 - params[0]
        if left:
            return np.where(t <= 0, 0.0, np.where(t <= 1, q, 1.0))
        return np.where(t < 0, 0.0, np.where(t < 1, q, 1.0))

    def ppf(self, params, q):
        return (q > 1.0 - params[0]).astype(float)
