"""Draws over named categories (categorical codes, dirichlet vectors), and the 90%-interval helpers.

The numeric families (bernoulli, beta, uniform, normal, lognormal, gamma, poisson, geometric,
constant) each live in a module of :mod:`scenarios.model.families`, with their forecaster-friendly
constructors (:func:`lognormal_ci90` ...), re-exported here.  Parameters are plain floats or
per-world arrays of shape (n,).
"""

from __future__ import annotations

import numpy as np

from .families.beta import beta_from_mean
from .families.gamma import gamma_ci90
from .families.lognormal import lognormal_ci90
from .families.normal import Z95, normal_ci90

__all__ = [
    "Z95",
    "lognormal_ci90",
    "normal_ci90",
    "gamma_ci90",
    "beta_from_mean",
    "sample_categorical",
    "sample_dirichlet",
]

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
