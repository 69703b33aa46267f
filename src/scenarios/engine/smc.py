"""Resampling and moving weighted worlds: the pieces of resample-move sequential Monte Carlo.

Small pure functions over one chunk's worlds, used by :mod:`scenarios.engine.asof` between
as-of dates.  Worlds are rows of arrays: shape (n,) for most nodes, (n, months) for flows.

* :func:`systematic_resample`: ancestors drawn in proportion to the weights, with one uniform
  (Kitagawa 1996; Douc, Cappé & Moulines 2005, "Comparison of resampling schemes for particle
  filtering").
* :func:`group_index` and :func:`grouped_sum_squares`: after resampling a world can appear several
  times; the effective sample size counts exact copies as one world (their weights summed), so
  it is never above the number of distinct worlds.
* :func:`take_rows` and :func:`choose_rows`: index every world's values by its ancestor, and
  keep the proposed values of the worlds whose move was accepted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["systematic_resample", "group_index", "grouped_sum_squares", "take_rows", "choose_rows"]


def systematic_resample(weights: np.ndarray, u: float) -> np.ndarray:
    """Ancestors of ``n`` new worlds, world i chosen about ``n w_i / sum w`` times.

    Parameters
    ----------
    weights : ndarray, shape (n,)
        Non-negative, with a positive sum.
    u : float
        One uniform in [0, 1): the offset of the n evenly spaced points.

    Returns
    -------
    ndarray of int64, shape (n,)
        Sorted indices into ``weights``; world i appears ``floor`` or ``ceil`` of
        ``n w_i / sum w`` times (the lowest variance of the usual schemes).

    Examples
    --------
    >>> systematic_resample(np.array([0.0, 3.0, 1.0, 0.0]), 0.5).tolist()
    [1, 1, 1, 2]
    """
    n = len(weights)
    cdf = np.cumsum(weights, dtype=np.float64)
    cdf /= cdf[-1]
    points = (np.arange(n) + u) / n
    return np.minimum(np.searchsorted(cdf, points, side="right"), n - 1).astype(np.int64)


def group_index(ids: np.ndarray | None, n: int) -> np.ndarray | None:
    """Group number (0 .. distinct - 1) of each world; None when every world is distinct.

    ``ids`` names each world's identity: copies made by resampling share it, a move that is
    accepted gives a new one.
    """
    if ids is None:
        return None
    _, inverse = np.unique(ids, return_inverse=True)
    return None if inverse.max(initial=-1) + 1 == n else inverse.reshape(-1)


def grouped_sum_squares(values: np.ndarray, groups: np.ndarray | None) -> float:
    """``sum over groups of (sum of values in the group)^2`` (plain sum of squares without groups)."""
    if groups is None:
        return float(np.dot(values, values))
    sums = np.bincount(groups, weights=values)
    return float(np.dot(sums, sums))


def take_rows(values, rows: np.ndarray, n: int):
    """``values`` of the worlds ``rows`` (per-world arrays of length ``n``; anything else as is)."""
    if isinstance(values, np.ndarray) and values.ndim >= 1 and values.shape[0] == n:
        return values[rows]
    return values


def choose_rows(accept: np.ndarray, new, old, n: int):
    """Per world, ``new`` where ``accept`` else ``old`` (arrays of shape (n,) or (n, m), or None)."""
    if new is None and old is None:
        return None
    new = np.ones(n) if new is None else new
    old = np.ones(n) if old is None else old
    new = np.broadcast_to(np.asarray(new), (n,) + np.shape(new)[1:]) if np.ndim(new) else np.full(n, float(new))
    old = np.broadcast_to(np.asarray(old), (n,) + np.shape(old)[1:]) if np.ndim(old) else np.full(n, float(old))
    if new.ndim == 2 and old.ndim == 2 and new.shape[1] != old.shape[1]:
        raise ValueError("proposed and current values have different numbers of months")
    mask = accept.reshape((n,) + (1,) * (new.ndim - 1))
    return np.where(mask, new, old)
