"""Tests for scenarios.scoring, grouped by behaviour.

Sections: hand-computed reference values, identities, Monte Carlo agreement with closed
forms, intervals, bootstrap, PIT, and input validation.  Every random test is seeded.
Monte Carlo tolerances come from a standard error that the test estimates itself.  None is a
number copied from an earlier run.
"""

from __future__ import annotations

import doctest
import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenarios.errors import ScenarioError, ScoringError
from scenarios.scoring import (
    BootstrapCI,
    base_rate_forecast,
    bootstrap_difference_ci,
    bootstrap_mean_ci,
    brier_index,
    brier_score,
    brier_score_multi,
    brier_skill_score,
    crps_ensemble,
    crps_normal,
    interval_score,
    log_score,
    murphy_decomposition,
    pit_values,
    quantile_score,
    reliability_curve,
)
from scenarios.scoring import scores as scoring

probabilities = st.floats(0.0, 1.0, allow_nan=False)
# Grid values land exactly on bin edges, including 1.0 (the closed last bin).
edge_heavy_probs = st.one_of(probabilities, st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]))


@st.composite
def binary_forecasts(draw, min_size=1, max_size=60):
    n = draw(st.integers(min_size, max_size))
    probs = draw(arrays(np.float64, n, elements=edge_heavy_probs))
    outcomes = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    return probs, outcomes


def crps_double_sum(x, y, fair=False):
    """The obvious O(m²) kernel form, used as a reference for the sorted implementation."""
    x = np.asarray(x, dtype=float)
    m = x.size
    pairs = np.abs(x[:, None] - x[None, :]).sum()
    return np.abs(x - y).mean() - pairs / (2 * m * (m - 1) if fair else 2 * m * m)


# --------------------------------------------------------------------------- reference values


class TestHandComputedValues:
    def test_brier_single_forecast(self):
        assert brier_score([0.8], [1]) == pytest.approx([0.04], rel=1e-12)

    def test_brier_accepts_bool_outcomes(self):
        np.testing.assert_allclose(brier_score([0.8, 0.3], [True, False]), [0.04, 0.09])

    def test_log_score_of_correct_and_wrong_forecast(self):
        np.testing.assert_allclose(log_score([0.8, 0.8], [1, 0]), [math.log(0.8), math.log(0.2)])

    def test_log_score_clamps_certain_wrong_forecast(self):
        assert log_score([1.0, 0.0], [0, 1]) == pytest.approx([math.log(1e-4)] * 2)
        assert log_score([1.0], [0])[0] == pytest.approx(-9.2103, abs=1e-4)

    def test_log_score_clamp_zero_gives_minus_infinity(self):
        assert log_score([1.0, 1.0], [0, 1], clamp=0.0).tolist() == [-math.inf, 0.0]

    def test_brier_index_convention(self):
        assert brier_index(0.0) == 100.0
        assert brier_index(0.25) == pytest.approx(50.0)
        assert brier_index(1.0) == 0.0
        np.testing.assert_allclose(brier_index([0.04, 0.25]), [80.0, 50.0])

    def test_brier_skill_score_against_half(self):
        # BS = (0.1² + 0.2²)/2 = 0.025; BS_ref = 0.25.
        assert brier_skill_score([0.9, 0.2], [1, 0], 0.5) == pytest.approx(0.9)

    def test_brier_skill_score_with_reference_array(self):
        # Reference BS = (0.4² + 0.4²)/2 = 0.16; forecast BS = 0.04 -> 1 - 0.25.
        assert brier_skill_score([0.8, 0.2], [1, 0], [0.6, 0.4]) == pytest.approx(0.75)

    def test_pinball_loss(self):
        # y above q: tau (y - q) = 0.9·2; y below q: (1 - tau)(q - y) = 0.1·2.
        np.testing.assert_allclose(
            quantile_score([10.0, 12.0], [12.0, 10.0], level=0.9), [1.8, 0.2]
        )
        assert quantile_score(3.0, 3.0, level=0.3) == 0.0

    def test_pinball_loss_with_vector_of_levels(self):
        # q = (1, 2, 3) at levels (.1, .5, .9), y = 2: 0.1·1, 0, 0.1·1.
        np.testing.assert_allclose(
            quantile_score([[1.0, 2.0, 3.0]], [[2.0]], level=[0.1, 0.5, 0.9]), [[0.1, 0.0, 0.1]]
        )

    def test_interval_score(self):
        # [0, 10], alpha 0.2: inside -> width 10; y = 12 -> 10 + 10·2; y = -1 -> 10 + 10·1.
        np.testing.assert_allclose(
            interval_score(0.0, 10.0, [5.0, 12.0, -1.0], alpha=0.2), [10.0, 30.0, 20.0]
        )

    def test_crps_two_sample_ensemble(self):
        # Samples {1, 3}, y = 0.  E|X - y| = 2 and sum_{i,j} |x_i - x_j| = 4.
        # Standard: 2 - 4/(2·2²) = 1.5.  As an integral of the empirical CDF F:
        # ∫_0^1 (0 - 1)² dx + ∫_1^3 (0.5 - 1)² dx = 1 + 0.5 = 1.5.  Fair: 2 - 4/(2·2·1) = 1.
        assert crps_ensemble([1.0, 3.0], 0.0) == pytest.approx(1.5)
        assert crps_ensemble([1.0, 3.0], 0.0, fair=True) == pytest.approx(1.0)

    def test_crps_single_sample_is_absolute_error(self):
        assert crps_ensemble([[2.0], [-1.0]], [5.0, -1.0]).tolist() == [3.0, 0.0]

    def test_crps_normal_at_the_mean(self):
        # 2 φ(0) - 1/sqrt(pi) = (sqrt 2 - 1)/sqrt(pi).
        assert crps_normal(0.0, 1.0, 0.0) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi))

    def test_crps_normal_scales_with_sigma_and_shifts_with_mu(self):
        base = crps_normal(0.0, 1.0, 0.7)
        assert crps_normal(5.0, 3.0, 5.0 + 3.0 * 0.7) == pytest.approx(3.0 * base)

    def test_crps_normal_far_tail_approaches_absolute_error(self):
        # For |y - mu| >> sigma, CRPS ≈ |y - mu| - sigma/sqrt(pi).
        assert crps_normal(0.0, 1.0, 40.0) == pytest.approx(40.0 - 1 / math.sqrt(math.pi))

    def test_pit_simple(self):
        assert pit_values([1.0, 2.0, 3.0, 4.0], 2.5) == 0.5
        assert pit_values([1.0, 2.0, 2.0, 3.0], 2.0) == 0.75
        np.testing.assert_array_equal(pit_values([[1.0, 2.0], [1.0, 2.0]], [0.0, 9.0]), [0.0, 1.0])

    def test_murphy_hand_example(self):
        d = murphy_decomposition([0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1])
        assert d.reliability == pytest.approx((2 * 0.3**2 + 2 * 0.2**2) / 4)
        assert d.resolution == pytest.approx(0.0625)
        assert d.uncertainty == pytest.approx(0.1875)
        assert d.within_bin_variance == pytest.approx(0.0, abs=1e-15)
        assert d.within_bin_covariance == pytest.approx(0.0, abs=1e-15)
        assert d.brier == pytest.approx(0.19)

    def test_docstring_examples(self):
        result = doctest.testmod(scoring, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 10
        assert result.failed == 0


# --------------------------------------------------------------------------- identities


class TestIdentities:
    @settings(max_examples=150, deadline=None)
    @given(data=binary_forecasts(), n_bins=st.integers(1, 25))
    def test_decomposition_sums_to_brier(self, data, n_bins):
        probs, outcomes = data
        d = murphy_decomposition(probs, outcomes, n_bins=n_bins)
        assert d.brier == pytest.approx(np.mean(brier_score(probs, outcomes)), abs=1e-15)
        assert d.total == pytest.approx(d.brier, abs=1e-13)
        assert d.reliability >= 0 and d.resolution >= 0 and d.within_bin_variance >= 0

    @settings(deadline=None)
    @given(outcomes=st.lists(st.integers(0, 1), min_size=1, max_size=80))
    def test_base_rate_forecast_scores_p_times_one_minus_p(self, outcomes):
        p = np.mean(outcomes)
        bs = np.mean(brier_score(base_rate_forecast(outcomes), outcomes))
        assert bs == pytest.approx(p * (1 - p), abs=1e-14)

    def test_perfect_forecasts_score_zero(self):
        outcomes = np.array([0, 1, 1, 0])
        assert brier_score(outcomes, outcomes).tolist() == [0.0] * 4
        assert log_score(outcomes, outcomes, clamp=0.0).tolist() == [0.0] * 4
        assert brier_score_multi(np.eye(3), [0, 1, 2]).tolist() == [0.0] * 3
        assert crps_ensemble(np.full((2, 4), 7.0), [7.0, 7.0]).tolist() == [0.0, 0.0]
        assert brier_skill_score(outcomes, outcomes, 0.5) == 1.0

    @settings(deadline=None)
    @given(data=binary_forecasts())
    def test_multi_category_brier_with_two_categories_is_twice_binary(self, data):
        probs, outcomes = data
        two = np.column_stack([1 - probs, probs])
        np.testing.assert_allclose(
            brier_score_multi(two, outcomes),
            2 * brier_score(probs, outcomes),
            rtol=1e-12,
            atol=1e-15,
        )

    @settings(deadline=None)
    @given(data=binary_forecasts())
    def test_skill_against_climatology_is_one_minus_brier_over_uncertainty(self, data):
        # Climatology's mean Brier score is the uncertainty term obar(1 - obar).
        probs, outcomes = data
        if outcomes.min() == outcomes.max():
            return  # climatology is perfect; the skill score is undefined (tested under errors)
        bss = brier_skill_score(probs, outcomes, base_rate_forecast(outcomes))
        unc = outcomes.mean() * (1 - outcomes.mean())
        assert bss == pytest.approx(1 - np.mean(brier_score(probs, outcomes)) / unc, rel=1e-12)

    @settings(max_examples=200, deadline=None)
    @given(
        samples=arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e3, 1e3)),
        y=st.floats(-1e3, 1e3),
    )
    def test_sorted_crps_equals_double_sum(self, samples, y):
        scale = np.abs(samples).max() + abs(y) + 1.0
        assert crps_ensemble(samples, y) == pytest.approx(
            crps_double_sum(samples, y), abs=1e-12 * scale
        )
        if samples.size >= 2:
            assert crps_ensemble(samples, y, fair=True) == pytest.approx(
                crps_double_sum(samples, y, fair=True), abs=1e-12 * scale
            )

    def test_crps_rows_are_independent(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(5, 7))
        y = rng.normal(size=5)
        np.testing.assert_allclose(
            crps_ensemble(x, y), [crps_ensemble(r, v) for r, v in zip(x, y, strict=True)]
        )

    def test_crps_is_shift_invariant_far_from_zero(self):
        # Centring on the observation keeps precision when data sit at 1e9.
        x = np.array([1.0, 2.0, 4.0])
        assert crps_ensemble(x + 1e9, 1e9 + 2.5) == pytest.approx(crps_ensemble(x, 2.5), abs=1e-6)

    def test_quantile_score_at_median_is_half_absolute_error(self):
        y = np.array([-3.0, 0.5, 8.0])
        np.testing.assert_allclose(quantile_score(1.0, y, level=0.5), 0.5 * np.abs(1.0 - y))

    def test_interval_score_is_sum_of_pinball_losses(self):
        # Gneiting & Raftery (2007): IS_alpha = (2/alpha)·(QS_{alpha/2}(l) + QS_{1-alpha/2}(u)).
        rng = np.random.default_rng(2)
        lo = rng.normal(size=50)
        hi = lo + rng.exponential(size=50)
        y = rng.normal(scale=2, size=50)
        alpha = 0.2
        qs = quantile_score(lo, y, level=alpha / 2) + quantile_score(hi, y, level=1 - alpha / 2)
        np.testing.assert_allclose(interval_score(lo, hi, y, alpha=alpha), (2 / alpha) * qs)


# --------------------------------------------------------------------------- Monte Carlo agreement


class TestMonteCarloAgreement:
    @pytest.mark.parametrize("y", [-2.0, 0.0, 0.5, 3.0])
    def test_large_sample_crps_matches_closed_form(self, y):
        # 20 independent seeded batches of m = 20,000 N(0, 1) draws.  Each batch gives a
        # standard-estimator CRPS.  The expected value of the standard estimator is
        # CRPS + E|X-X'|/(2m) = CRPS + 1/(m sqrt(pi)).  The tolerance is 5 × the standard error
        # of the batch mean, estimated from the spread between batches.
        batches, m = 20, 20_000
        rng = np.random.default_rng(20240601)
        scores = crps_ensemble(rng.standard_normal((batches, m)), np.full(batches, y))
        se = scores.std(ddof=1) / math.sqrt(batches)
        bias = 1 / (m * math.sqrt(math.pi))
        assert abs(scores.mean() - bias - crps_normal(0.0, 1.0, y)) < 5 * se

    @pytest.mark.parametrize("m", [2, 5])
    def test_fair_crps_is_unbiased_and_standard_is_biased_by_known_amount(self, m):
        # Many small ensembles, each with its own observation y_r ~ N(0, 1), compared with the
        # exact CRPS of N(0, 1) at y_r.  The mean fair error is about 0, and the mean standard
        # error is about E|X-X'|/(2m) = (2/sqrt(pi))/(2m).  Tolerances are 5 standard errors of
        # each mean, estimated from the same draws.
        reps = 100_000
        rng = np.random.default_rng(7 + m)
        samples = rng.standard_normal((reps, m))
        y = rng.standard_normal(reps)
        exact = crps_normal(0.0, 1.0, y)
        fair_err = crps_ensemble(samples, y, fair=True) - exact
        std_err = crps_ensemble(samples, y) - exact
        expected_bias = (2 / math.sqrt(math.pi)) / (2 * m)
        se_fair = fair_err.std(ddof=1) / math.sqrt(reps)
        se_std = std_err.std(ddof=1) / math.sqrt(reps)
        assert abs(fair_err.mean()) < 5 * se_fair
        assert abs(std_err.mean() - expected_bias) < 5 * se_std
        assert expected_bias > 20 * se_std  # the bias is resolved, not lost in the noise


# --------------------------------------------------------------------------- reliability curve


class TestReliabilityCurve:
    def test_wilson_upper_for_zero_successes(self):
        # For k = 0 the Wilson interval is [0, z²/(n + z²)].
        # With n = 10 at 95 % that is ≈ 0.2775.
        z = NormalDist().inv_cdf(0.975)
        rc = reliability_curve([0.05] * 10, [0] * 10)
        assert rc.count[0] == 10
        assert rc.lower[0] == 0.0
        assert rc.upper[0] == pytest.approx(z * z / (10 + z * z), rel=1e-12)
        assert rc.upper[0] == pytest.approx(0.2775, abs=1e-4)

    def test_wilson_interior_value_by_formula(self):
        k, n, z = 3, 10, NormalDist().inv_cdf(0.95)  # level 0.9
        ph = k / n
        centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        rc = reliability_curve([0.55] * n, [1] * k + [0] * (n - k), level=0.9)
        assert rc.lower[5] == pytest.approx(centre - half, rel=1e-12)
        assert rc.upper[5] == pytest.approx(centre + half, rel=1e-12)

    def test_jeffreys_interval(self):
        from scipy.stats import beta

        rc = reliability_curve(
            [0.35] * 10 + [0.95] * 4, [1] * 3 + [0] * 7 + [1] * 4, interval="jeffreys"
        )
        assert rc.lower[3] == pytest.approx(beta.ppf(0.025, 3.5, 7.5))
        assert rc.upper[3] == pytest.approx(beta.ppf(0.975, 3.5, 7.5))
        # All successes: the upper end is 1 (Brown, Cai & DasGupta), so the interval contains 1.
        assert rc.upper[9] == 1.0 and rc.lower[9] == pytest.approx(beta.ppf(0.025, 4.5, 0.5))

    def test_empty_bins_are_nan_with_zero_count(self):
        rc = reliability_curve([0.05, 0.95], [0, 1], n_bins=4)
        assert rc.count.tolist() == [1, 0, 0, 1]
        for arr in (rc.mean_forecast, rc.observed_frequency, rc.lower, rc.upper):
            assert np.isnan(arr[1:3]).all() and not np.isnan(arr[[0, 3]]).any()

    def test_edges_and_closed_last_bin(self):
        rc = reliability_curve([0.0, 0.5, 1.0], [0, 1, 1], n_bins=2)
        np.testing.assert_array_equal(rc.edges, [0.0, 0.5, 1.0])
        assert rc.count.tolist() == [1, 2]  # 0.5 opens bin 1; 1.0 is in the closed last bin

    def test_decimal_edges_are_exact(self):
        # 0.3 lies on the edge 3/10 and belongs to bin 3, not bin 2.
        assert reliability_curve([0.3], [1]).count[3] == 1

    @settings(deadline=None)
    @given(
        data=binary_forecasts(),
        n_bins=st.integers(1, 12),
        interval=st.sampled_from(["wilson", "jeffreys"]),
        level=st.floats(0.5, 0.999),
    )
    def test_interval_contains_observed_frequency(self, data, n_bins, interval, level):
        probs, outcomes = data
        rc = reliability_curve(probs, outcomes, n_bins=n_bins, interval=interval, level=level)
        full = rc.count > 0
        assert rc.count.sum() == probs.size
        assert np.all(rc.lower[full] <= rc.observed_frequency[full])
        assert np.all(rc.observed_frequency[full] <= rc.upper[full])
        assert np.all((0 <= rc.lower[full]) & (rc.upper[full] <= 1))
        assert np.all(
            (rc.edges[:-1][full] <= rc.mean_forecast[full])
            & (rc.mean_forecast[full] <= rc.edges[1:][full])
        )


# --------------------------------------------------------------------------- bootstrap


class TestBootstrap:
    def test_deterministic_given_seed(self):
        x = np.random.default_rng(3).normal(size=50)
        a = bootstrap_mean_ci(x, rng=np.random.default_rng(11))
        b = bootstrap_mean_ci(x, rng=np.random.default_rng(11))
        c = bootstrap_mean_ci(x, rng=np.random.default_rng(12))
        assert a == b
        assert a.mean == c.mean and (a.low, a.high) != (c.low, c.high)

    def test_interval_contains_mean(self):
        x = np.random.default_rng(4).normal(size=50)
        ci = bootstrap_mean_ci(x, rng=np.random.default_rng(0))
        assert isinstance(ci, BootstrapCI)
        assert ci.mean == pytest.approx(x.mean())
        assert ci.low < ci.mean < ci.high

    def test_width_matches_normal_theory(self):
        # For n = 400 i.i.d. values, the 95 % interval should be about 2·1.96·sd/sqrt(n) wide.
        # Bootstrap Monte Carlo error with 2000 resamples and the sampling error of sd are each
        # a few percent, so 20 % is a safe tolerance.
        x = np.random.default_rng(5).normal(size=400)
        ci = bootstrap_mean_ci(x, rng=np.random.default_rng(6))
        assert ci.high - ci.low == pytest.approx(2 * 1.96 * x.std(ddof=1) / 20, rel=0.2)

    def test_chunked_resampling(self, monkeypatch):
        # Force many small chunks, 3 resamples each, and check that the result is unchanged in
        # kind and stays deterministic.
        monkeypatch.setattr(scoring, "_BOOT_CHUNK_ELEMENTS", 150)
        x = np.random.default_rng(8).normal(size=50)
        a = bootstrap_mean_ci(x, rng=np.random.default_rng(1), n_boot=1001)
        b = bootstrap_mean_ci(x, rng=np.random.default_rng(1), n_boot=1001)
        assert a == b and a.low < a.mean < a.high

    def test_paired_difference_of_identical_scores_is_zero(self):
        x = np.random.default_rng(9).uniform(size=30)
        assert bootstrap_difference_ci(x, x, rng=np.random.default_rng(0)) == (0.0, 0.0, 0.0)

    def test_paired_difference_detects_a_better_forecaster(self):
        rng = np.random.default_rng(10)
        outcomes = rng.integers(0, 2, size=300)
        good = np.clip(outcomes + rng.normal(0, 0.2, 300), 0, 1)
        ci = bootstrap_difference_ci(
            brier_score(good, outcomes), brier_score(np.full(300, 0.5), outcomes), rng=rng
        )
        assert ci.high < 0


# --------------------------------------------------------------------------- PIT


class TestPIT:
    def test_calibrated_forecasts_give_uniform_pit(self):
        from scipy.stats import kstest

        rng = np.random.default_rng(12)
        mu = rng.normal(0, 3, size=1000)
        samples = mu[:, None] + rng.standard_normal((1000, 200))
        y = mu + rng.standard_normal(1000)
        pit = pit_values(samples, y)
        assert np.all((0 <= pit) & (pit <= 1))
        assert kstest(pit, "uniform").pvalue > 0.001

    def test_overconfident_forecasts_are_detected(self):
        from scipy.stats import kstest

        rng = np.random.default_rng(13)
        samples = 0.5 * rng.standard_normal((1000, 200))  # sd 0.5, but the truth has sd 1
        pit = pit_values(samples, rng.standard_normal(1000))
        assert kstest(pit, "uniform").pvalue < 0.001
        assert np.mean((pit < 0.1) | (pit > 0.9)) > 0.4  # U-shaped

    def test_randomised_pit_makes_discrete_forecasts_uniform(self):
        from scipy.stats import kstest

        rng = np.random.default_rng(14)
        samples = rng.poisson(3.0, size=(1000, 500)).astype(float)
        y = rng.poisson(3.0, size=1000).astype(float)
        randomised = pit_values(samples, y, rng=np.random.default_rng(15))
        plain = pit_values(samples, y)
        assert np.all((0 <= randomised) & (randomised <= plain))
        assert kstest(randomised, "uniform").pvalue > 0.001
        assert kstest(plain, "uniform").pvalue < 0.001  # ties make the plain ECDF lumpy

    def test_randomised_pit_is_deterministic_given_seed(self):
        x, y = [[1.0, 2.0, 2.0, 3.0]] * 3, [2.0, 2.0, 2.0]
        a = pit_values(x, y, rng=np.random.default_rng(0))
        b = pit_values(x, y, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(a, b)
        assert np.all((0.25 <= a) & (a <= 0.75))


# --------------------------------------------------------------------------- validation


class TestErrors:
    def test_scoring_error_is_a_value_error_and_scenario_error(self):
        assert issubclass(ScoringError, ValueError) and issubclass(ScoringError, ScenarioError)

    @pytest.mark.parametrize("bad", [[1.2], [-0.1]])
    def test_probability_outside_unit_interval(self, bad):
        with pytest.raises(ScoringError, match=r"probs: expected probabilities in \[0, 1\], found"):
            brier_score(bad, [1])

    def test_nan_probability(self):
        with pytest.raises(
            ScoringError, match="probs: expected finite numbers, found NaN at index 1"
        ):
            log_score([0.5, float("nan")], [1, 0])

    def test_nan_observation(self):
        with pytest.raises(ScoringError, match="observations: expected finite numbers, found NaN"):
            crps_ensemble([1.0, 2.0], float("nan"))

    def test_mismatched_lengths(self):
        with pytest.raises(
            ScoringError, match="probs and outcomes: expected the same length, found 2 and 3"
        ):
            brier_score([0.1, 0.2], [0, 1, 1])

    def test_mismatched_ensemble_rows(self):
        with pytest.raises(
            ScoringError, match="one row of samples per observation, found 3 rows and 2"
        ):
            crps_ensemble(np.zeros((3, 4)), [0.0, 1.0])

    def test_wrong_ensemble_shape(self):
        with pytest.raises(
            ScoringError, match="samples and observations: expected samples of shape"
        ):
            crps_ensemble([1.0, 2.0], [1.0, 2.0])

    def test_non_binary_outcome(self):
        with pytest.raises(
            ScoringError,
            match=r"outcomes: expected binary outcomes \(0/1 or bool\), found 2.0 at index 1",
        ):
            brier_score([0.1, 0.2], [0, 2])

    @pytest.mark.parametrize(
        "call",
        [
            lambda: brier_score([], []),
            lambda: crps_ensemble(np.empty((2, 0)), [0.0, 1.0]),
            lambda: bootstrap_mean_ci([], rng=np.random.default_rng(0)),
        ],
    )
    def test_empty_input(self, call):
        with pytest.raises(ScoringError, match="expected at least one value, found an empty array"):
            call()

    def test_non_numeric_input(self):
        with pytest.raises(ScoringError, match="probs: expected real numbers"):
            brier_score(["0.5"], [1])
        with pytest.raises(ScoringError, match="samples: expected an array of numbers"):
            crps_ensemble([[1.0, 2.0], [3.0]], [0.0, 0.0])

    def test_two_dimensional_probs_for_binary_score(self):
        with pytest.raises(
            ScoringError, match=r"probs: expected shape \(n,\), found shape \(2, 2\)"
        ):
            brier_score([[0.1, 0.9], [0.5, 0.5]], [0, 1])

    @pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, -0.1, float("nan")])
    def test_alpha_outside_open_unit_interval(self, alpha):
        with pytest.raises(ScoringError, match=r"alpha: expected a number in \(0, 1\)"):
            interval_score(0.0, 1.0, 0.5, alpha=alpha)

    @pytest.mark.parametrize("level", [0.0, 1.0, 95])
    def test_level_outside_open_unit_interval(self, level):
        with pytest.raises(ScoringError, match=r"level: expected a number in \(0, 1\)"):
            bootstrap_mean_ci([1.0, 2.0], rng=np.random.default_rng(0), level=level)
        with pytest.raises(ScoringError, match=r"level: expected a number in \(0, 1\)"):
            reliability_curve([0.5], [1], level=level)
        with pytest.raises(ScoringError, match=r"level: expected quantile levels in \(0, 1\)"):
            quantile_score(1.0, 2.0, level=level)

    def test_interval_with_lower_above_upper(self):
        with pytest.raises(ScoringError, match="expected lower <= upper, found 2.0 > 1.0"):
            interval_score(2.0, 1.0, 0.0, alpha=0.1)

    def test_non_positive_sigma(self):
        with pytest.raises(
            ScoringError, match="sigma: expected standard deviations > 0, found 0.0"
        ):
            crps_normal(0.0, [1.0, 0.0], 0.0)

    def test_shapes_that_do_not_broadcast(self):
        with pytest.raises(
            ScoringError, match=r"expected shapes that broadcast together, found .*\(2,\).*\(3,\)"
        ):
            quantile_score([1.0, 2.0], [1.0, 2.0, 3.0], level=0.5)

    def test_fair_crps_needs_two_samples(self):
        with pytest.raises(ScoringError, match="at least 2 samples per forecast, found 1"):
            crps_ensemble([[1.0], [2.0]], [0.0, 0.0], fair=True)

    def test_multi_category_errors(self):
        with pytest.raises(ScoringError, match="probs: expected each row to sum to 1, found row 1"):
            brier_score_multi([[0.5, 0.5], [0.5, 0.6]], [0, 1])
        with pytest.raises(
            ScoringError,
            match=r"outcomes: expected category indices \(integers in 0..2\), found 3.0",
        ):
            brier_score_multi([[0.2, 0.3, 0.5]], [3])
        with pytest.raises(ScoringError, match=r"expected category indices .*found 0.5"):
            brier_score_multi([[0.5, 0.5]], [0.5])
        with pytest.raises(ScoringError, match="at least 2 categories"):
            brier_score_multi([[1.0]], [0])

    def test_undefined_skill_against_perfect_reference(self):
        with pytest.raises(
            ScoringError,
            match="baseline_probs: expected a reference forecast with a non-zero Brier",
        ):
            brier_skill_score([0.3, 0.4], [1, 1], base_rate_forecast([1, 1]))

    def test_bad_options(self):
        with pytest.raises(ScoringError, match="n_bins: expected an integer >= 1, found 0"):
            murphy_decomposition([0.5], [1], n_bins=0)
        with pytest.raises(ScoringError, match="n_bins: expected an integer >= 1, found float"):
            reliability_curve([0.5], [1], n_bins=2.5)
        with pytest.raises(ScoringError, match="interval: expected one of"):
            reliability_curve([0.5], [1], interval="exact")
        with pytest.raises(ScoringError, match=r"clamp: expected a number in \[0, 0.5\)"):
            log_score([0.5], [1], clamp=0.5)
        with pytest.raises(ScoringError, match="n_boot: expected an integer >= 1"):
            bootstrap_mean_ci([1.0], rng=np.random.default_rng(0), n_boot=0)
        with pytest.raises(ScoringError, match="mean_brier: expected a mean binary Brier score in"):
            brier_index(1.5)

    def test_rng_must_be_a_generator(self):
        with pytest.raises(
            ScoringError, match="rng: expected a numpy.random.Generator .* found int"
        ):
            bootstrap_mean_ci([1.0, 2.0], rng=42)
        with pytest.raises(ScoringError, match="rng: expected a numpy.random.Generator"):
            pit_values([1.0], 1.0, rng=np.random.RandomState(0))

    def test_options_are_keyword_only(self):
        with pytest.raises(TypeError):
            log_score([0.5], [1], 1e-3)  # type: ignore[misc]
        with pytest.raises(TypeError):
            bootstrap_mean_ci([1.0], np.random.default_rng(0))  # type: ignore[misc]
