"""Options any numeric family takes, applied in this order: truncate, round, shift, clip.

``truncate: [lo, hi]`` draws given lo <= x <= hi (exactly, through the family's CDF and its
inverse), ``round`` maps to whole numbers (floor, ceil or nearest), ``shift`` adds a constant and
``clip`` caps at the bounds.  The CDF and inverse CDF of the result come from the family's own
(:meth:`Options.cdf`, :meth:`Options.ppf`): there is one CDF per family, used both to draw
truncated values and to condition on evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Family

__all__ = ["Options", "ROUNDING"]

ROUNDING = ("floor", "ceil", "nearest")


@dataclass(frozen=True)
class Options:
    """The options of one node's distribution (``None``: not used).

    Attributes
    ----------
    truncate : (float, float) or None
        Bounds (``-inf`` / ``inf`` for an open end).
    round : str or None
        ``floor``, ``ceil`` or ``nearest``.
    shift : float or None
    clip : (float, float) or None
    """

    truncate: tuple | None = None
    round: str | None = None
    shift: float | None = None
    clip: tuple | None = None

    # ------------------------------------------------------------------ drawing
    def sample(self, family: Family, rng: np.random.Generator, n: int, params: tuple) -> np.ndarray:
        """``n`` draws of ``family`` with these options, shape (n,)."""
        if self.truncate is None:
            x = family.sample(rng, n, params)
        else:
            x = self._sample_truncated(family, rng, n, params)
        return self.transform(x)

    def _sample_truncated(self, family, rng, n, params):
        # exact, no rejection loop: u ~ Uniform(F(lo), F(hi)), x = F^{-1}(u)
        lo, hi = self.truncate
        params = tuple(np.broadcast_to(np.asarray(p, dtype=float), (n,)) for p in params)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            f_lo = family.cdf(params, np.full(n, lo), True) if math.isfinite(lo) else 0.0
            f_hi = family.cdf(params, np.full(n, hi), False) if math.isfinite(hi) else 1.0
            u = f_lo + (f_hi - f_lo) * rng.random(n)
            x = family.ppf(params, u)
        return np.clip(x, lo, hi)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the options after the draw (and truncation): round, then shift, then clip."""
        if self.round is not None:
            x = {"floor": np.floor, "ceil": np.ceil, "nearest": np.round}[self.round](x)
        if self.shift is not None:
            x = x + self.shift
        if self.clip is not None:
            x = np.clip(x, self.clip[0], self.clip[1])
        return x

    # ------------------------------------------------------------------ CDF and inverse
    def _truncated_cdf(self, family, params, u, left):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.truncate is None:
                return family.cdf(params, u, left)
            lo, hi = self.truncate
            n = len(u)
            f_lo = family.cdf(params, np.full(n, lo), True) if math.isfinite(lo) else 0.0
            f_hi = family.cdf(params, np.full(n, hi), False) if math.isfinite(hi) else 1.0
            inner = np.clip((family.cdf(params, np.minimum(u, hi), False) - f_lo) / (f_hi - f_lo), 0.0, 1.0)
        return np.where(u < lo, 0.0, np.where(u >= hi, 1.0, inner))

    def cdf(self, family: Family, params: tuple, t: np.ndarray, left: bool = False) -> np.ndarray:
        """P(X <= t) (P(X < t) with ``left``) per world; parameters and ``t`` of shape (n,)."""
        u = t - self.shift if self.shift is not None else t
        # ceil(W) <= t <=> W <= floor(t); floor(W) <= t <=> W < floor(t) + 1;
        # round(W) <= t <=> W < floor(t) + 1/2 (ties have probability 0, or W is a whole number)
        if self.round is None:
            inner = self._truncated_cdf(family, params, u, left)
        elif self.round == "ceil":
            inner = self._truncated_cdf(family, params, np.ceil(u) - 1 if left else np.floor(u), False)
        elif self.round == "floor":
            inner = self._truncated_cdf(family, params, np.ceil(u) if left else np.floor(u) + 1, True)
        else:
            inner = self._truncated_cdf(family, params, np.ceil(u) - 0.5 if left else np.floor(u) + 0.5, True)
        if self.clip is None:
            return inner
        a, b = self.clip
        if left:
            return np.where(t <= a, 0.0, np.where(t > b, 1.0, inner))
        return np.where(t < a, 0.0, np.where(t >= b, 1.0, inner))

    def ppf(self, family: Family, params: tuple, q: np.ndarray) -> np.ndarray:
        """The left-continuous inverse of :meth:`cdf` per world (q and parameters of shape (n,))."""
        # every option is a non-decreasing map, so it commutes with the quantile function
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.truncate is not None:
                lo, hi = self.truncate
                n = len(q)
                f_lo = family.cdf(params, np.full(n, lo), True) if math.isfinite(lo) else 0.0
                f_hi = family.cdf(params, np.full(n, hi), False) if math.isfinite(hi) else 1.0
                x = np.clip(family.ppf(params, f_lo + q * (f_hi - f_lo)), lo, hi)
            else:
                x = family.ppf(params, q)
        return self.transform(x)
