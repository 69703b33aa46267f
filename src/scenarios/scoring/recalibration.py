"""Logistic recalibration of probability forecasts, shrunk toward the identity.

A recalibration map sends a forecast p to

    p' = expit(a + b * logit(p))

(Cox 1958's logistic calibration; Platt 1999 fits the same curve to classifier scores; Turner et
al. 2014, "Forecast aggregation via recalibration", Machine Learning 95:261-289, apply it to human
probability forecasts).  ``b < 1`` pulls overconfident forecasts toward 0.5, ``b > 1`` pushes
underconfident ones out; ``a`` shifts every forecast up or down (a base-rate bias).  The identity
is ``a = 0, b = 1``.

:func:`fit_recalibration` finds the posterior mode (penalised maximum likelihood) of ``(a, b)``
under a Gaussian prior centred on the identity, ``a ~ N(0, s^2)`` and ``b ~ N(1, s^2)``, from
past forecasts and their binary outcomes.  With no data the mode is the identity; with few
resolved outcomes it stays near it; as ``s`` shrinks the map tends to the identity.  The log
posterior is strictly concave, so the mode is unique and Newton's method (with step halving)
finds it deterministically.  Standard errors come from the curvature at the mode (Laplace).

Forecasts are clamped to ``[clamp, 1 - clamp]`` before the logit (a Monte Carlo share of exactly
0 or 1 says only that the probability is small); the identity map returns forecasts unchanged.

Only numpy is imported (scipy's ``expit``/``logit`` are not needed for two formulas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ScoringError
from .scores import DEFAULT_CLAMP

__all__ = [
    "DEFAULT_PRIOR_SD",
    "DEFAULT_MIN_OUTCOMES",
    "RecalibrationMap",
    "fit_recalibration",
    "recalibrate",
]

# Every default lives here, and only here.
DEFAULT_PRIOR_SD = 0.5  # prior sd of the intercept a (around 0) and of the slope b (around 1)
DEFAULT_MIN_OUTCOMES = 5  # fewer resolved outcomes than this: the map is the identity

_MAX_NEWTON = 100
_TOL = 1e-12


@dataclass(frozen=True, slots=True)
class RecalibrationMap:
    """``p' = expit(intercept + slope * logit(p))``, fitted from ``n`` outcomes.

    Attributes
    ----------
    intercept, slope : float
        ``a`` and ``b`` (0 and 1 for the identity).
    n : int
        Outcomes the map was fitted from (0: not fitted, the identity).
    intercept_se, slope_se : float
        Posterior standard deviations (Laplace approximation at the mode); the prior sd when
        not fitted.
    clamp : float
        Forecasts are clamped to ``[clamp, 1 - clamp]`` before the logit.
    """

    intercept: float = 0.0
    slope: float = 1.0
    n: int = 0
    intercept_se: float = math.nan
    slope_se: float = math.nan
    clamp: float = DEFAULT_CLAMP

    @property
    def is_identity(self) -> bool:
        return self.intercept == 0.0 and self.slope == 1.0


def _logit(p: np.ndarray, clamp: float) -> np.ndarray:
    q = np.clip(p, clamp, 1.0 - clamp)
    return np.log(q) - np.log1p(-q)


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


def _check(probs, outcomes, weights):
    p = np.asarray(probs, dtype=float).reshape(-1)
    o = np.asarray(outcomes, dtype=float).reshape(-1)
    if p.shape != o.shape:
        raise ScoringError(f"probs and outcomes: expected the same length, found {p.size} and {o.size}")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        bad = p[~((p >= 0.0) & (p <= 1.0))][0]
        raise ScoringError(f"probs: expected probabilities in [0, 1], found {float(bad):g}")
    if not np.all((o == 0.0) | (o == 1.0)):
        bad = o[~((o == 0.0) | (o == 1.0))][0]
        raise ScoringError(f"outcomes: expected binary outcomes (0/1 or bool), found {float(bad):g}")
    if weights is None:
        w = np.ones_like(p)
    else:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape != p.shape:
            raise ScoringError(f"weights: expected one weight per forecast ({p.size}), found {w.size}")
        if not np.all(np.isfinite(w) & (w >= 0.0)):
            raise ScoringError("weights: expected finite non-negative numbers")
    return p, o, w


def _log_posterior(theta, x, o, w, prior_sd) -> float:
    eta = theta[0] + theta[1] * x
    # log-likelihood of a Bernoulli with logit eta: o * eta - log(1 + e^eta)
    ll = float(w @ (o * eta - np.logaddexp(0.0, eta)))
    return ll - 0.5 * (theta[0] ** 2 + (theta[1] - 1.0) ** 2) / prior_sd**2


def _fit_core(x, o, w, prior_sd) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode of (a, b) and the negative Hessian there; inputs assumed valid."""
    precision = np.eye(2) / prior_sd**2
    theta = np.array([0.0, 1.0])
    design = np.column_stack([np.ones_like(x), x])
    current = _log_posterior(theta, x, o, w, prior_sd)
    for _ in range(_MAX_NEWTON):
        mu = _expit(theta[0] + theta[1] * x)
        grad = design.T @ (w * (o - mu)) - precision @ (theta - np.array([0.0, 1.0]))
        info = design.T @ (design * (w * mu * (1.0 - mu))[:, None]) + precision
        step = np.linalg.solve(info, grad)
        t = 1.0
        while True:  # step halving keeps every iterate an ascent (the objective is concave)
            candidate = theta + t * step
            value = _log_posterior(candidate, x, o, w, prior_sd)
            if value >= current or t < 1e-10:
                break
            t *= 0.5
        theta, current = candidate, value
        if np.max(np.abs(t * step)) < _TOL:
            break
    mu = _expit(theta[0] + theta[1] * x)
    info = design.T @ (design * (w * mu * (1.0 - mu))[:, None]) + precision
    return theta, info


def fit_recalibration(probs, outcomes, *, weights=None, prior_sd: float = DEFAULT_PRIOR_SD,
                      min_outcomes: int = DEFAULT_MIN_OUTCOMES, clamp: float = DEFAULT_CLAMP) -> RecalibrationMap:
    """Fit ``logit(p') = a + b logit(p)`` by maximum a posteriori with a prior at the identity.

    Maximises ``sum_i w_i [o_i eta_i - log(1 + exp(eta_i))] - (a^2 + (b - 1)^2) / (2 prior_sd^2)``
    with ``eta_i = a + b logit(p_i)`` (Cox 1958; Platt 1999; Turner et al. 2014).

    Parameters
    ----------
    probs : array_like, shape (n,)
        Past forecasts in [0, 1]; may be empty.
    outcomes : array_like, shape (n,)
        Their outcomes, 0/1 or bool.
    weights : array_like, shape (n,), optional
        Weight of each forecast in the likelihood (default 1 each).
    prior_sd : float
        Standard deviation of the Gaussian prior on ``a`` (mean 0) and on ``b`` (mean 1); smaller
        is a stronger pull toward the identity.
    min_outcomes : int
        With fewer forecasts of positive weight than this, return the identity unfitted.
    clamp : float
        Forecasts are clamped to ``[clamp, 1 - clamp]`` before the logit.

    Returns
    -------
    RecalibrationMap

    Examples
    --------
    >>> fit_recalibration([], []).is_identity
    True
    """
    if not (isinstance(prior_sd, (int, float)) and math.isfinite(prior_sd) and prior_sd > 0):
        raise ScoringError(f"prior_sd: expected a positive number, found {prior_sd!r}")
    if not 0.0 < clamp < 0.5:
        raise ScoringError(f"clamp: expected a number in (0, 0.5), found {clamp!r}")
    p, o, w = _check(probs, outcomes, weights)
    keep = w > 0
    n = int(np.count_nonzero(keep))
    if n == 0 or n < min_outcomes:
        return RecalibrationMap(n=0, intercept_se=float(prior_sd), slope_se=float(prior_sd), clamp=clamp)
    theta, info = _fit_core(_logit(p[keep], clamp), o[keep], w[keep], float(prior_sd))
    cov = np.linalg.inv(info)
    return RecalibrationMap(
        intercept=float(theta[0]), slope=float(theta[1]), n=n,
        intercept_se=float(math.sqrt(cov[0, 0])), slope_se=float(math.sqrt(cov[1, 1])), clamp=clamp,
    )


def recalibrate(probs, recalibration: RecalibrationMap) -> np.ndarray:
    """Apply a map: ``expit(a + b logit(clamp(p)))``; the identity returns ``probs`` unchanged.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecasts in [0, 1] (NaN, an undefined forecast, stays NaN).
    recalibration : RecalibrationMap

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> float(recalibrate([0.9], RecalibrationMap(intercept=0.0, slope=0.0))[0])
    0.5
    """
    p = np.array(probs, dtype=float).reshape(-1)
    if recalibration.is_identity:
        return p
    defined = np.isfinite(p)
    if not np.all((p[defined] >= 0.0) & (p[defined] <= 1.0)):
        raise ScoringError("probs: expected probabilities in [0, 1]")
    out = np.full_like(p, math.nan)
    out[defined] = _expit(recalibration.intercept + recalibration.slope * _logit(p[defined], recalibration.clamp))
    return out
