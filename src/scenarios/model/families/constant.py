"""``constant: v``: a fixed value (or any value: a node, an expression, an inline distribution)."""

from __future__ import annotations

import numpy as np

from .base import Domain, Family, register


def _step(values, t, left: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.asarray(v < t if left else v <= t, dtype=float)


@register
class Constant(Family):
    """The value itself: the compiler uses the parameter as the node (nothing is drawn)."""

    key = "constant"
    params = ("value",)
    domains = {"value": Domain("a number", finite=False)}  # constant: never is an event that never happens
    shorthand = True
    discrete = True
    passthrough = True

    def parse(self, body, at, reader):
        if isinstance(body, bool):
            return (reader.constant(body, at),)
        return (reader.param(body, at, self.domain("value")),)

    def sample(self, rng, n, params):
        return np.broadcast_to(np.asarray(params[0], dtype=np.float64), (n,)).copy()

    def cdf(self, params, t, left=False):
        return _step(params[0], t, left)

    def ppf(self, params, q):
        return np.broadcast_to(params[0], q.shape).astype(float)
