"""A repeated event drawn given what is known of its occurrences: counts by days.

Evidence on a repeated event (:mod:`scenarios.engine.evidence`) says how many occurrences there
had been by some days: "the 2nd on day d" is N(d - 1) <= 1 and N(d) >= 2, "3 by D" is N(D) = 3,
and a watched repeated event had none beyond those reported by D - lag.  Each is a bound
``lo <= N(day) <= hi`` on the counting process N.

The occurrences are a Poisson process in operational time Λ (expected occurrences since the
start, :class:`scenarios.model.kinds.repeated.Clock`): the counts in the intervals between the
bounded days are independent Poisson(ΔΛ).  So the process is drawn *exactly* given the bounds by
forward filtering over the counts (states 0..K and "more than K", K the largest bound) and
backward sampling, then placing each interval's occurrences uniformly in operational time (given
its count, a Poisson process's points are uniform).  The world's weight factor is the
probability of the bounds given its rates and start, the forward pass's total.  Everything is
vectorised over worlds; the loops run over bounded days and count states (a handful).
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_given_counts", "sample_given_counts"]


def _poisson_tables(mean: np.ndarray, top: int) -> tuple:
    """P(X = k) for k = 0..top+1 and P(X >= k) for k = 0..top+1, X ~ Poisson(mean): shapes (n, top+2)."""
    from scipy import special  # slow to import: only for a repeated event with evidence on it

    k = np.arange(top + 2)
    mean = mean[:, None]
    pmf = np.exp(special.xlogy(k[None, :], mean) - mean - special.gammaln(k[None, :] + 1.0))
    tail = np.ones((mean.shape[0], top + 2))
    with np.errstate(invalid="ignore"):
        tail[:, 1:] = special.gammainc(k[None, 1:], mean)  # P(X >= k) = P(k, mean), regularised
    tail[:, 1:] = np.where(mean > 0, tail[:, 1:], 0.0)
    return np.nan_to_num(pmf), tail


def _transition(pmf: np.ndarray, tail: np.ndarray, to: np.ndarray) -> np.ndarray:
    """P(state c -> state ``to``) over one interval, for every c: shape (n, K+2).

    States 0..K are counts, K+1 is "more than K"; ``to`` has shape (n,)."""
    states = pmf.shape[1]
    diff = to[:, None] - np.arange(states)[None, :]
    idx = np.clip(diff, 0, states - 1)
    lumped = (to == states - 1)[:, None]
    exact = np.where(diff >= 0, np.take_along_axis(pmf, idx, axis=1), 0.0)
    exact[:, -1] = 0.0  # from "more than K" no count <= K is reachable
    return np.where(lumped, np.take_along_axis(tail, idx, axis=1), exact)


def _pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise categorical draws, index in [0, columns), from unnormalised ``weights`` (n, c)."""
    cum = np.cumsum(weights, axis=1)
    return np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), weights.shape[1] - 1)


def draw_given_counts(points: np.ndarray, bounds: np.ndarray, size: int, rng: np.random.Generator) -> tuple:
    """Occurrence times of a unit-rate Poisson process given bounds on its counts.

    Parameters
    ----------
    points : ndarray, shape (n, m)
        Operational times of the bounded days, non-decreasing along axis 1 (>= 0).
    bounds : ndarray, shape (m, 2)
        ``lo <= N(points[:, j]) <= hi`` (hi may be inf).
    size : int
        Occurrence times to return per world.
    rng : numpy.random.Generator

    Returns
    -------
    times : ndarray, shape (n, size)
        Operational times of the 1st, 2nd, ... occurrence, increasing along axis 1.
    prob : ndarray, shape (n,)
        P(every bound holds) in each world (0: the world cannot meet them; its times are then
        drawn as if it could, and mean nothing).
    overflow : ndarray of bool, shape (n,)
        Worlds with more than ``size`` occurrences by the last bounded point.
    """
    n, m = points.shape
    finite = [b for b in bounds.ravel() if np.isfinite(b)]
    top = int(max(finite)) if finite else 0
    states = top + 2
    delta = np.diff(points, axis=1, prepend=0.0)
    alphas, tables = [], []
    prev = np.zeros((n, states))
    prev[:, 0] = 1.0
    log_total = np.zeros(n)
    for j in range(m):
        pmf, tail = _poisson_tables(delta[:, j], top)
        cur = np.zeros((n, states))
        for c in range(top + 1):  # from count c to counts c..top, and to "more than top"
            cur[:, c: top + 1] += prev[:, c, None] * pmf[:, : top + 1 - c]
            cur[:, -1] += prev[:, c] * tail[:, top + 1 - c]
        cur[:, -1] += prev[:, -1]
        lo, hi = bounds[j]
        count = np.arange(states)  # "more than top" (top + 1) is above every finite bound
        cur[:, ~((count >= lo) & (count <= hi))] = 0.0
        total = cur.sum(axis=1)
        with np.errstate(divide="ignore"):
            log_total += np.log(total)
        cur /= np.where(total > 0, total, 1.0)[:, None]
        alphas.append(cur)
        tables.append((pmf, tail))
        prev = cur
    prob = np.exp(log_total)

    # backward: the count at each point given the one after it
    state = np.zeros((n, m + 1), dtype=np.int64)  # state[:, j + 1]: at point j; state[:, 0] = 0
    u = rng.random((n, m))
    state[:, m] = _pick(alphas[m - 1], u[:, m - 1])
    for j in range(m - 1, 0, -1):
        pmf, tail = tables[j]
        state[:, j] = _pick(alphas[j - 1] * _transition(pmf, tail, state[:, j + 1]), u[:, j - 1])

    # the number of occurrences in each interval; "more than top" is resolved to a count here
    counts = state.astype(float)
    for j in range(m):
        was, now = state[:, j], state[:, j + 1]
        lumped = now == states - 1
        if not lumped.any():
            continue
        from scipy import stats  # only when a count may pass every bound

        at_least = np.where(was == states - 1, 0, states - 1 - was)  # a jump past top, or any count on from it
        mean = delta[:, j]
        with np.errstate(invalid="ignore"):
            q = rng.random(n) * stats.poisson.sf(at_least - 1, mean)
            jump = np.maximum(stats.poisson.isf(q, mean), at_least)
        jump = np.where(np.isfinite(jump), jump, at_least)
        counts[:, j + 1] = np.where(lumped, counts[:, j] + jump, state[:, j + 1])
    per_interval = np.diff(counts, axis=1).astype(np.int64)  # (n, m)
    known = per_interval.sum(axis=1)
    overflow = known > size
    width = int(min(known.max(initial=0), size))

    # place each interval's occurrences uniformly in it, then continue the process after the last point
    times = np.empty((n, size))
    if width:
        edges = np.cumsum(per_interval, axis=1)
        col = np.arange(width)
        which = (edges[:, :, None] <= col[None, None, :]).sum(axis=1)  # interval of each occurrence
        safe = np.minimum(which, m - 1)
        left = np.take_along_axis(points - delta, safe, axis=1)
        span = np.take_along_axis(delta, safe, axis=1)
        placed = np.where(which < m, left + rng.random((n, width)) * span, np.inf)
        placed.sort(axis=1)
        times[:, :width] = placed
    after = points[:, -1:] + np.cumsum(rng.standard_exponential((n, size)), axis=1)
    col = np.arange(size)[None, :]
    rest = np.take_along_axis(after, np.clip(col - known[:, None], 0, size - 1), axis=1)
    times = np.where(col < known[:, None], times, rest)
    return times, prob, overflow


def sample_given_counts(spec, ctx, rng: np.random.Generator, n: int, bounds: tuple) -> tuple:
    """A repeated event's occurrence days given bounds on its counts, and their probability.

    Parameters
    ----------
    spec : scenarios.model.kinds.repeated.RepeatedSpec
    ctx : scenarios.model.scenario.Context
        Its parents drawn.
    rng : numpy.random.Generator
        Draws its inline rates, then the occurrences.
    n : int
    bounds : tuple of (day, lo, hi)
        ``lo <= N(day) <= hi``, days increasing, one bound per day.

    Returns
    -------
    days : ndarray, shape (n, spec.max)
        As :meth:`RepeatedSpec.sample` draws them (inf: no such occurrence within the horizon).
    prob : ndarray, shape (n,)
        P(bounds | rates, start, change) in each world: its weight factor.
    """
    clock = spec.clock(ctx, rng, n)
    days = np.array([d for d, _, _ in bounds], dtype=float)
    limits = np.array([(lo, hi) for _, lo, hi in bounds], dtype=float)
    times, prob, overflow = draw_given_counts(clock.operational(days), limits, spec.max, rng)
    return spec.within_horizon(clock.days(times), ctx, overflow), prob
