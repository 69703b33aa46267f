"""Probability distributions: vectorised samplers and forecaster-friendly parameterisations.

Parameters are either plain floats or per-world arrays of shape (n,), so the same code draws
with fixed parameters and with parameter uncertainty (theta ~ Beta, then Bernoulli(theta)).
Forecaster-friendly constructors turn a 90% interval into parameters (:func:`lognormal_ci90`).
scipy is imported only by the functions that need it (truncation, gamma from a ci90).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Z95",
    "lognormal_ci90",
    "normal_ci90",
    "gamma_ci90",
    "beta_from_mean",
    "sample_family",
    "FAMILIES",
    "TRUNCATABLE",
    "sample_truncated",
    "sample_categorical",
    "sample_dirichlet",
]

Z95 = 1.6448536269514722
"""Standard normal 95th percentile: the half-width of a 90% interval in standard deviations."""


def lognormal_ci90(low: float, high: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal whose 5th and 95th percentiles are ``low`` and ``high``.

    >>> mu, sigma = lognormal_ci90(1.0, math.e ** (2 * Z95))
    >>> round(mu, 6), round(sigma, 6)
    (1.644854, 1.0)
    """
    return (math.log(low) + math.log(high)) / 2, (math.log(high) - math.log(low)) / (2 * Z95)


def normal_ci90(low: float, high: float) -> tuple[float, float]:
    """(mean, sd) of the normal whose 5th and 95th percentiles are ``low`` and ``high``."""
    return (low + high) / 2, (high - low) / (2 * Z95)


def gamma_ci90(low: float, high: float) -> tuple[float, float]:
    """(shape, scale) of the gamma whose 5th and 95th percentiles are ``low`` and ``high``.

    The ratio high/low fixes the shape (it falls monotonically in the shape); solved with
    ``scipy.optimize.brentq``, then the scale matches the 5th percentile.
    """
    from scipy import optimize, special

    target = math.log(high / low)

    def gap(log_shape: float) -> float:
        k = math.exp(log_shape)
        q05 = special.gammaincinv(k, 0.05)
        q95 = special.gammaincinv(k, 0.95)
        if not q05 > 0:  # underflow at tiny shapes: the ratio is astronomically large
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


def beta_from_mean(mean: float, concentration: float) -> tuple[float, float]:
    """(a, b) of a beta distribution with the given mean and concentration a + b."""
    return mean * concentration, (1 - mean) * concentration


def _bernoulli(rng, n, p):
    return rng.random(n) < p


def _poisson(rng, n, rate):
    return rng.poisson(rate, n).astype(np.float64)


def _geometric(rng, n, p):
    return rng.geometric(p, n).astype(np.float64)


def _constant(rng, n, value):
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


FAMILIES = {
    # family: (parameter names in sampler order, sampler(rng, n, *params))
    "constant": (("value",), _constant),
    "bernoulli": (("p",), _bernoulli),
    "beta": (("a", "b"), lambda rng, n, a, b: rng.beta(a, b, n)),
    "uniform": (("low", "high"), lambda rng, n, lo, hi: rng.uniform(lo, hi, n)),
    "normal": (("mean", "sd"), lambda rng, n, m, s: rng.normal(m, s, n)),
    "lognormal": (("mu", "sigma"), lambda rng, n, m, s: rng.lognormal(m, s, n)),
    "gamma": (("shape", "scale"), lambda rng, n, k, th: rng.gamma(k, th, n)),
    "poisson": (("rate",), _poisson),
    "geometric": (("p",), _geometric),
}
"""Numeric families; categorical, dirichlet and mixtures are handled in :mod:`scenarios.model.scenario`."""

TRUNCATABLE = ("uniform", "normal", "lognormal", "gamma", "beta")


def sample_family(family: str, rng: np.random.Generator, n: int, params: tuple) -> np.ndarray:
    """Draw ``n`` values of a numeric family; ``params`` are floats or arrays of shape (n,)."""
    return FAMILIES[family][1](rng, n, *params)


def _scipy_frozen(family: str, params: tuple):
    from scipy import stats

    if family == "uniform":
        lo, hi = params
        return stats.uniform(loc=lo, scale=np.subtract(hi, lo))
    if family == "normal":
        return stats.norm(loc=params[0], scale=params[1])
    if family == "lognormal":
        return stats.lognorm(s=params[1], scale=np.exp(params[0]))
    if family == "gamma":
        return stats.gamma(a=params[0], scale=params[1])
    if family == "beta":
        return stats.beta(a=params[0], b=params[1])
    raise ValueError(f"{family} cannot be truncated")


def sample_truncated(
    family: str, rng: np.random.Generator, n: int, params: tuple, low: float, high: float
) -> np.ndarray:
    """Draw from ``family`` conditional on ``low <= x <= high`` by inverting the CDF.

    Exact (no rejection loop): u ~ Uniform(F(low), F(high)), x = F^{-1}(u).
    """
    dist = _scipy_frozen(family, params)
    f_lo = dist.cdf(low) if np.isfinite(low) else 0.0
    f_hi = dist.cdf(high) if np.isfinite(high) else 1.0
    u = f_lo + (f_hi - f_lo) * rng.random(n)
    x = dist.ppf(u)
    return np.clip(x, low, high)


def sample_categorical(rng: np.random.Generator, n: int, probs: np.ndarray) -> np.ndarray:
    """Category codes 0..K-1 with probabilities ``probs`` (shape (K,) or (n, K), rows sum to 1).

    One uniform per world, compared with the cumulative probabilities: shape (n,), int64.
    """
    u = rng.random(n)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        cum = np.cumsum(probs)
        cum[-1] = np.inf  # rounding in the sum must never lose the last category
        return np.searchsorted(cum, u, side="right").astype(np.int64)
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = np.inf
    return (u[:, None] >= cum).sum(axis=1).astype(np.int64)


def sample_dirichlet(rng: np.random.Generator, n: int, alphas: list) -> np.ndarray:
    """Per-world probability vectors, shape (n, K), from concentration parameters.

    ``alphas`` holds K floats or arrays of shape (n,). Drawn as normalised gammas so that
    per-world concentrations are allowed.
    """
    g = np.column_stack([rng.gamma(a, 1.0, n) for a in alphas])
    total = g.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return g / total
