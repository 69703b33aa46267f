"""Forecast verification scores: Brier, log, CRPS, quantile and interval scores, and date scores.

Also the Brier-score decomposition, reliability curves with binomial intervals, PIT values,
bootstrap confidence intervals for mean scores and paired score differences, and the scores of a
forecast of an event's day (absolute error of the median, CRPS, probability of the true month).

Conventions
-----------
* Public functions validate and convert their inputs.  Anything that cannot be scored raises
  :class:`~scenarios.errors.ScoringError` (a ``ValueError``).  The message names the argument,
  what was expected and what was found.  Private ``_*_core`` functions assume valid float arrays.
* Scores are returned per forecast, with one value per forecast, so callers can average,
  weight, bootstrap or compare them.  Take ``np.mean`` for the usual summary.
* Orientation: the Brier, CRPS, quantile and interval scores are losses (lower is better, 0 is
  perfect).  The log score and the skill score are gains (higher is better).
* The forecast always comes before the outcome: ``(probs, outcomes)`` and
  ``(samples, observations)``.  Options are keyword-only.
* Only numpy is imported at module level.  scipy is imported lazily, in the Jeffreys interval
  and in :func:`crps_normal`.
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from ..errors import ScoringError

__all__ = [
    "DEFAULT_CLAMP",
    "DEFAULT_INTERVAL",
    "DEFAULT_LEVEL",
    "DEFAULT_N_BINS",
    "DEFAULT_N_BOOT",
    "BootstrapCI",
    "BrierDecomposition",
    "ReliabilityCurve",
    "base_rate_forecast",
    "bootstrap_difference_ci",
    "bootstrap_mean_ci",
    "brier_index",
    "brier_score",
    "brier_score_multi",
    "brier_skill_score",
    "crps_ensemble",
    "crps_normal",
    "date_absolute_error",
    "date_crps",
    "date_month_probability",
    "interval_score",
    "log_score",
    "murphy_decomposition",
    "pit_values",
    "quantile_score",
    "reliability_curve",
]

# Every default lives here, and only here.
DEFAULT_CLAMP = 1e-4  # log score: probabilities are clamped to [clamp, 1 - clamp]
DEFAULT_N_BINS = 10  # equal-width probability bins on [0, 1]
DEFAULT_LEVEL = 0.95  # confidence level of intervals
DEFAULT_N_BOOT = 2000  # bootstrap resamples
DEFAULT_INTERVAL = "wilson"  # binomial interval for reliability curves

_INTERVALS = ("wilson", "jeffreys")
_SUM_ATOL = 1e-6  # tolerance on "category probabilities sum to 1"
_BOOT_CHUNK_ELEMENTS = 1 << 20  # at most this many resampled indices are held at once


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True, slots=True)
class BrierDecomposition:
    """Mean Brier score split into the five terms of Stephenson, Coelho & Jolliffe (2008).

    ``brier == reliability - resolution + uncertainty + within_bin_variance
    - within_bin_covariance`` holds to float rounding for any binning.  All terms are on the
    0–1 (binary) scale.

    Attributes
    ----------
    brier : float
        Mean Brier score, ``mean((p - o)**2)``.
    reliability : float
        ``(1/n) sum_k n_k (fbar_k - obar_k)**2``: miscalibration of the bin means (lower is
        better).
    resolution : float
        ``(1/n) sum_k n_k (obar_k - obar)**2``: how far the bins' outcome frequencies spread
        around the base rate (higher is better).
    uncertainty : float
        ``obar (1 - obar)``: the Brier score of always forecasting the base rate.
    within_bin_variance : float
        ``(1/n) sum_i (p_i - fbar_k(i))**2``: spread of the forecasts within their bins.
    within_bin_covariance : float
        ``(2/n) sum_i (o_i - obar_k(i)) (p_i - fbar_k(i))``: within-bin covariance of
        forecasts and outcomes.
    """

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin_variance: float
    within_bin_covariance: float

    @property
    def total(self) -> float:
        """Sum the terms: REL - RES + UNC + WBV - WBC, which equals :attr:`brier`."""
        return (
            self.reliability
            - self.resolution
            + self.uncertainty
            + self.within_bin_variance
            - self.within_bin_covariance
        )


@dataclass(frozen=True, eq=False)
class ReliabilityCurve:
    """Per-bin calibration summary; bin ``k`` is ``[edges[k], edges[k+1])``, the last bin closed.

    Attributes
    ----------
    edges : ndarray, shape (n_bins + 1,)
        Bin edges ``k / n_bins``.
    mean_forecast : ndarray, shape (n_bins,)
        Mean forecast probability in each bin (NaN if the bin is empty).
    observed_frequency : ndarray, shape (n_bins,)
        Fraction of outcomes equal to 1 in each bin (NaN if empty).
    count : ndarray of int, shape (n_bins,)
        Number of forecasts in each bin.
    lower, upper : ndarray, shape (n_bins,)
        Binomial confidence interval for the observed frequency (NaN if empty).
    """

    edges: np.ndarray
    mean_forecast: np.ndarray
    observed_frequency: np.ndarray
    count: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


class BootstrapCI(NamedTuple):
    """Point estimate and percentile-bootstrap interval: the tuple ``(mean, low, high)``."""

    mean: float
    low: float
    high: float


# --------------------------------------------------------------------------- validation


def _fmt(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(float(value))


def _at(index: tuple[int, ...]) -> str:
    if not index:
        return ""
    return (
        f" at index {int(index[0])}"
        if len(index) == 1
        else f" at index {tuple(int(i) for i in index)}"
    )


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _array(x, name: str) -> np.ndarray:
    """Convert to a non-empty float array of finite real numbers."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # e.g. ragged nested lists
        raise ScoringError(
            f"{name}: expected an array of numbers, "
            f"found a {type(x).__name__} numpy cannot convert ({exc})"
        ) from None
    if raw.dtype.kind not in "biufO":
        raise ScoringError(f"{name}: expected real numbers, found an array of dtype {raw.dtype}")
    try:
        arr = raw.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        raise ScoringError(
            f"{name}: expected real numbers, found values not convertible to float ({exc})"
        ) from None
    if arr.size == 0:
        raise ScoringError(
            f"{name}: expected at least one value, found an empty array of shape {arr.shape}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i = _first(bad)
        raise ScoringError(f"{name}: expected finite numbers, found {_fmt(arr[i])}{_at(i)}")
    return arr


def _check_ndim(arr: np.ndarray, name: str, ndims: tuple[int, ...], expected: str) -> None:
    if arr.ndim not in ndims:
        raise ScoringError(f"{name}: expected shape {expected}, found shape {arr.shape}")


def _check_range(arr: np.ndarray, name: str, lo: float, hi: float, what: str) -> None:
    bad = (arr < lo) | (arr > hi)
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"{name}: expected {what} in [{lo:g}, {hi:g}], found {_fmt(arr[i])}{_at(i)}"
        )


def _probabilities(
    x, name: str, ndims: tuple[int, ...] = (1,), expected: str = "(n,)"
) -> np.ndarray:
    arr = _array(x, name)
    _check_ndim(arr, name, ndims, expected)
    _check_range(arr, name, 0.0, 1.0, "probabilities")
    return arr


def _binary(x, name: str) -> np.ndarray:
    arr = _array(x, name)
    _check_ndim(arr, name, (1,), "(n,)")
    bad = (arr != 0.0) & (arr != 1.0)
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"{name}: expected binary outcomes (0/1 or bool), found {_fmt(arr[i])}{_at(i)}"
        )
    return arr


def _same_length(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ScoringError(
            f"{name_a} and {name_b}: expected the same length, found {a.shape[0]} and {b.shape[0]}"
        )


def _probs_outcomes(probs, outcomes) -> tuple[np.ndarray, np.ndarray]:
    p = _probabilities(probs, "probs")
    o = _binary(outcomes, "outcomes")
    _same_length(p, "probs", o, "outcomes")
    return p, o


def _open_unit(x, name: str) -> float:
    """A real scalar strictly inside (0, 1), e.g. a confidence level or alpha."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ScoringError(f"{name}: expected a number in (0, 1), found {type(x).__name__} {x!r}")
    if not 0.0 < float(x) < 1.0:  # also rejects NaN
        raise ScoringError(f"{name}: expected a number in (0, 1), found {_fmt(float(x))}")
    return float(x)


def _count(x, name: str, minimum: int) -> int:
    if isinstance(x, bool):
        raise ScoringError(f"{name}: expected an integer >= {minimum}, found bool {x!r}")
    try:
        value = operator.index(x)
    except TypeError:
        raise ScoringError(
            f"{name}: expected an integer >= {minimum}, found {type(x).__name__} {x!r}"
        ) from None
    if value < minimum:
        raise ScoringError(f"{name}: expected an integer >= {minimum}, found {value}")
    return value


def _generator(rng, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ScoringError(
            f"{name}: expected a numpy.random.Generator (e.g. np.random.default_rng(42)), "
            f"found {type(rng).__name__}"
        )
    return rng


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise ScoringError(
            f"{', '.join(arrays)}: expected shapes that broadcast together, found {shapes}"
        ) from None


def _ensemble(samples, observations) -> tuple[np.ndarray, np.ndarray]:
    x = _array(samples, "samples")
    y = _array(observations, "observations")
    if not ((x.ndim == 1 and y.ndim == 0) or (x.ndim == 2 and y.ndim == 1)):
        raise ScoringError(
            "samples and observations: expected samples of shape (m,) with a scalar observation, "
            f"or (n, m) with observations of shape (n,); found {x.shape} and {y.shape}"
        )
    if x.ndim == 2 and x.shape[0] != y.shape[0]:
        raise ScoringError(
            f"samples and observations: expected one row of samples per observation, "
            f"found {x.shape[0]} rows and {y.shape[0]} observations"
        )
    return x, y


def _out(arr: np.ndarray):
    """Return a Python float for 0-d results and the array otherwise."""
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- binary forecasts


def _brier_core(p: np.ndarray, o: np.ndarray) -> np.ndarray:
    return (p - o) ** 2


def brier_score(probs, outcomes) -> np.ndarray:
    """Score each binary probability forecast with the Brier score, on the 0–1 scale.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecast probabilities of the event, in [0, 1].
    outcomes : array_like, shape (n,)
        What happened: 1 (or True) if the event occurred, else 0.

    Returns
    -------
    ndarray, shape (n,)
        ``(p_i - o_i)**2``.  This is a loss: 0 is perfect, 0.25 is always saying 0.5, and 1 is
        certain and wrong.  Take ``np.mean`` for the usual mean Brier score.

    Notes
    -----
    This is the binary "half Brier score".  The original multi-category form (Brier 1950, see
    :func:`brier_score_multi`) sums over both categories and is exactly twice this value.

    References
    ----------
    Brier, G. W. (1950). Verification of forecasts expressed in terms of probability.
    *Monthly Weather Review* 78(1), 1–3.

    Examples
    --------
    >>> brier_score([0.8, 0.3], [1, 1])   # (0.8 - 1)**2, (0.3 - 1)**2
    array([0.04, 0.49])
    """
    p, o = _probs_outcomes(probs, outcomes)
    return _brier_core(p, o)


def _brier_multi_core(p: np.ndarray, k: np.ndarray) -> np.ndarray:
    d = p.copy()
    d[np.arange(k.size), k] -= 1.0
    return np.einsum("ij,ij->i", d, d)


def brier_score_multi(probs, outcomes) -> np.ndarray:
    """Score each multi-category forecast with the Brier score, on the 0–2 scale.

    Parameters
    ----------
    probs : array_like, shape (n, K)
        Row ``i`` is a probability vector over ``K >= 2`` categories.  Each row must sum to 1,
        within 1e-6.
    outcomes : array_like of int, shape (n,)
        Index in ``0 .. K-1`` of the category that occurred.

    Returns
    -------
    ndarray, shape (n,)
        ``sum_k (p_ik - o_ik)**2``, where ``o_ik`` is 1 for the category that occurred and 0
        otherwise.  The range is [0, 2].

    Notes
    -----
    This is Brier's (1950) original score.  For a binary event written in two-category form,
    ``[[1 - p, p]]`` with outcome index ``o``, it equals ``2 * (p - o)**2``, which is twice
    :func:`brier_score`.

    References
    ----------
    Brier, G. W. (1950). *Monthly Weather Review* 78(1), 1–3.

    Examples
    --------
    >>> brier_score_multi([[0.2, 0.8]], [1])   # 0.2**2 + 0.2**2 = 2 * brier_score([0.8], [1])
    array([0.08])
    """
    p = _probabilities(probs, "probs", ndims=(2,), expected="(n, K)")
    if p.shape[1] < 2:
        raise ScoringError(
            f"probs: expected at least 2 categories (columns), found shape {p.shape}"
        )
    sums = p.sum(axis=1)
    bad = np.abs(sums - 1.0) > _SUM_ATOL
    if bad.any():
        i = int(np.argmax(bad))
        raise ScoringError(
            f"probs: expected each row to sum to 1, found row {i} summing to {sums[i]!r}"
        )
    k = _array(outcomes, "outcomes")
    _check_ndim(k, "outcomes", (1,), "(n,)")
    bad = (k != np.floor(k)) | (k < 0) | (k > p.shape[1] - 1)
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"outcomes: expected category indices (integers in 0..{p.shape[1] - 1}), "
            f"found {_fmt(k[i])}{_at(i)}"
        )
    _same_length(p, "probs", k, "outcomes")
    return _brier_multi_core(p, k.astype(np.intp))


def brier_index(mean_brier):
    """Convert a mean binary Brier score to the 0–100 "Brier index", ``100 (1 - sqrt(B))``.

    Parameters
    ----------
    mean_brier : float or array_like
        Mean Brier score on the binary 0–1 scale, as from ``np.mean(brier_score(...))``.  Do not
        pass the 0–2 multi-category scale.

    Returns
    -------
    float or ndarray
        Higher is better.  100 is perfect, 50 is always saying 50 %, and 0 is always certain and
        wrong.

    Notes
    -----
    ``sqrt(B)`` is the root-mean-square probability error.  A forecaster who is always off by
    ``e`` therefore gets ``100 (1 - e)``: being 20 points off scores 80.  Some
    forecasting-tournament write-ups use this presentation.  It is a display convention, not a
    separate proper score.  It is a monotone transform of the mean Brier score, so it ranks
    forecasters identically.  Other sources apply similar transforms to the 0–2 scale, which
    gives different numbers.

    Examples
    --------
    >>> brier_index(0.25)    # sqrt(0.25) = 0.5
    50.0
    >>> brier_index(0.04)    # always 0.2 away from the outcome
    80.0
    """
    b = _array(mean_brier, "mean_brier")
    _check_range(b, "mean_brier", 0.0, 1.0, "a mean binary Brier score")
    return _out(100.0 * (1.0 - np.sqrt(b)))


def _log_core(p: np.ndarray, o: np.ndarray, clamp: float) -> np.ndarray:
    q = np.clip(p, clamp, 1.0 - clamp)
    with np.errstate(divide="ignore"):
        return np.log(np.where(o == 1.0, q, 1.0 - q))


def log_score(probs, outcomes, *, clamp: float = DEFAULT_CLAMP) -> np.ndarray:
    """Score each binary forecast with the log score, ln of the probability given to what happened.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecast probabilities of the event, in [0, 1].
    outcomes : array_like, shape (n,)
        1 (or True) if the event occurred, else 0.
    clamp : float, keyword-only
        Probabilities are clipped to ``[clamp, 1 - clamp]`` before taking the log.  It must be in
        [0, 0.5).  With the default 1e-4, a certain (0 or 1) forecast that turns out wrong scores
        ``ln(1e-4) ≈ -9.21`` instead of ``-inf``, so one such forecast cannot swamp a mean.
        ``clamp=0`` gives the unclamped score.

    Returns
    -------
    ndarray, shape (n,)
        ``ln(p_i)`` if ``o_i = 1``, else ``ln(1 - p_i)``, in nats.  This is a gain: higher is
        better and 0 is perfect.

    References
    ----------
    Good, I. J. (1952). Rational decisions. *J. Royal Statistical Society B* 14(1), 107–114.

    Examples
    --------
    >>> log_score([0.8, 0.8], [1, 0])   # ln 0.8, ln 0.2
    array([-0.22314355, -1.60943791])
    >>> log_score([1.0], [0])           # ln(1e-4), not -inf
    array([-9.21034037])
    """
    if (
        isinstance(clamp, bool)
        or not isinstance(clamp, (int, float, np.integer, np.floating))
        or not (0.0 <= float(clamp) < 0.5)
    ):
        raise ScoringError(f"clamp: expected a number in [0, 0.5), found {clamp!r}")
    p, o = _probs_outcomes(probs, outcomes)
    return _log_core(p, o, float(clamp))


def base_rate_forecast(outcomes) -> np.ndarray:
    """Build the climatology baseline: forecast the observed base rate for every case.

    Parameters
    ----------
    outcomes : array_like, shape (n,)
        Binary outcomes (0/1 or bool).

    Returns
    -------
    ndarray, shape (n,)
        ``mean(outcomes)`` repeated ``n`` times.  The rate is computed in sample, so it uses
        hindsight.  Its mean Brier score is ``obar (1 - obar)``, the uncertainty term of
        :func:`murphy_decomposition`.

    Examples
    --------
    >>> base_rate_forecast([1, 0, 0, 0])
    array([0.25, 0.25, 0.25, 0.25])
    """
    o = _binary(outcomes, "outcomes")
    return np.full(o.shape, o.mean())


def _skill_core(bs: float, bs_ref: float) -> float:
    return 1.0 - bs / bs_ref


def brier_skill_score(probs, outcomes, baseline_probs) -> float:
    """Compute the Brier skill score against a reference forecast, ``1 - BS / BS_ref``.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecast probabilities, in [0, 1].
    outcomes : array_like, shape (n,)
        Binary outcomes (0/1 or bool).
    baseline_probs : float or array_like, shape (n,)
        The reference forecast.  Pass a number for a constant forecast, e.g. ``0.5``.  Pass
        ``base_rate_forecast(outcomes)`` for climatology.  Pass any array of probabilities, such
        as the same model run without evidence, for an arbitrary reference.

    Returns
    -------
    float
        ``1 - mean(brier_score(probs, outcomes)) / mean(brier_score(baseline_probs, outcomes))``.
        1 is perfect and 0 is no better than the reference.  Negative means worse than the
        reference.

    Raises
    ------
    ScoringError
        If the reference has a mean Brier score of 0, which leaves the skill score undefined.
        This happens, for example, with climatology when all outcomes are equal.

    References
    ----------
    Wilks, D. S. (2011). *Statistical Methods in the Atmospheric Sciences*, 3rd ed., §8.4.2.

    Examples
    --------
    >>> round(brier_skill_score([0.9, 0.2], [1, 0], 0.5), 6)   # 1 - 0.025 / 0.25
    0.9
    """
    p, o = _probs_outcomes(probs, outcomes)
    ref = _probabilities(baseline_probs, "baseline_probs", ndims=(0, 1), expected="() or (n,)")
    if ref.ndim == 0:
        ref = np.full(p.shape, float(ref))
    _same_length(p, "probs", ref, "baseline_probs")
    bs_ref = float(np.mean(_brier_core(ref, o)))
    if bs_ref == 0.0:
        raise ScoringError(
            "baseline_probs: expected a reference forecast with a non-zero Brier score, found a "
            "perfect reference (e.g. climatology when all outcomes are equal); skill is undefined"
        )
    return _skill_core(float(np.mean(_brier_core(p, o))), bs_ref)


# --------------------------------------------------------------------------- calibration


def _bin_index(p: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins ``[k/n_bins, (k+1)/n_bins)``; the last bin is closed."""
    edges = np.arange(n_bins + 1) / n_bins
    idx = np.searchsorted(edges, p, side="right") - 1
    return edges, np.minimum(idx, n_bins - 1)


def _bin_stats(p: np.ndarray, o: np.ndarray, n_bins: int):
    edges, idx = _bin_index(p, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    hits = np.bincount(idx, weights=o, minlength=n_bins)  # exact: a sum of 0s and 1s
    with np.errstate(invalid="ignore", divide="ignore"):
        fbar = np.bincount(idx, weights=p, minlength=n_bins) / count  # NaN where empty
        obar = hits / count
    return edges, idx, count, hits, fbar, obar


def _murphy_core(p: np.ndarray, o: np.ndarray, n_bins: int) -> BrierDecomposition:
    n = p.size
    _, idx, count, _, fbar, obar_k = _bin_stats(p, o, n_bins)
    obar = float(o.mean())
    full = count > 0
    n_k = count[full]
    df = p - fbar[idx]  # forecast minus its bin's mean forecast
    do = o - obar_k[idx]  # outcome minus its bin's outcome frequency
    return BrierDecomposition(
        brier=float(np.mean((p - o) ** 2)),
        reliability=float(np.sum(n_k * (fbar[full] - obar_k[full]) ** 2) / n),
        resolution=float(np.sum(n_k * (obar_k[full] - obar) ** 2) / n),
        uncertainty=obar * (1.0 - obar),
        within_bin_variance=float(np.mean(df * df)),
        within_bin_covariance=float(2.0 * np.mean(do * df)),
    )


def murphy_decomposition(probs, outcomes, *, n_bins: int = DEFAULT_N_BINS) -> BrierDecomposition:
    """Split the mean Brier score into reliability, resolution, uncertainty and within-bin terms.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecast probabilities, in [0, 1].
    outcomes : array_like, shape (n,)
        Binary outcomes (0/1 or bool).
    n_bins : int, keyword-only
        Number of equal-width bins ``[k/n_bins, (k+1)/n_bins)`` on [0, 1].  The last bin is
        closed, so it includes 1.

    Returns
    -------
    BrierDecomposition
        Frozen dataclass.  ``brier = REL - RES + UNC + WBV - WBC`` holds to float rounding,
        whatever the binning.

    Notes
    -----
    With bin ``k`` holding ``n_k`` forecasts, whose mean forecast is ``fbar_k`` and outcome
    frequency ``obar_k``, and with overall base rate ``obar``::

        REL = (1/n) sum_k n_k (fbar_k - obar_k)**2
        RES = (1/n) sum_k n_k (obar_k - obar)**2
        UNC = obar (1 - obar)
        WBV = (1/n) sum_i (p_i - fbar_k(i))**2
        WBC = (2/n) sum_i (o_i - obar_k(i)) (p_i - fbar_k(i))

    Murphy's (1973) three-term partition is exact only when forecasts are constant within
    bins.  The two extra terms of Stephenson et al. (2008) make the identity exact for binned
    continuous forecasts.

    References
    ----------
    Murphy, A. H. (1973). A new vector partition of the probability score.
    *J. Applied Meteorology* 12, 595–600.
    Stephenson, D. B., Coelho, C. A. S. & Jolliffe, I. T. (2008). Two extra components in the
    Brier score decomposition. *Weather and Forecasting* 23, 752–757.

    Examples
    --------
    Bin 2 holds 0.2, 0.2 with outcomes 0, 1; bin 8 holds 0.8, 0.8 with outcomes 1, 1.  Then
    REL = (2·0.3² + 2·0.2²)/4, RES = (2·0.25² + 2·0.25²)/4, UNC = 0.75·0.25, and
    Brier = (0.04 + 0.64 + 0.04 + 0.04)/4:

    >>> d = murphy_decomposition([0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1])
    >>> [round(v, 6) for v in (d.reliability, d.resolution, d.uncertainty, d.brier)]
    [0.065, 0.0625, 0.1875, 0.19]
    """
    n_bins = _count(n_bins, "n_bins", 1)
    p, o = _probs_outcomes(probs, outcomes)
    return _murphy_core(p, o, n_bins)


def _wilson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    z2 = z * z
    phat = k / n
    denom = 1.0 + z2 / n
    centre = (phat + z2 / (2.0 * n)) / denom
    half = z * np.sqrt(phat * (1.0 - phat) / n + z2 / (4.0 * n * n)) / denom
    # k = 0 and k = n have exact endpoints 0 and 1; set them so rounding cannot exclude phat.
    lower = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lower, upper


def _jeffreys(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import beta

    alpha = 1.0 - level
    lower = np.where(k == 0, 0.0, beta.ppf(alpha / 2.0, k + 0.5, n - k + 0.5))
    upper = np.where(k == n, 1.0, beta.ppf(1.0 - alpha / 2.0, k + 0.5, n - k + 0.5))
    return lower, upper


def _reliability_core(
    p: np.ndarray, o: np.ndarray, n_bins: int, interval: str, level: float
) -> ReliabilityCurve:
    edges, _, count, hits, fbar, obar = _bin_stats(p, o, n_bins)
    lower = np.full(n_bins, np.nan)
    upper = np.full(n_bins, np.nan)
    full = count > 0
    bounds = _wilson if interval == "wilson" else _jeffreys
    lower[full], upper[full] = bounds(hits[full], count[full].astype(float), level)
    # a bin's mean can round just outside its own edges (six 0.1s average to 0.0999...)
    fbar = np.clip(fbar, edges[:-1], edges[1:])
    return ReliabilityCurve(edges, fbar, obar, count, lower, upper)


def reliability_curve(
    probs,
    outcomes,
    *,
    n_bins: int = DEFAULT_N_BINS,
    interval: str = DEFAULT_INTERVAL,
    level: float = DEFAULT_LEVEL,
) -> ReliabilityCurve:
    """Compute observed frequency against mean forecast per bin, with binomial intervals.

    Parameters
    ----------
    probs : array_like, shape (n,)
        Forecast probabilities, in [0, 1].
    outcomes : array_like, shape (n,)
        Binary outcomes (0/1 or bool).
    n_bins : int, keyword-only
        Number of equal-width bins on [0, 1].  The last bin is closed.  These are the same bins
        as :func:`murphy_decomposition`.
    interval : {"wilson", "jeffreys"}, keyword-only
        Binomial interval for the observed frequency ``k / n_k`` of each bin.
    level : float, keyword-only
        Confidence level, in (0, 1).

    Returns
    -------
    ReliabilityCurve
        Arrays per bin.  An empty bin has count 0 and NaN for its mean forecast, frequency and
        interval.

    Notes
    -----
    Wilson score interval, with ``z = Phi^-1(1 - alpha/2)`` and ``phat = k/n``::

        (phat + z²/2n ± z sqrt(phat(1-phat)/n + z²/4n²)) / (1 + z²/n)

    For ``k = 0`` the upper end simplifies to ``z² / (n + z²)``.  The Jeffreys interval uses
    the ``Beta(k + 1/2, n - k + 1/2)`` quantiles ``alpha/2`` and ``1 - alpha/2``.  Following
    Brown, Cai & DasGupta (2001), the lower end is set to 0 when ``k = 0`` and the upper end to
    1 when ``k = n``.  With these settings both intervals always contain ``phat``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    *JASA* 22, 209–212.
    Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial
    proportion. *Statistical Science* 16, 101–133.

    Examples
    --------
    >>> rc = reliability_curve([0.1, 0.1, 0.9, 0.9], [0, 1, 1, 1], n_bins=2)
    >>> rc.count, rc.mean_forecast, rc.observed_frequency
    (array([2, 2]), array([0.1, 0.9]), array([0.5, 1. ]))
    """
    n_bins = _count(n_bins, "n_bins", 1)
    if interval not in _INTERVALS:
        raise ScoringError(f"interval: expected one of {_INTERVALS}, found {interval!r}")
    level = _open_unit(level, "level")
    p, o = _probs_outcomes(probs, outcomes)
    return _reliability_core(p, o, n_bins, interval, level)


# --------------------------------------------------------------------------- bootstrap


def _bootstrap_core(
    x: np.ndarray, rng: np.random.Generator, n_boot: int, level: float
) -> BootstrapCI:
    n = x.size
    rows = max(1, _BOOT_CHUNK_ELEMENTS // n)  # resamples per chunk, which bounds memory
    means = np.empty(n_boot)
    for start in range(0, n_boot, rows):
        stop = min(start + rows, n_boot)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = 1.0 - level
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return BootstrapCI(float(x.mean()), float(low), float(high))


def _boot_options(rng, n_boot, level) -> tuple[np.random.Generator, int, float]:
    return _generator(rng), _count(n_boot, "n_boot", 1), _open_unit(level, "level")


def bootstrap_mean_ci(
    scores, *, rng: np.random.Generator, n_boot: int = DEFAULT_N_BOOT, level: float = DEFAULT_LEVEL
) -> BootstrapCI:
    """Compute a mean score and its percentile-bootstrap confidence interval.

    Parameters
    ----------
    scores : array_like, shape (n,)
        Per-forecast scores, such as ``brier_score(probs, outcomes)``.  They must be finite.
    rng : numpy.random.Generator, keyword-only
        Source of randomness.  It is required, and no global state is used, so results are
        reproducible from a seed.
    n_boot : int, keyword-only
        Number of resamples.
    level : float, keyword-only
        Confidence level, in (0, 1).

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)``.  ``low`` and ``high`` are the ``alpha/2`` and ``1 - alpha/2``
        quantiles of ``n_boot`` resampled means.

    Notes
    -----
    Resampling is vectorised.  Index matrices of shape ``(rows, n)`` are drawn in chunks of
    about 2**20 indices, which keeps memory bounded for large ``n``.  The cases are treated as
    independent.  For serially dependent scores, a block bootstrap is more appropriate.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13.

    Examples
    --------
    >>> ci = bootstrap_mean_ci([0.0, 1.0, 2.0, 3.0], rng=np.random.default_rng(0))
    >>> ci.mean, bool(ci.low <= 1.5 <= ci.high)
    (1.5, True)
    """
    rng, n_boot, level = _boot_options(rng, n_boot, level)
    x = _array(scores, "scores")
    _check_ndim(x, "scores", (1,), "(n,)")
    return _bootstrap_core(x, rng, n_boot, level)


def bootstrap_difference_ci(
    scores_a,
    scores_b,
    *,
    rng: np.random.Generator,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
) -> BootstrapCI:
    """Compute a paired-bootstrap interval for ``mean(scores_a - scores_b)`` on shared cases.

    Parameters
    ----------
    scores_a, scores_b : array_like, shape (n,)
        Per-case scores of two forecasters on the same ``n`` cases, in the same order.
    rng : numpy.random.Generator, keyword-only
        Source of randomness.
    n_boot : int, keyword-only
        Number of resamples.
    level : float, keyword-only
        Confidence level, in (0, 1).

    Returns
    -------
    BootstrapCI
        ``(mean, low, high)`` of the mean difference.  For a loss such as the Brier score,
        ``high < 0`` means ``a`` is better than ``b`` at this level.

    Notes
    -----
    Cases are resampled jointly, which keeps each (a, b) pair together.  That is the same as
    :func:`bootstrap_mean_ci` applied to ``d = a - b``.  The pairing removes the between-case
    variation the two forecasters share.

    Examples
    --------
    >>> bootstrap_difference_ci([0.1, 0.2], [0.1, 0.2], rng=np.random.default_rng(0))
    BootstrapCI(mean=0.0, low=0.0, high=0.0)
    """
    rng, n_boot, level = _boot_options(rng, n_boot, level)
    a = _array(scores_a, "scores_a")
    b = _array(scores_b, "scores_b")
    _check_ndim(a, "scores_a", (1,), "(n,)")
    _check_ndim(b, "scores_b", (1,), "(n,)")
    _same_length(a, "scores_a", b, "scores_b")
    return _bootstrap_core(a - b, rng, n_boot, level)


# --------------------------------------------------------------------------- continuous forecasts


def _crps_core(x: np.ndarray, y: np.ndarray, fair: bool) -> np.ndarray:
    m = x.shape[-1]
    # Shifting the samples by the observation leaves the pair sum unchanged, because the
    # weights sum to 0, and it reduces cancellation when values are far from 0.
    d = np.sort(x - y[..., None], axis=-1)
    mean_abs = np.abs(d).mean(axis=-1)  # E|X - y|
    w = 2.0 * np.arange(1, m + 1) - m - 1.0  # (2i - m - 1) for ranks i = 1..m
    pair_sum = 2.0 * (d @ w)  # sum_{i,j} |x_i - x_j|
    return mean_abs - pair_sum / (2.0 * m * (m - 1) if fair else 2.0 * m * m)


def crps_ensemble(samples, observations, *, fair: bool = False):
    """Score ensemble or Monte Carlo forecasts with the continuous ranked probability score (CRPS).

    Parameters
    ----------
    samples : array_like, shape (m,) or (n, m)
        ``m`` samples from each forecast distribution, with one row per forecast.
    observations : array_like, shape () or (n,)
        The observed values, in the same units as ``samples``.
    fair : bool, keyword-only
        Use Ferro's (2014) fair estimator, which requires ``m >= 2``.

    Returns
    -------
    float or ndarray, shape (n,)
        CRPS in the units of the data.  This is a loss: lower is better, and 0 means every
        sample equals the observation.

    Notes
    -----
    This uses the kernel form of Gneiting & Raftery (2007, eq. 21), ``E|X - y| - E|X - X'|/2``,
    with the empirical distribution of the samples::

        standard: (1/m) sum_i |x_i - y| - 1/(2 m²)     sum_{i,j} |x_i - x_j|
        fair:     (1/m) sum_i |x_i - y| - 1/(2 m(m-1)) sum_{i,j} |x_i - x_j|

    The standard form is the exact CRPS of the empirical distribution.  As an estimate of the
    CRPS of the distribution the samples come from, it is biased upward by ``E|X - X'| / (2m)``.
    The fair form is unbiased.  The pair sum is computed in ``O(m log m)`` per row from the
    order statistics, ``sum_{i,j} |x_i - x_j| = 2 sum_i (2i - m - 1) x_(i)``.

    References
    ----------
    Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
    estimation. *JASA* 102, 359–378.
    Ferro, C. A. T. (2014). Fair scores for ensemble forecasts. *QJRMS* 140, 1917–1923.

    Examples
    --------
    Two samples {1, 3} and y = 0: E|X - y| = 2 and sum |x_i - x_j| = 4.

    >>> crps_ensemble([1.0, 3.0], 0.0)              # 2 - 4/8
    1.5
    >>> crps_ensemble([1.0, 3.0], 0.0, fair=True)   # 2 - 4/4
    1.0
    """
    if not isinstance(fair, (bool, np.bool_)):
        raise ScoringError(f"fair: expected True or False, found {type(fair).__name__} {fair!r}")
    x, y = _ensemble(samples, observations)
    if fair and x.shape[-1] < 2:
        raise ScoringError(
            f"samples: the fair CRPS needs at least 2 samples per forecast, found {x.shape[-1]}"
        )
    return _out(_crps_core(x, y, bool(fair)))


def _crps_normal_core(mu: np.ndarray, sigma: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    z = (y - mu) / sigma
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return sigma * (z * (2.0 * ndtr(z) - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi))


def crps_normal(mu, sigma, observations):
    """Compute the closed-form CRPS of a normal forecast ``N(mu, sigma²)``.

    Parameters
    ----------
    mu : float or array_like
        Forecast means.
    sigma : float or array_like
        Forecast standard deviations.  They must be > 0.
    observations : float or array_like
        Observed values.  ``mu``, ``sigma`` and ``observations`` broadcast together.

    Returns
    -------
    float or ndarray
        ``sigma (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi))`` with ``z = (y - mu) / sigma``,
        in the units of the data.  Lower is better.

    References
    ----------
    Gneiting, T., Raftery, A. E., Westveld, A. H. & Goldman, T. (2005). Calibrated
    probabilistic forecasting using ensemble model output statistics and minimum CRPS
    estimation. *Monthly Weather Review* 133, 1098–1118, eq. 5.

    Examples
    --------
    At z = 0 the score is 2 phi(0) - 1/sqrt(pi), which equals (sqrt(2) - 1)/sqrt(pi) ≈ 0.2337:

    >>> round(crps_normal(0.0, 1.0, 0.0), 4)
    0.2337
    """
    mu_a = _array(mu, "mu")
    sigma_a = _array(sigma, "sigma")
    y = _array(observations, "observations")
    bad = sigma_a <= 0
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"sigma: expected standard deviations > 0, found {_fmt(sigma_a[i])}{_at(i)}"
        )
    mu_a, sigma_a, y = _broadcast(mu=mu_a, sigma=sigma_a, observations=y)
    return _out(_crps_normal_core(mu_a, sigma_a, y))


def _quantile_core(q: np.ndarray, y: np.ndarray, tau: np.ndarray) -> np.ndarray:
    return ((y < q).astype(float) - tau) * (q - y)


def quantile_score(quantile_values, observations, *, level):
    """Score quantile forecasts with the pinball (quantile) loss.

    Parameters
    ----------
    quantile_values : array_like
        Forecast ``level``-quantiles, in the units of the data.
    observations : array_like
        Observed values.  They broadcast with ``quantile_values``.
    level : float or array_like, keyword-only
        Quantile level(s) ``tau`` in (0, 1), such as 0.9 for the 90th percentile.  An array
        broadcasts too, e.g. ``quantile_values`` of shape (n, K) with ``level`` of shape (K,).

    Returns
    -------
    float or ndarray
        ``(1{y < q} - tau) (q - y)``, which is always >= 0.  This is the plain pinball loss.
        Some authors double it, so that the median's loss is ``|q - y|``; this module does not.

    References
    ----------
    Koenker, R. & Bassett, G. (1978). Regression quantiles. *Econometrica* 46, 33–50.
    Gneiting, T. (2011). Quantiles as optimal point forecasts. *Int. J. Forecasting* 27, 197–207.

    Examples
    --------
    The 90 % quantile 10 with y = 12 scores 0.9·2; the quantile 12 with y = 10 scores 0.1·2:

    >>> quantile_score([10.0, 12.0], [12.0, 10.0], level=0.9)
    array([1.8, 0.2])
    """
    q = _array(quantile_values, "quantile_values")
    y = _array(observations, "observations")
    tau = _array(level, "level")
    bad = (tau <= 0) | (tau >= 1)
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"level: expected quantile levels in (0, 1), found {_fmt(tau[i])}{_at(i)}"
        )
    q, y, tau = _broadcast(quantile_values=q, observations=y, level=tau)
    return _out(_quantile_core(q, y, tau))


def _interval_core(lo: np.ndarray, hi: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    below = np.where(y < lo, lo - y, 0.0)
    above = np.where(y > hi, y - hi, 0.0)
    return (hi - lo) + (2.0 / alpha) * (below + above)


def interval_score(lower, upper, observations, *, alpha: float):
    """Score central ``(1 - alpha)`` prediction intervals with the interval score.

    Parameters
    ----------
    lower, upper : array_like
        Interval ends.  They are usually the ``alpha/2`` and ``1 - alpha/2`` quantiles, and
        each ``lower`` must be <= its ``upper``.
    observations : array_like
        Observed values.  ``lower``, ``upper`` and ``observations`` broadcast together.
    alpha : float, keyword-only
        Nominal miss rate, in (0, 1).  For example, 0.1 scores a 90 % interval.

    Returns
    -------
    float or ndarray
        ``(u - l) + (2/alpha)(l - y) 1{y < l} + (2/alpha)(y - u) 1{y > u}``, in the units of the
        data.  This is a loss: width plus a penalty for misses.

    References
    ----------
    Gneiting, T. & Raftery, A. E. (2007). *JASA* 102, 359–378, eq. 43.

    Examples
    --------
    For the interval [0, 10] at alpha = 0.2, y = 5 scores the width 10, and y = 12 scores
    10 + (2/0.2)·2:

    >>> interval_score(0.0, 10.0, [5.0, 12.0], alpha=0.2)
    array([10., 30.])
    """
    alpha = _open_unit(alpha, "alpha")
    lo = _array(lower, "lower")
    hi = _array(upper, "upper")
    y = _array(observations, "observations")
    lo, hi, y = _broadcast(lower=lo, upper=hi, observations=y)
    bad = lo > hi
    if bad.any():
        i = _first(bad)
        raise ScoringError(
            f"lower and upper: expected lower <= upper, found {_fmt(lo[i])} > {_fmt(hi[i])}{_at(i)}"
        )
    return _out(_interval_core(lo, hi, y, alpha))


def _pit_core(x: np.ndarray, y: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    yy = y[..., None]
    below = (x < yy).mean(axis=-1)
    equal = (x == yy).mean(axis=-1)
    v = 1.0 if rng is None else rng.random(below.shape)
    return below + v * equal


def pit_values(samples, observations, *, rng: np.random.Generator | None = None):
    """Compute the probability integral transform: each forecast's empirical CDF at its observation.

    Parameters
    ----------
    samples : array_like, shape (m,) or (n, m)
        ``m`` samples from each forecast distribution.
    observations : array_like, shape () or (n,)
        The observed values.
    rng : numpy.random.Generator or None, keyword-only
        If given, ties are randomised: ``P(X < y) + V P(X = y)`` with ``V ~ U(0, 1)``.  This
        makes the PIT of a calibrated discrete forecast uniform.  If None, the result is the
        plain empirical CDF ``P(X <= y)``.

    Returns
    -------
    float or ndarray, shape (n,)
        Values in [0, 1].  For calibrated forecasts they are approximately ``U(0, 1)``.  A
        U-shaped histogram means the forecasts are over-confident, and a hump means they are
        under-confident.

    References
    ----------
    Gneiting, T., Balabdaoui, F. & Raftery, A. E. (2007). Probabilistic forecasts, calibration
    and sharpness. *JRSS B* 69, 243–268.
    Czado, C., Gneiting, T. & Held, L. (2009). Predictive model assessment for count data.
    *Biometrics* 65, 1254–1261.

    Examples
    --------
    >>> pit_values([1.0, 2.0, 3.0, 4.0], 2.5)   # two of four samples are below 2.5
    0.5
    >>> pit_values([1.0, 2.0, 2.0, 3.0], 2.0)   # P(X <= 2) = 3/4
    0.75
    """
    if rng is not None:
        rng = _generator(rng)
    x, y = _ensemble(samples, observations)
    return _out(_pit_core(x, y, rng))


# --------------------------------------------------------------------------- date forecasts
#
# A forecast of "when will X happen" is a distribution of the event's day (day d is the date
# ``start + d days``; a fractional day t falls on day ceil(t), as model days do), with some mass
# at "never".  A question closes on day ``close``: an event after the close does not resolve it,
# so every day after ``close`` (and never, ``inf``) is the same outcome, "never", placed at the
# point ``close + 1``, the first day after the close.  The truth is censored the same way.


def _days(x, name: str) -> np.ndarray:
    """A 1-D array of event days: real numbers, ``inf`` for never (not NaN, not -inf)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ScoringError(f"{name}: expected event days (numbers, inf for never), found {type(x).__name__} ({exc})") from None
    _check_ndim(arr, name, (1,), "(n,)")
    if arr.size == 0:
        raise ScoringError(f"{name}: expected at least one day, found an empty array")
    bad = np.isnan(arr) | (arr == -np.inf)
    if bad.any():
        i = _first(bad)
        raise ScoringError(f"{name}: expected event days (numbers, inf for never), found {_fmt(arr[i])}{_at(i)}")
    return arr


def _day_weights(weights, n: int) -> np.ndarray:
    """Non-negative finite weights of shape (n,) with a positive sum (None: all 1)."""
    if weights is None:
        return np.ones(n)
    w = _array(weights, "weights")
    _check_ndim(w, "weights", (1,), "(n,)")
    if w.shape[0] != n:
        raise ScoringError(f"days and weights: expected the same length, found {n} and {w.shape[0]}")
    if (w < 0).any():
        i = _first(w < 0)
        raise ScoringError(f"weights: expected non-negative numbers, found {_fmt(w[i])}{_at(i)}")
    if not w.sum() > 0:
        raise ScoringError("weights: expected a positive total, found 0 (no world carries weight)")
    return w


def _real(x, name: str, *, inf: bool) -> float:
    """A real scalar (``inf`` allowed when ``inf``: never)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ScoringError(f"{name}: expected a number of days, found {type(x).__name__} {x!r}")
    value = float(x)
    if math.isnan(value) or value == -math.inf or (value == math.inf and not inf):
        raise ScoringError(f"{name}: expected a {'day or inf (never)' if inf else 'finite day'}, found {_fmt(value)}")
    return value


def _date_inputs(days, truth, close, weights) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Validated (censored days, weights normalised to sum 1, censored truth, never point)."""
    d = _days(days, "days")
    w = _day_weights(weights, d.shape[0])
    c = _real(close, "close", inf=False)
    y = _real(truth, "truth", inf=True)
    never = c + 1.0
    return _censor(d, c), w / w.sum(), (never if y > c else y), never


def _censor(days: np.ndarray, close: float) -> np.ndarray:
    """Every day after ``close`` (and never, inf) moved to ``close + 1``."""
    return np.where(days > close, close + 1.0, days)


def _median_core(x: np.ndarray, p: np.ndarray) -> float:
    """The smallest value whose weighted CDF reaches 1/2 (``inverted_cdf``; ``p`` sums to 1)."""
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(p[order])
    return float(x[order][min(int(np.searchsorted(cdf, 0.5 - 1e-12, side="left")), len(x) - 1)])


def _step_crps_core(x: np.ndarray, p: np.ndarray, y: float) -> float:
    """CRPS of a discrete distribution (values ``x``, probabilities ``p`` summing to 1) at ``y``:
    the integral of ``(F(z) - 1{z >= y})^2`` over the steps of F, exactly."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    cdf = np.concatenate([[0.0], np.cumsum(p[order])])
    cdf /= cdf[-1]
    z = np.unique(np.append(xs, y))
    gap = (cdf[np.searchsorted(xs, z[:-1], side="right")] - (z[:-1] >= y)) ** 2
    return float(gap @ np.diff(z))


def date_absolute_error(days, truth, *, close, weights=None) -> float:
    """Absolute error, in days, of the median of a forecast of an event's day.

    Parameters
    ----------
    days : array_like, shape (n,)
        The event's day in each world (e.g. days after the model's ``as_of``); ``inf``: never.
    truth : float
        The day it happened; ``inf`` if it did not happen by the close.
    close : float
        The question's last day.  Every day after it (and never) is the outcome "never", placed
        at ``close + 1``, in the forecast and in the truth alike.
    weights : array_like, shape (n,), optional, keyword-only
        Non-negative weights of the worlds (None: equal).

    Returns
    -------
    float
        ``|median - truth|`` in days, both censored at ``close + 1``; the median is the smallest
        day whose weighted CDF reaches 1/2.  A median of "never" against an event on day y
        is ``close + 1 - y`` days off; a median day m against "never" is ``close + 1 - m``
        days off; never against never is 0.

    Examples
    --------
    Three worlds put the event on days 4, 10 and never; the question closes on day 30 and the
    event happened on day 8: the median is day 10, two days late.

    >>> date_absolute_error([4.0, 10.0, float("inf")], 8, close=30)
    2.0
    >>> date_absolute_error([4.0, 10.0, float("inf")], float("inf"), close=30)   # 31 - 10
    21.0
    """
    x, p, y, _ = _date_inputs(days, truth, close, weights)
    return abs(_median_core(x, p) - y)


def date_crps(days, truth, *, close, weights=None) -> float:
    """CRPS, in days, of a forecast of an event's day, with the mass at "never" just after the close.

    Parameters
    ----------
    days : array_like, shape (n,)
        The event's day in each world; ``inf``: never.
    truth : float
        The day it happened; ``inf`` if it did not happen by the close.
    close : float
        The question's last day.  Every day after it (and never) is placed at ``close + 1``,
        in the forecast and in the truth alike.
    weights : array_like, shape (n,), optional, keyword-only
        Non-negative weights of the worlds (None: equal).

    Returns
    -------
    float
        ``integral (F(z) - 1{z >= y})^2 dz`` with F the weighted CDF of the censored days and
        y the censored truth (Gneiting & Raftery 2007, eq. 20), computed exactly over the steps
        of F.  A loss in days: 0 when every world has the true day; a forecast sure of the
        wrong day scores its distance; "never" against a day y costs at most ``close + 1 - y``.
        Equal to :func:`crps_ensemble` of the censored days when the weights are equal.

    References
    ----------
    Gneiting, T. & Raftery, A. E. (2007). Strictly proper scoring rules, prediction, and
    estimation. *JASA* 102, 359–378.

    Examples
    --------
    Half the worlds say day 10, half never; the question closes on day 19 (never is day 20)
    and the event happened on day 10: F is 1/2 from day 10 to day 20, so the CRPS is
    ``(1/2)^2 * 10``.

    >>> date_crps([10.0, float("inf")], 10, close=19)
    2.5
    """
    x, p, y, _ = _date_inputs(days, truth, close, weights)
    return _step_crps_core(x, p, y)


def date_month_probability(days, truth, *, start, close, weights=None) -> float:
    """Probability a forecast of an event's day gave to the true calendar month (or to never).

    Parameters
    ----------
    days : array_like, shape (n,)
        The event's day in each world, counted from ``start``: day t falls on the date
        ``start + ceil(t)`` days; ``inf``: never.
    truth : float
        The day it happened; ``inf`` if it did not happen by the close.
    start : datetime.date, keyword-only
        The date of day 0.
    close : float, keyword-only
        The question's last day: days after it are "never".
    weights : array_like, shape (n,), optional, keyword-only
        Non-negative weights of the worlds (None: equal).

    Returns
    -------
    float
        In [0, 1]: the weighted share of worlds whose event falls in the calendar month of the
        truth, up to the close (the month of the close counts only its days up to the close);
        when the truth is never, the share of worlds with no event by the close.  A gain:
        higher is better.

    Examples
    --------
    From 2023-09-05 (day 0), days 8 and 20 fall in September, day 30 on 2023-10-05; the event
    happened on 2023-09-13 (day 8):

    >>> import datetime as dt
    >>> date_month_probability([8.0, 20.0, 30.0, float("inf")], 8, start=dt.date(2023, 9, 5), close=100)
    0.5
    """
    if not isinstance(start, _dt.date) or isinstance(start, _dt.datetime):
        raise ScoringError(f"start: expected a datetime.date (the date of day 0), found {type(start).__name__} {start!r}")
    x, p, y, never = _date_inputs(days, truth, close, weights)
    if y == never:
        return float(p[x == never].sum())
    when = start + _dt.timedelta(days=math.ceil(y))
    first = when.replace(day=1)
    following = (first + _dt.timedelta(days=32)).replace(day=1)
    lo, hi = (first - start).days, min((following - start).days - 1, close)
    return float(p[(x > lo - 1) & (x <= hi)].sum())
