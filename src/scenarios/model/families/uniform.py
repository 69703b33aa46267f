"""``uniform: {low, high}`` or ``uniform: [low, high]``: every value between equally likely."""

from __future__ import annotations

import numpy as np

from ..schema import check_pair
from .base import Family, register


@register
class Uniform(Family):
    """Continuous uniform on [low, high]."""

    key = "uniform"
    params = ("low", "high")
    truncatable = True
    forms = "{low, high} or [low, high]"

    def parse(self, body, at, reader):
        if isinstance(body, list | tuple):
            lo, hi = check_pair(body, at, what="bounds")
            return reader.constant(lo, at), reader.constant(hi, at)
        lo, hi = super().parse(body, at, reader)
        a, b = reader.static(lo), reader.static(hi)
        if a is not None and b is not None and a >= b:
            raise at.error(f"expected low < high, got low={a:g}, high={b:g}")
        return lo, hi

    def sample(self, rng, n, params):
        return rng.uniform(params[0], params[1], n)

    def cdf(self, params, t, left=False):
        lo, hi = params
        return np.clip((t - lo) / (hi - lo), 0.0, 1.0)

    def ppf(self, params, q):
        return params[0] + q * (params[1] - params[0])
