"""``beta: {a, b}`` or ``beta: {mean, concentration}``: a probability that differs between worlds."""

from __future__ import annotations

import numpy as np

from ..schema import check_keys, check_number, excerpt
from .base import Domain, Family, register


def beta_from_mean(mean: float, concentration: float) -> tuple[float, float]:
    """(a, b) of a beta distribution with the given mean and concentration a + b.

    >>> beta_from_mean(0.8, 15)
    (12.0, 3.0000000000000004)
    """
    return mean * concentration, (1 - mean) * concentration


@register
class Beta(Family):
    """Beta(a, b) on [0, 1]; ``{mean, concentration}`` gives a = mean c, b = (1 - mean) c."""

    key = "beta"
    params = ("a", "b")
    domains = {"a": Domain("a number", 0.0, lo_open=True), "b": Domain("a number", 0.0, lo_open=True)}
    truncatable = True
    forms = "{a, b} or {mean, concentration}"

    def parse(self, body, at, reader):
        check_keys(body, at, ("a", "b", "mean", "concentration"), what=self.forms)
        if set(body) == {"a", "b"}:
            return super().parse(body, at, reader)
        if set(body) == {"mean", "concentration"}:
            m = check_number(body["mean"], at.key("mean"), what="a mean in (0, 1)", lo=0, hi=1, lo_open=True)
            if m >= 1:
                raise at.key("mean").error(f"expected a mean in (0, 1), got {excerpt(m)}")
            c = check_number(body["concentration"], at.key("concentration"), what="a concentration", lo=0, lo_open=True)
            a, b = beta_from_mean(m, c)
            return reader.constant(a, at), reader.constant(b, at)
        raise at.error(f"expected {self.forms}, got keys {sorted(body)}")

    def sample(self, rng, n, params):
        return rng.beta(params[0], params[1], n)

    def cdf(self, params, t, left=False):
        from scipy import special

        a, b = params
        return special.betainc(a, b, np.clip(t, 0.0, 1.0))

    def ppf(self, params, q):
        from scipy import special

        return special.betaincinv(params[0], params[1], q)
