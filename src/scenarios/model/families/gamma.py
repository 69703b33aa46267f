"""``gamma: {shape, scale}``, ``{shape, rate}`` or ``{ci90: [low, high]}``."""

from __future__ import annotations

import math

import numpy as np

from ..schema import check_keys, check_number, check_pair, excerpt
from .base import Domain, Family, register


def gamma_ci90(low: float, high: float) -> tuple[float, float]:
    """(shape, scale) of the gamma whose 5th and 95th percentiles are ``low`` and ``high``.

    The ratio high/low fixes the shape (it falls monotonically in the shape); solved with
    ``scipy.optimize.brentq``, then the scale matches the 5th percentile.
    """
    from scipy import optimize, special

    ratio = high / low
    if not math.isfinite(ratio):
        raise ValueError("interval too wide for a gamma distribution")
    target = math.log(ratio)

    def gap(log_shape: float) -> float:
        k = math.exp(log_shape)
        q05 = float(special.gammaincinv(k, 0.05))
        q95 = float(special.gammaincinv(k, 0.95))
        if not q05 > 0 or not math.isfinite(q95 / q05):  # tiny shapes: the ratio is astronomically large
            return 1e6
        return math.log(q95 / q05) - target

    lo, hi = -10.0, 15.0
    if gap(lo) < 0:  # extremely wide interval: shape below e^-10
        raise ValueError("interval too wide for a gamma distribution")
    if gap(hi) > 0:
        raise ValueError("interval too narrow for a gamma distribution")
    shape = math.exp(optimize.brentq(gap, lo, hi, xtol=1e-12))
    scale = low / special.gammaincinv(shape, 0.05)
    return shape, scale


@register
class Gamma(Family):
    """Gamma with shape and scale (``rate`` = 1 / scale)."""

    key = "gamma"
    params = ("shape", "scale")
    domains = {"shape": Domain("a shape", 0.0, lo_open=True), "scale": Domain("a scale", 0.0, lo_open=True)}
    truncatable = True
    forms = "{shape, scale}, {shape, rate} or {ci90}"

    def parse(self, body, at, reader):
        check_keys(body, at, ("shape", "scale", "rate", "ci90"), what=self.forms)
        if set(body) == {"ci90"}:
            lo, hi = check_pair(body["ci90"], at.key("ci90"), what="a 90% interval")
            if lo <= 0:
                raise at.key("ci90").error(f"expected [low, high] with 0 < low < high for a gamma, got {excerpt(list(body['ci90']))}")
            try:
                k, th = gamma_ci90(lo, hi)
            except ValueError as exc:
                raise at.key("ci90").error(str(exc)) from None
            return reader.constant(k, at), reader.constant(th, at)
        if set(body) == {"shape", "scale"}:
            return super().parse(body, at, reader)
        if set(body) == {"shape", "rate"}:
            rate = check_number(body["rate"], at.key("rate"), what="a rate", lo=0, lo_open=True)
            return reader.param(body["shape"], at.key("shape"), self.domain("shape")), reader.constant(1.0 / rate, at)
        raise at.error(f"expected {self.forms}, got keys {sorted(body)}")

    def sample(self, rng, n, params):
        return rng.gamma(params[0], params[1], n)

    def cdf(self, params, t, left=False):
        from scipy import special

        k, th = params
        return np.where(t > 0, special.gammainc(k, np.where(t > 0, t, 0.0) / th), 0.0)

    def ppf(self, params, q):
        from scipy import special

        return params[1] * special.gammaincinv(params[0], q)
